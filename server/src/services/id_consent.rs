//! Consent to processing the ID number: given with a submission, or on its own for a number the
//! platform already holds; withdrawn whenever no check is being decided. Each is recorded with
//! the privacy policy version and audited.

use chrono::{DateTime, Utc};

use super::{Actor, ServiceResult, Services};
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::domain::id_consent::{self, ConsentError, IdNumberConsent};
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::UserId;
use crate::domain::policy::PolicyDocument;
use crate::policies;
use crate::store::{self, Connection};

/// `user`'s latest consent, if they ever gave one.
pub async fn latest(services: &Services, user: UserId) -> ServiceResult<Option<IdNumberConsent>> {
    Ok(store::id_consents::latest(&services.db, user).await?)
}

/// Records in `conn` that the actor consented under the current privacy policy, unless their
/// consent is already in force.
pub(super) async fn record_given(conn: &impl Connection, actor: &Actor, now: DateTime<Utc>) -> ServiceResult<()> {
    if store::id_consents::latest(conn, actor.user)
        .await?
        .is_some_and(|consent| consent.live())
    {
        return Ok(());
    }
    let version = policies::current(PolicyDocument::Privacy).at.version;
    store::id_consents::give(conn, actor.user, version, now).await?;
    let entry = actor.audit(AuditAction::IdConsentGiven, AuditSubject::Identity(actor.user));
    store::audit::append(conn, entry, now).await?;
    Ok(())
}

/// The actor consents again to the processing of the number they submitted before.
pub async fn give(services: &Services, actor: &Actor, now: DateTime<Utc>) -> ServiceResult<Result<(), ConsentError>> {
    let status = status_of(services, actor.user).await?;
    let txn = store::begin(&services.db).await?;
    let latest = store::id_consents::latest(&txn, actor.user).await?;
    if let Err(refused) = id_consent::may_give(latest.as_ref(), &status) {
        return Ok(Err(refused));
    }
    record_given(&txn, actor, now).await?;
    store::commit(txn).await?;
    tracing::info!(user = %actor.user, "consent to ID number processing given");
    Ok(Ok(()))
}

/// The actor withdraws their consent: the number stays sealed and is used for nothing (no
/// claims) until they give it again or delete their account.
pub async fn withdraw(
    services: &Services,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), ConsentError>> {
    let status = status_of(services, actor.user).await?;
    let txn = store::begin(&services.db).await?;
    let latest = store::id_consents::latest(&txn, actor.user).await?;
    if let Err(refused) = id_consent::may_withdraw(latest.as_ref(), &status) {
        return Ok(Err(refused));
    }
    if !store::id_consents::withdraw(&txn, actor.user, now).await? {
        return Ok(Err(ConsentError::NotGiven));
    }
    let entry = actor.audit(AuditAction::IdConsentWithdrawn, AuditSubject::Identity(actor.user));
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    tracing::info!(user = %actor.user, "consent to ID number processing withdrawn");
    Ok(Ok(()))
}

async fn status_of(services: &Services, user: UserId) -> ServiceResult<IdentityStatus> {
    Ok(store::identities::find(&services.db, user)
        .await?
        .map_or(IdentityStatus::Unverified, |record| record.status))
}
