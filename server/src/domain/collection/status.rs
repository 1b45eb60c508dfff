//! The review life cycle every collection goes through before anyone outside the issuer and
//! the reviewers can see it.
//!
//! ```text
//! draft -> submitted -> auto_rejected(findings) | in_review
//! in_review -> approved | changes_requested(reason) | rejected(reason)
//! approved -> published -> closed
//! published -> frozen(reason) -> published (unfrozen)
//! rejected -> in_review (an appeal overturned the rejection)
//! edits after submission (title, text, artwork) -> submitted again
//! ```
//!
//! A case above the four-eyes threshold needs approvals from two different reviewers.
//! Publication is final for the content: what is on the ledger is never edited, and a rejection
//! is final too (the issuer starts a new collection) unless an appeal overturns it.

use moderation::Verdict;

use crate::domain::ids::UserId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionStatus {
    Draft,
    /// Waiting for automated screening.
    Submitted,
    AutoRejected,
    /// With the reviewers; `first_approval` is set once one reviewer of a four-eyes case approved.
    InReview {
        first_approval: Option<UserId>,
    },
    ChangesRequested {
        reason: String,
    },
    Rejected {
        reason: String,
    },
    Approved,
    Published,
    Closed,
    Frozen {
        reason: String,
    },
}

/// A move the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionTransitionError {
    #[error("a collection cannot go from {from} to {to}")]
    Illegal { from: &'static str, to: &'static str },
    #[error("this decision needs a reason")]
    ReasonRequired,
    #[error("a four-eyes case needs its second approval from another reviewer")]
    SameReviewer,
    #[error("the issuer is not active, so it cannot submit or publish")]
    IssuerInactive,
    #[error("published content is on the ledger and cannot be edited; a rejection is final")]
    NotEditable,
}

fn reason(text: &str) -> Result<String, CollectionTransitionError> {
    crate::domain::given_reason(text).ok_or(CollectionTransitionError::ReasonRequired)
}

