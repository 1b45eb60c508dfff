//! The platform's rules as plain Rust: no HTTP, no SQL, no clock reads.
//!
//! Every function here takes the facts it needs (including "now") as arguments, so that each
//! rule is unit-tested without a server or a database. Handlers parse input into these types
//! and the store persists what these functions decide.

pub mod account;
pub mod account_deletion;
pub mod age;
pub mod allowlist;
pub mod appeal;
pub mod attestation;
pub mod audit;
pub mod blob_key;
pub mod claim;
pub mod claim_code;
pub mod claim_stats;
pub mod client_address;
pub mod collection;
pub mod credit_code;
pub mod data_export;
pub mod documents;
pub mod email_change;
pub mod email_token;
pub mod filing_dates;
pub mod filings;
pub mod governance;
pub mod id_consent;
pub mod identity;
pub mod ids;
pub mod issuer;
pub mod login_throttle;
pub mod outbox;
pub mod oversight;
pub mod page;
pub mod phone;
pub mod policy;
pub mod report;
pub mod review_queue;
pub mod role;
pub mod screening;
pub mod second_factor;
pub mod token;
pub mod transfer_limit;
pub mod visible_text;

/// A decision's reason as the reviewer wrote it, trimmed; `None` when there is none, which every
/// decision that must be explained refuses.
fn given_reason(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
