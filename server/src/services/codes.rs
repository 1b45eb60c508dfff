//! How issuers hand out access to a collection: batches of one-time claim codes (80 random
//! bits each, stored only as hashes, in the clear only in the answer that made them, and kept
//! sealed for the member who made them for an hour), and allowlists of email addresses.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::forms::{self, Submission};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::crypto;
use crate::domain::allowlist::{BadRow, MAX_ALLOWLIST_ROWS, parse_allowlist};
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::claim::CodeState;
use crate::domain::claim_code::{ClaimCode, MAX_CODES_PER_BATCH};
use crate::domain::collection::Collection;
use crate::domain::ids::TokenId;
use crate::domain::issuer::Issuer;
use crate::store::{self, Connection};

/// How long a new batch's codes stay on its sheet for the member who made it. After that they
/// exist nowhere in the clear.
pub const BATCH_SHOWN: Duration = Duration::hours(1);

/// How long an allowlist upload's report stays available to the member who sent it.
pub const REPORT_SHOWN: Duration = Duration::days(1);

/// A batch as kept for the member who made it, to print or download again for a while.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptBatch {
    pub batch: i32,
    /// Canonical codes.
    pub codes: Vec<String>,
}

impl KeptBatch {
    pub fn codes(&self) -> Vec<ClaimCode> {
        self.codes.iter().filter_map(|c| ClaimCode::parse(c)).collect()
    }
}

/// What an allowlist upload did, kept to show on its report page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AllowlistReport {
    pub read: usize,
    pub added: usize,
    /// (line, content, problem) of each row left out.
    pub bad: Vec<(usize, String, String)>,
}

/// Refuses a batch the collection does not take now.
fn check_batch(issuer: &Issuer, collection: &Collection, count: u32) -> ServiceResult<()> {
    if !issuer.status.is_active() {
        return Err(ServiceError::IssuerInactive);
    }
    if !collection.takes_codes(true) {
        return Err(ServiceError::CollectionState);
    }
    if !(1..=MAX_CODES_PER_BATCH).contains(&count) {
        return Err(ServiceError::BadInput);
    }
    Ok(())
}

/// Generates and stores `count` codes of `collection` in `conn`, audited (`actor` is `None`
/// for a batch asked for with an API key); answers the batch and the codes.
async fn new_batch(
    conn: &impl Connection,
    collection: &Collection,
    count: u32,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> ServiceResult<(i32, Vec<ClaimCode>)> {
    let codes: Vec<ClaimCode> = (0..count)
        .map(|_| {
            let random = crypto::random_bytes();
            let mut bits = [0u8; 10];
            bits.copy_from_slice(&random[..10]);
            ClaimCode::generate(bits)
        })
        .collect();
    let hashes: Vec<[u8; 32]> = codes.iter().map(ClaimCode::digest).collect();
    let batch = store::claim_codes::add_batch(conn, collection.id, &hashes, now).await?;
    let mut entry = AuditEntry::new(
        actor.map(|a| a.user),
        AuditAction::CollectionCodesGenerated,
        AuditSubject::Collection(collection.id),
        actor.and_then(|a| a.request_id.clone()),
    );
    entry.details = Some(AuditDetails::CodesGenerated {
        batch,
        count,
        through_api: actor.is_none(),
    });
    store::audit::append(conn, entry, now).await?;
    Ok((batch, codes))
}

/// A member's batch, kept sealed for them at `location` (which the caller derives from the
/// form) for [`BATCH_SHOWN`]; answers where it is shown.
#[allow(clippy::too_many_arguments)]
pub async fn generate(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    collection: &Collection,
    count: u32,
    submission: &Submission,
    location: &str,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    check_batch(issuer, collection, count)?;
    let txn = store::begin(&services.db).await?;
    let (batch, codes) = new_batch(&txn, collection, count, Some(actor), now).await?;
    let kept = KeptBatch {
        batch,
        codes: codes.iter().map(|c| c.as_str().to_owned()).collect(),
    };
    forms::finish(services, txn, submission, location, Some((&kept, BATCH_SHOWN)), now).await
}

/// A batch asked for with the issuer's API key: the codes are in this answer only.
pub async fn generate_for_api(
    services: &Services,
    issuer: &Issuer,
    collection: &Collection,
    count: u32,
    now: DateTime<Utc>,
) -> ServiceResult<(i32, Vec<ClaimCode>)> {
    check_batch(issuer, collection, count)?;
    let txn = store::begin(&services.db).await?;
    let made = new_batch(&txn, collection, count, None, now).await?;
    store::commit(txn).await?;
    Ok(made)
}

/// A claim code as stored: its collection, whether it was used, and the token it minted.
#[derive(Debug, Clone)]
pub struct FoundCode {
    pub collection: Collection,
    pub state: CodeState,
    pub token: Option<TokenId>,
}

/// The code's collection and standing; `None` for a code nobody issued.
pub async fn find(services: &Services, code: &ClaimCode) -> ServiceResult<Option<FoundCode>> {
    let Some(stored) = store::claim_codes::find(&services.db, &code.digest()).await? else {
        return Ok(None);
    };
    let collection = store::collections::find(&services.db, stored.collection)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Some(FoundCode {
        collection,
        state: stored.state,
        token: stored.token,
    }))
}

/// Adds the addresses of an allowlist CSV (one per row, first column) to `collection`'s list;
/// rows that are not addresses are left out and reported. Answers where the report is shown.
#[allow(clippy::too_many_arguments)]
pub async fn upload_allowlist(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    collection: &Collection,
    csv: &[u8],
    submission: &Submission,
    location: &str,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    if !collection.takes_allowlist(issuer.status.is_active()) {
        return Err(ServiceError::CollectionState);
    }
    let text = std::str::from_utf8(csv).map_err(|_| ServiceError::BadInput)?;
    let (emails, bad) = parse_allowlist(text);
    if emails.len() > MAX_ALLOWLIST_ROWS {
        return Err(ServiceError::TooLarge);
    }
    let txn = store::begin(&services.db).await?;
    let added = store::allowlists::add(&txn, collection.id, &emails, now).await?;
    let mut entry = actor.audit(
        AuditAction::CollectionAllowlistUploaded,
        AuditSubject::Collection(collection.id),
    );
    entry.details = Some(AuditDetails::AllowlistUploaded {
        read: emails.len(),
        added,
        left_out: bad.len(),
    });
    store::audit::append(&txn, entry, now).await?;
    let report = AllowlistReport {
        read: emails.len(),
        added,
        bad: bad.iter().map(report_row).collect(),
    };
    forms::finish(services, txn, submission, location, Some((&report, REPORT_SHOWN)), now).await
}

fn report_row(row: &BadRow) -> (usize, String, String) {
    (row.line, row.content.clone(), row.problem.as_str().to_owned())
}

/// Whether `email` is on `collection`'s allowlist.
pub(crate) async fn on_allowlist(services: &Services, collection: &Collection, email: &str) -> ServiceResult<bool> {
    Ok(store::allowlists::contains(&services.db, collection.id, email).await?)
}