impl CollectionStatus {
    /// One collection in each state (reasons and approvals empty), for whatever lists every state.
    pub const ALL: [CollectionStatus; 10] = [
        CollectionStatus::Draft,
        CollectionStatus::Submitted,
        CollectionStatus::AutoRejected,
        CollectionStatus::InReview { first_approval: None },
        CollectionStatus::ChangesRequested { reason: String::new() },
        CollectionStatus::Rejected { reason: String::new() },
        CollectionStatus::Approved,
        CollectionStatus::Published,
        CollectionStatus::Closed,
        CollectionStatus::Frozen { reason: String::new() },
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            CollectionStatus::Draft => "draft",
            CollectionStatus::Submitted => "submitted",
            CollectionStatus::AutoRejected => "auto_rejected",
            CollectionStatus::InReview { .. } => "in_review",
            CollectionStatus::ChangesRequested { .. } => "changes_requested",
            CollectionStatus::Rejected { .. } => "rejected",
            CollectionStatus::Approved => "approved",
            CollectionStatus::Published => "published",
            CollectionStatus::Closed => "closed",
            CollectionStatus::Frozen { .. } => "frozen",
        }
    }

    /// Rebuilds a stored status from its name, its reason and the first approval of a
    /// four-eyes case.
    pub fn from_parts(status: &str, reason: Option<&str>, first_approval: Option<UserId>) -> Option<Self> {
        let reason = || reason.unwrap_or_default().to_owned();
        Some(match status {
            "draft" => CollectionStatus::Draft,
            "submitted" => CollectionStatus::Submitted,
            "auto_rejected" => CollectionStatus::AutoRejected,
            "in_review" => CollectionStatus::InReview { first_approval },
            "changes_requested" => CollectionStatus::ChangesRequested { reason: reason() },
            "rejected" => CollectionStatus::Rejected { reason: reason() },
            "approved" => CollectionStatus::Approved,
            "published" => CollectionStatus::Published,
            "closed" => CollectionStatus::Closed,
            "frozen" => CollectionStatus::Frozen { reason: reason() },
            _ => return None,
        })
    }

    /// The reviewer's words attached to a request for changes, a rejection or a freeze.
    pub fn reason(&self) -> Option<&str> {
        match self {
            CollectionStatus::ChangesRequested { reason }
            | CollectionStatus::Rejected { reason }
            | CollectionStatus::Frozen { reason } => Some(reason),
            _ => None,
        }
    }

    /// The first approval of a four-eyes case still waiting for its second.
    pub fn first_approval(&self) -> Option<UserId> {
        match self {
            CollectionStatus::InReview { first_approval } => *first_approval,
            _ => None,
        }
    }

    /// Whether strangers may see the collection (everyone else gets a 404).
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            CollectionStatus::Published | CollectionStatus::Closed | CollectionStatus::Frozen { .. }
        )
    }

    fn illegal(&self, to: &'static str) -> CollectionTransitionError {
        CollectionTransitionError::Illegal {
            from: self.as_str(),
            to,
        }
    }

    /// The issuer sends a draft, or a collection it was asked to change, to screening.
    pub fn submit(&self, issuer_active: bool) -> Result<Self, CollectionTransitionError> {
        if !issuer_active {
            return Err(CollectionTransitionError::IssuerInactive);
        }
        match self {
            CollectionStatus::Draft | CollectionStatus::ChangesRequested { .. } | CollectionStatus::AutoRejected => {
                Ok(CollectionStatus::Submitted)
            }
            _ => Err(self.illegal("submitted")),
        }
    }

    /// Automated screening decides whether a human sees the case at all.
    pub fn screened(&self, screening: Verdict) -> Result<Self, CollectionTransitionError> {
        match (self, screening) {
            (CollectionStatus::Submitted, Verdict::AutoReject) => Ok(CollectionStatus::AutoRejected),
            (CollectionStatus::Submitted, _) => Ok(CollectionStatus::InReview { first_approval: None }),
            _ => Err(self.illegal("screened")),
        }
    }

    /// Whether `reviewer` may take the review lock: the case is in review, and they did not
    /// already give its first approval (the second must come from someone else, whom their
    /// lock would only keep out).
    pub fn claimable_by(&self, reviewer: UserId) -> Result<(), CollectionTransitionError> {
        match self {
            CollectionStatus::InReview {
                first_approval: Some(first),
            } if *first == reviewer => Err(CollectionTransitionError::SameReviewer),
            CollectionStatus::InReview { .. } => Ok(()),
            _ => Err(self.illegal("claimed")),
        }
    }

    /// A reviewer approves; a four-eyes case stays in review until a second reviewer agrees.
    pub fn approve(&self, reviewer: UserId, four_eyes: bool) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::InReview { first_approval: None } if four_eyes => Ok(CollectionStatus::InReview {
                first_approval: Some(reviewer),
            }),
            CollectionStatus::InReview {
                first_approval: Some(first),
            } if *first == reviewer => Err(CollectionTransitionError::SameReviewer),
            CollectionStatus::InReview { .. } => Ok(CollectionStatus::Approved),
            _ => Err(self.illegal("approved")),
        }
    }

    pub fn request_changes(&self, why: &str) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::InReview { .. } => Ok(CollectionStatus::ChangesRequested { reason: reason(why)? }),
            _ => Err(self.illegal("changes_requested")),
        }
    }

    pub fn reject(&self, why: &str) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::InReview { .. } => Ok(CollectionStatus::Rejected { reason: reason(why)? }),
            _ => Err(self.illegal("rejected")),
        }
    }

    /// An appeal overturned the rejection: the case goes back to the reviewers, whole.
    pub fn reconsider(&self) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::Rejected { .. } => Ok(CollectionStatus::InReview { first_approval: None }),
            _ => Err(self.illegal("in_review")),
        }
    }

    /// The issuer publishes an approved collection; this is when it goes on the ledger.
    pub fn publish(&self, issuer_active: bool) -> Result<Self, CollectionTransitionError> {
        if !issuer_active {
            return Err(CollectionTransitionError::IssuerInactive);
        }
        match self {
            CollectionStatus::Approved => Ok(CollectionStatus::Published),
            _ => Err(self.illegal("published")),
        }
    }

    pub fn close(&self) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::Published => Ok(CollectionStatus::Closed),
            _ => Err(self.illegal("closed")),
        }
    }

    /// A reviewer revokes a public collection whole: its claims end for good (a collection
    /// already closed stays closed).
    pub fn revoke(&self) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::Published | CollectionStatus::Frozen { .. } | CollectionStatus::Closed => {
                Ok(CollectionStatus::Closed)
            }
            _ => Err(self.illegal("closed")),
        }
    }

    /// A reviewer stops claims on a published collection.
    pub fn freeze(&self, why: &str) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::Published => Ok(CollectionStatus::Frozen { reason: reason(why)? }),
            _ => Err(self.illegal("frozen")),
        }
    }

    pub fn unfreeze(&self) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::Frozen { .. } => Ok(CollectionStatus::Published),
            _ => Err(self.illegal("published")),
        }
    }

    /// The issuer changes the title, text or artwork: a draft stays a draft, anything already
    /// submitted goes back through screening and review (approvals given so far are void).
    pub fn edit(&self) -> Result<Self, CollectionTransitionError> {
        match self {
            CollectionStatus::Draft => Ok(CollectionStatus::Draft),
            CollectionStatus::Submitted
            | CollectionStatus::AutoRejected
            | CollectionStatus::InReview { .. }
            | CollectionStatus::ChangesRequested { .. }
            | CollectionStatus::Approved => Ok(CollectionStatus::Submitted),
            CollectionStatus::Rejected { .. }
            | CollectionStatus::Published
            | CollectionStatus::Closed
            | CollectionStatus::Frozen { .. } => Err(CollectionTransitionError::NotEditable),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_rejection_is_reconsidered_and_it_goes_back_to_review_whole() {
        let rejected = CollectionStatus::Rejected {
            reason: "侵权".into()
        };
        assert_eq!(
            rejected.reconsider(),
            Ok(CollectionStatus::InReview { first_approval: None })
        );
        for other in CollectionStatus::ALL.iter().filter(|s| s.as_str() != "rejected") {
            assert!(other.reconsider().is_err(), "{}", other.as_str());
        }
    }

    use super::*;

    #[test]
    fn the_happy_path_from_draft_to_closed() {
        let reviewer = UserId(7);
        let status = CollectionStatus::Draft
            .submit(true)
            .and_then(|s| s.screened(Verdict::LowRisk))
            .and_then(|s| s.approve(reviewer, false))
            .and_then(|s| s.publish(true))
            .unwrap();
        assert_eq!(status, CollectionStatus::Published);
        assert!(status.is_public());
        let frozen = status.freeze("complaint under investigation").unwrap();
        assert!(frozen.is_public(), "a frozen collection stays visible, claims stop");
        assert_eq!(frozen.unfreeze().unwrap().close().unwrap(), CollectionStatus::Closed);
    }

    /// Revoking a whole collection ends it from any public state; one never public has nothing
    /// to revoke.
    #[test]
    fn a_revoked_collection_is_closed_for_good() {
        let frozen = CollectionStatus::Frozen { reason: "x".into() };
        for public in [CollectionStatus::Published, frozen, CollectionStatus::Closed] {
            assert_eq!(public.revoke().unwrap(), CollectionStatus::Closed, "{public:?}");
        }
        for never_public in [
            CollectionStatus::Draft,
            CollectionStatus::Approved,
            CollectionStatus::Submitted,
        ] {
            assert!(never_public.revoke().is_err(), "{never_public:?}");
        }
        assert!(
            CollectionStatus::Closed.publish(true).is_err(),
            "a closed collection stays closed"
        );
    }

    #[test]
    fn screening_can_reject_before_any_human_sees_it() {
        let submitted = CollectionStatus::Draft.submit(true).unwrap();
        assert_eq!(
            submitted.screened(Verdict::AutoReject).unwrap(),
            CollectionStatus::AutoRejected
        );
        assert_eq!(
            submitted.screened(Verdict::NeedsReview).unwrap(),
            CollectionStatus::InReview { first_approval: None }
        );
        assert!(CollectionStatus::Draft.screened(Verdict::LowRisk).is_err());
        assert_eq!(
            CollectionStatus::AutoRejected.submit(true).unwrap(),
            CollectionStatus::Submitted,
            "the issuer may fix and resubmit"
        );
    }

    #[test]
    fn the_first_approver_cannot_take_the_lock_again() {
        let (first, second) = (UserId(1), UserId(2));
        let waiting = CollectionStatus::InReview { first_approval: None };
        assert_eq!(waiting.claimable_by(first), Ok(()));
        let half = waiting.approve(first, true).unwrap();
        assert_eq!(half.claimable_by(first), Err(CollectionTransitionError::SameReviewer));
        assert_eq!(half.claimable_by(second), Ok(()));
        assert!(CollectionStatus::Published.claimable_by(second).is_err());
    }

    #[test]
    fn four_eyes_needs_two_different_reviewers() {
        let (alice, bob) = (UserId(1), UserId(2));
        let case = CollectionStatus::InReview { first_approval: None };
        let once = case.approve(alice, true).unwrap();
        assert_eq!(
            once,
            CollectionStatus::InReview {
                first_approval: Some(alice)
            }
        );
        assert!(!once.is_public());
        assert_eq!(once.approve(alice, true), Err(CollectionTransitionError::SameReviewer));
        assert_eq!(once.approve(bob, true).unwrap(), CollectionStatus::Approved);
        assert_eq!(case.approve(alice, false).unwrap(), CollectionStatus::Approved);
    }

    #[test]
    fn decisions_need_reasons_and_a_case_in_review() {
        let case = CollectionStatus::InReview { first_approval: None };
        assert_eq!(case.reject("  "), Err(CollectionTransitionError::ReasonRequired));
        assert_eq!(
            case.request_changes("请删除“升值”字样").unwrap(),
            CollectionStatus::ChangesRequested {
                reason: "请删除“升值”字样".into()
            }
        );
        assert!(CollectionStatus::Draft.reject("no").is_err());
        assert!(CollectionStatus::Approved.approve(UserId(1), false).is_err());
        assert!(CollectionStatus::Draft.publish(true).is_err());
        assert!(CollectionStatus::Published.freeze("").is_err());
    }

    #[test]
    fn inactive_issuers_cannot_submit_or_publish() {
        assert_eq!(
            CollectionStatus::Draft.submit(false),
            Err(CollectionTransitionError::IssuerInactive)
        );
        assert_eq!(
            CollectionStatus::Approved.publish(false),
            Err(CollectionTransitionError::IssuerInactive)
        );
    }

    #[test]
    fn edits_after_submission_go_back_through_review() {
        assert_eq!(CollectionStatus::Draft.edit().unwrap(), CollectionStatus::Draft);
        for status in [
            CollectionStatus::Submitted,
            CollectionStatus::AutoRejected,
            CollectionStatus::InReview {
                first_approval: Some(UserId(1)),
            },
            CollectionStatus::ChangesRequested { reason: "x".into() },
            CollectionStatus::Approved,
        ] {
            assert_eq!(status.edit().unwrap(), CollectionStatus::Submitted, "{status:?}");
        }
        for status in [
            CollectionStatus::Published,
            CollectionStatus::Closed,
            CollectionStatus::Frozen { reason: "x".into() },
            CollectionStatus::Rejected { reason: "x".into() },
        ] {
            assert_eq!(status.edit(), Err(CollectionTransitionError::NotEditable), "{status:?}");
        }
    }

    #[test]
    fn stored_statuses_round_trip() {
        for status in [
            CollectionStatus::Draft,
            CollectionStatus::Submitted,
            CollectionStatus::AutoRejected,
            CollectionStatus::InReview {
                first_approval: Some(UserId(3)),
            },
            CollectionStatus::ChangesRequested { reason: "r".into() },
            CollectionStatus::Rejected { reason: "r".into() },
            CollectionStatus::Approved,
            CollectionStatus::Published,
            CollectionStatus::Closed,
            CollectionStatus::Frozen { reason: "r".into() },
        ] {
            let back = CollectionStatus::from_parts(status.as_str(), status.reason(), status.first_approval());
            assert_eq!(back, Some(status));
        }
        assert_eq!(CollectionStatus::from_parts("listed", None, None), None);
    }

    #[test]
    fn only_published_collections_are_public() {
        for status in [
            CollectionStatus::Draft,
            CollectionStatus::Submitted,
            CollectionStatus::AutoRejected,
            CollectionStatus::InReview { first_approval: None },
            CollectionStatus::Approved,
            CollectionStatus::Rejected { reason: "x".into() },
        ] {
            assert!(!status.is_public(), "{status:?}");
        }
    }
}
