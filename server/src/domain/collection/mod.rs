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
use super::page::{Cursor, PageError, TimeKey};
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
    /// A reviewer found the artwork generated or synthesised by AI, whatever the issuer declared.
    pub ai_flagged: bool,
    /// Tokens minted so far.
    pub claimed_count: u64,
    /// The ledger queue row of its `collection_published` entry, once published.
    pub ledger_queue_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Bumped by every change: a decision or edit on an older version is refused.
    pub version: i32,
}

/// Which public collections a list shows: one issuer's, and those whose title contains a text.
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    pub issuer: Option<IssuerId>,
    pub title: Option<String>,
}

/// A place in the public list, which shows the collections open for claims first and then
/// the others, each part newest published first: the part, and the publication time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    pub open: bool,
    pub published: TimeKey,
}

impl Cursor for PublicKey {
    fn parse(text: &str) -> Result<Self, PageError> {
        let (part, published) = text.split_once('_').ok_or(PageError::Cursor)?;
        let open = match part {
            "open" => true,
            "more" => false,
            _ => return Err(PageError::Cursor),
        };
        Ok(PublicKey {
            open,
            published: TimeKey::parse(published)?,
        })
    }

    fn encode(&self) -> String {
        let part = if self.open { "open" } else { "more" };
        format!("{part}_{}", self.published.encode())
    }
}

/// What a visitor can do with a public collection now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Open,
    Upcoming,
    Ended,
    SoldOut,
    /// Frozen by a reviewer.
    Paused,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Upcoming => "upcoming",
            Phase::Ended => "ended",
            Phase::SoldOut => "sold_out",
            Phase::Paused => "paused",
        }
    }
}

impl Collection {
    /// Whether the artwork is labelled AI-generated wherever it is shown (the explicit label)
    /// and in its image files (the implicit one): as the issuer declared it, or as a reviewer
    /// flagged it. Nothing else decides: the platform does not guess.
    pub fn ai_generated(&self) -> bool {
        self.terms.ai_declared || self.ai_flagged
    }

    /// Tokens still to be claimed.
    pub fn remaining(&self) -> u64 {
        u64::from(self.terms.edition_size).saturating_sub(self.claimed_count)
    }

    /// What a visitor can do with it at `now`.
    pub fn phase(&self, now: DateTime<Utc>) -> Phase {
        match self.status {
            CollectionStatus::Frozen { .. } => Phase::Paused,
            CollectionStatus::Closed => Phase::Ended,
            _ if now < self.terms.claim_starts_at => Phase::Upcoming,
            _ if now >= self.terms.claim_ends_at => Phase::Ended,
            _ if self.remaining() == 0 => Phase::SoldOut,
            _ => Phase::Open,
        }
    }

    /// Whether its issuer may generate claim codes now: a claim-code collection, once approved
    /// and while it is live, of an active issuer.
    pub fn takes_codes(&self, issuer_active: bool) -> bool {
        issuer_active
            && self.terms.claim_mode == ClaimMode::ClaimCodes
            && matches!(
                self.status,
                CollectionStatus::Approved | CollectionStatus::Published | CollectionStatus::Frozen { .. }
            )
    }

    /// Whether its issuer may upload addresses to its allowlist now: an allowlist collection
    /// of an active issuer.
    pub fn takes_allowlist(&self, issuer_active: bool) -> bool {
        issuer_active && self.terms.claim_mode == ClaimMode::Allowlist
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_in_the_public_list_reads_back_as_written() {
        for open in [true, false] {
            let key = PublicKey {
                open,
                published: TimeKey {
                    at: DateTime::from_timestamp_nanos(1_765_000_000_123_456_789),
                    id: 42,
                },
            };
            assert_eq!(PublicKey::parse(&key.encode()), Ok(key));
        }
        for bad in [
            "", "open", "open_", "open_12", "gone_1_2", "open_x_2", "more_1_y", "1_2",
        ] {
            assert_eq!(PublicKey::parse(bad), Err(PageError::Cursor), "{bad}");
        }
    }
}
