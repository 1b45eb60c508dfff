//! Issuers' API keys: made by an issuer's administrators, shown once (kept sealed for the one
//! who made it for a quarter of an hour), stored only as a hash, revocable, with their last use
//! recorded; and the issuer a key authenticates.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::domain::audit::{AuditAction, AuditDetails, AuditSubject};
use crate::domain::ids::{ApiKeyId, IssuerId};
use crate::domain::issuer::Issuer;
use crate::domain::visible_text::{TextKind, check_visible};
use crate::services::forms::{self, Submission};
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store;
use crate::store::api_keys::ApiKey;

/// How long a new API key stays visible to the member who created it.
pub const NEW_KEY_SHOWN: Duration = Duration::minutes(15);

/// A new API key as kept for the console to show again.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewApiKey {
    pub key: String,
}

/// The issuer's keys, newest first.
pub async fn list(services: &Services, issuer: IssuerId) -> ServiceResult<Vec<ApiKey>> {
    Ok(store::api_keys::list(&services.db, issuer).await?)
}

/// The label a key is saved under: trimmed, at most 100 characters, `API key` when empty;
/// `None` if it holds invisible or control characters.
pub fn label(typed: &str) -> Option<String> {
    let typed = typed.trim();
    check_visible(typed, TextKind::Name).ok()?;
    let label: String = typed.chars().take(100).collect();
    Some(if label.is_empty() { "API key".to_owned() } else { label })
}

/// Makes a key for an active issuer, kept sealed for its maker at `location` (where the
/// console shows it, from the form) for [`NEW_KEY_SHOWN`]; answers where it is shown.
pub async fn create(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    label: &str,
    submission: &Submission,
    location: &str,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    if !issuer.status.is_active() {
        return Err(ServiceError::IssuerInactive);
    }
    let key = format!("ks_{}", crypto::random_token());
    let prefix: String = key.chars().take(10).collect();
    let txn = store::begin(&services.db).await?;
    store::api_keys::create(
        &txn,
        issuer.id,
        label,
        &prefix,
        crypto::sha3_hex(key.as_bytes()),
        actor.user,
        now,
    )
    .await?;
    let mut entry = actor.audit(AuditAction::ApiKeyCreated, AuditSubject::Issuer(issuer.id));
    entry.details = Some(AuditDetails::ApiKeyCreated {
        prefix,
        label: label.to_owned(),
    });
    store::audit::append(&txn, entry, now).await?;
    let shown = NewApiKey { key };
    let location = forms::finish(services, txn, submission, location, Some((&shown, NEW_KEY_SHOWN)), now).await?;
    tracing::info!(issuer = %issuer.id, "API key created");
    Ok(location)
}

/// Revokes a live key of `issuer`.
pub async fn revoke(
    services: &Services,
    actor: &Actor,
    issuer: IssuerId,
    key: ApiKeyId,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    if !store::api_keys::revoke(&txn, issuer, key, now).await? {
        return Err(ServiceError::NotFound);
    }
    let mut entry = actor.audit(AuditAction::ApiKeyRevoked, AuditSubject::Issuer(issuer));
    entry.details = Some(AuditDetails::ApiKeyRevoked { key: key.0 });
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Why an API request is not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefused {
    /// No live key: missing, unknown or revoked.
    Unknown,
    /// The key's issuer is suspended or revoked.
    IssuerInactive,
}

/// The active issuer a live key belongs to (its use is recorded, to the minute).
pub async fn authenticate(
    services: &Services,
    key: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<Issuer, KeyRefused>> {
    let hash = crypto::sha3_hex(key.trim().as_bytes());
    let Some(issuer) = store::api_keys::authenticate(&services.db, &hash, now).await? else {
        return Ok(Err(KeyRefused::Unknown));
    };
    let Some(issuer) = store::issuers::find(&services.db, issuer).await? else {
        return Ok(Err(KeyRefused::Unknown));
    };
    if !issuer.status.is_active() {
        return Ok(Err(KeyRefused::IssuerInactive));
    }
    Ok(Ok(issuer))
}
