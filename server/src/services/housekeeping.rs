//! Forgetting what the platform no longer needs: expired sessions, old log-in failures, expired
//! form results, the transfer-attempt allowances that are full again, expired copies of
//! people's data and the records of accounts deleted long enough ago; and identities sealed
//! before person keys are moved under one. Each is done on its own, so one failing does not
//! keep the others.

use chrono::{DateTime, Utc};

use super::Services;
use crate::domain::login_throttle;
use crate::store;

/// One pass of clean-up at `now`; failures are logged and tried again next time.
pub async fn prune(services: &Services, now: DateTime<Utc>) {
    let db = &services.db;
    if let Err(err) = store::sessions::prune_expired(db, now).await {
        tracing::warn!(error = %err, "pruning sessions failed");
    }
    if let Err(err) = store::sms::prune(db, now).await {
        tracing::warn!(error = %err, "pruning texted codes failed");
    }
    if let Err(err) = store::second_factors::prune_challenges(db, now).await {
        tracing::warn!(error = %err, "pruning log-ins waiting for a second factor failed");
    }
    if let Err(err) = store::login_failures::prune(db, now - login_throttle::WINDOW).await {
        tracing::warn!(error = %err, "pruning login failures failed");
    }
    if let Err(err) = store::form_results::prune(db, now).await {
        tracing::warn!(error = %err, "pruning form results failed");
    }
    if let Err(err) = store::transfer_attempts::prune_allowances(db, now).await {
        tracing::warn!(error = %err, "pruning transfer allowances failed");
    }
    if let Err(err) = super::data_export::expire(services, now).await {
        tracing::warn!(error = %err, "deleting expired copies of personal data failed");
    }
    if let Err(err) = super::identity::reseal_legacy(services, now).await {
        tracing::warn!(error = %err, "moving identities under person keys failed");
    }
    if let Err(err) = super::account_deletion::purge_due(services, now).await {
        tracing::warn!(error = %err, "purging the records of deleted accounts failed");
    }
}
