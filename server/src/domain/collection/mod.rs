//! Collections: what an issuer offers for free claiming ([`terms`]), the artwork it shows, and
//! the review life cycle every one goes through before anyone outside the issuer and the
//! reviewers can see it ([`status`]).

pub mod status;
pub mod terms;

use chrono::{DateTime, Utc};
use moderation::PerceptualHash;

pub use self::status::{CollectionStatus, CollectionTransitionError};
pub use self::terms::{
    ClaimMode, CollectionForm, CollectionTerms, MAX_DESCRIPTION_CHARS, MAX_EDITION_SIZE, MAX_TITLE_CHARS, TermsError,
    beijing, local_time_input, parse_local_time,
};
use super::blob_key::BlobKey;
use super::ids::{CollectionId, IssuerId, UserId};
use super::screening::Finding;

/// A collection's artwork: the upload as sent, a clean re-encoding and two thumbnails in the
/// blob store, and what screening needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artwork {
    /// SHA3-256 of the bytes as uploaded: what the ledger entry commits to.
    pub content_hash: [u8; 32],
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub original_key: BlobKey,
    pub full_key: BlobKey,
    pub large_key: BlobKey,
    pub small_key: BlobKey,
    pub perceptual_hash: PerceptualHash,
}

/// A collection: its terms and artwork, its review state and what screening found.
#[derive(Debug, Clone)]
pub struct Collection {
    pub id: CollectionId,
    pub issuer: IssuerId,
    pub status: CollectionStatus,
    /// Why a reviewer sent it back or rejected it, as a reason code.
    pub reason_code: Option<String>,
    pub terms: CollectionTerms,
    pub artwork: Artwork,
    pub risk_score: u8,
    pub findings: Vec<Finding>,
    /// The term lists (and their versions) that screened it.
    pub list_versions: String,
    /// The reviewer holding the case, and until when.
    pub claimed_by: Option<UserId>,
    pub claimed_until: Option<DateTime<Utc>>,
    /// Tokens minted so far.
    pub claimed_count: u64,
    /// The ledger queue row of its `collection_published` entry, once published.
    pub ledger_queue_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Bumped by every change: a decision or edit on an older version is refused.
    pub version: i32,
}

impl Collection {
    /// Tokens still to be claimed.
    pub fn remaining(&self) -> u64 {
        u64::from(self.terms.edition_size).saturating_sub(self.claimed_count)
    }
}
