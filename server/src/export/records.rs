//! The records of an export bundle, one flat row type per file so the same rows read as JSON
//! and as CSV. They carry no collector's real-name identity: a token names its holder's account
//! number only, which a regulator turns into a person through a reveal. Issuers' contacts are
//! the business contacts they filed at KYB, and audit rows are as reviewers read them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::hex;
use crate::domain::collection::Collection;
use crate::domain::issuer::Issuer;
use crate::domain::token::Token;
use crate::store::audit::AuditRow;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRecord {
    pub id: i64,
    pub legal_name: String,
    pub credit_code: String,
    pub icp_filing: String,
    pub blockchain_filing: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
}

impl From<&Issuer> for IssuerRecord {
    fn from(issuer: &Issuer) -> Self {
        Self {
            id: issuer.id.0,
            legal_name: issuer.legal_name.clone(),
            credit_code: issuer.credit_code.clone(),
            icp_filing: issuer.icp_filing.clone(),
            blockchain_filing: issuer.blockchain_filing.clone(),
            status: issuer.status.as_str().to_owned(),
            status_reason: issuer.status.reason().map(str::to_owned),
            contact_name: issuer.contact_name.clone(),
            contact_email: issuer.contact_email.to_string(),
            contact_phone: issuer.contact_phone.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRecord {
    pub id: i64,
    pub issuer_id: i64,
    pub title: String,
    pub description: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub reason_code: Option<String>,
    pub edition_size: u32,
    pub per_person_limit: u32,
    pub claim_mode: String,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub minimum_age: Option<u8>,
    pub ai_declared: bool,
    pub ai_flagged: bool,
    /// SHA-256 of the artwork as uploaded, hex: what the ledger's entries name.
    pub content_sha256: String,
    pub risk_score: u8,
    /// The screening findings, as JSON.
    pub findings: String,
    pub claimed: u64,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Its `collection_published` entry, once a checkpoint in the bundle covers it.
    pub ledger_index: Option<u64>,
}

impl CollectionRecord {
    pub fn new(collection: &Collection, ledger_index: Option<u64>) -> Self {
        let terms = &collection.terms;
        Self {
            id: collection.id.0,
            issuer_id: collection.issuer.0,
            title: terms.title.clone(),
            description: terms.description.clone(),
            status: collection.status.as_str().to_owned(),
            status_reason: collection.status.reason().map(str::to_owned),
            reason_code: collection.reason_code.clone(),
            edition_size: terms.edition_size,
            per_person_limit: terms.per_person_limit,
            claim_mode: terms.claim_mode.as_str().to_owned(),
            claim_starts_at: terms.claim_starts_at,
            claim_ends_at: terms.claim_ends_at,
            minimum_age: terms.minimum_age.map(|age| age.years()),
            ai_declared: terms.ai_declared,
            ai_flagged: collection.ai_flagged,
            content_sha256: hex(&collection.artwork.content_hash),
            risk_score: collection.risk_score,
            findings: serde_json::to_string(&collection.findings).unwrap_or_default(),
            claimed: collection.claimed_count,
            created_at: collection.created_at,
            submitted_at: collection.submitted_at,
            published_at: collection.published_at,
            ledger_index,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: i64,
    pub collection_id: i64,
    pub serial: u32,
    /// The holder's account number, not their identity.
    pub holder_account: i64,
    pub status: String,
    pub status_reason: Option<String>,
    pub claimed_at: DateTime<Utc>,
    /// Its `token_minted` entry, once a checkpoint in the bundle covers it.
    pub ledger_index: Option<u64>,
}

impl TokenRecord {
    pub fn new(token: &Token, ledger_index: Option<u64>) -> Self {
        Self {
            id: token.id.0,
            collection_id: token.collection.0,
            serial: token.serial,
            holder_account: token.holder.0,
            status: token.status.as_str().to_owned(),
            status_reason: token.status.reason().map(str::to_owned),
            claimed_at: token.claimed_at,
            ledger_index,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_account: Option<i64>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub reason: Option<String>,
    /// The platform's recorded details, as JSON.
    pub details: Option<String>,
    pub request_id: Option<String>,
}

impl From<&AuditRow> for AuditRecord {
    fn from(row: &AuditRow) -> Self {
        Self {
            id: row.id,
            at: row.at,
            actor_account: row.actor_user_id,
            action: row.action.clone(),
            subject_type: row.subject_type.clone(),
            subject_id: row.subject_id.clone(),
            before_state: row.before_state.clone(),
            after_state: row.after_state.clone(),
            reason: row.reason.clone(),
            details: row.details.clone(),
            request_id: row.request_id.clone(),
        }
    }
}

/// `rows` as a JSON array and as CSV with a header line.
pub fn json_and_csv<T: Serialize>(rows: &[T]) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let json = serde_json::to_vec_pretty(rows).map_err(std::io::Error::other)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    for row in rows {
        csv.serialize(row).map_err(std::io::Error::other)?;
    }
    let csv = csv.into_inner().map_err(|e| e.into_error())?;
    Ok((json, csv))
}
