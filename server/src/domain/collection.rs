//! Collections: what an issuer offers for free claiming, and the review life cycle every one
//! goes through before anyone outside the issuer and the reviewers can see it.
//!
//! ```text
//! draft -> submitted -> auto_rejected(findings) | in_review
//! in_review -> approved | changes_requested(reason) | rejected(reason)
//! approved -> published -> closed
//! published -> frozen(reason) -> published (unfrozen)
//! edits after submission (title, text, artwork) -> submitted again
//! ```
//!
//! A case above the four-eyes threshold needs approvals from two different reviewers.
//! Publication is final for the content: what is on the ledger is never edited, and a rejection
//! is final too (the issuer starts a new collection).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use moderation::Verdict;

use super::account::UserId;
use super::visible_text::{TextKind, check_visible};

/// Most tokens one collection may have.
pub const MAX_EDITION_SIZE: u32 = 1_000_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// A collection's id in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CollectionId(pub i64);

impl std::fmt::Display for CollectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Claim windows are entered and shown in Beijing time (UTC+8), the time of the people who
/// run and attend the campaigns; every page shows times in it.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Reads an HTML `datetime-local` value (`2026-12-01T10:00`, seconds optional) as Beijing time.
pub fn parse_local_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .and_then(|naive| naive.and_local_timezone(beijing()).single())
        .map(|t| t.to_utc())
}

/// The `datetime-local` value for a stored time.
pub fn local_time_input(time: DateTime<Utc>) -> String {
    time.with_timezone(&beijing()).format("%Y-%m-%dT%H:%M").to_string()
}

/// How collectors get a token of the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimMode {
    /// Any verified person may claim while the window is open and supply lasts.
    Open,
    /// Only with a one-time code printed on a product or handed out at an event (以实带虚).
    ClaimCodes,
    /// Only verified people whose email address the issuer listed.
    Allowlist,
}

impl ClaimMode {
    pub const ALL: [ClaimMode; 3] = [ClaimMode::Open, ClaimMode::ClaimCodes, ClaimMode::Allowlist];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimMode::Open => "open",
            ClaimMode::ClaimCodes => "claim_codes",
            ClaimMode::Allowlist => "allowlist",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(ClaimMode::Open),
            "claim_codes" => Some(ClaimMode::ClaimCodes),
            "allowlist" => Some(ClaimMode::Allowlist),
            _ => None,
        }
    }
}

/// What an issuer typed into the collection form.
#[derive(Debug, Clone, Default)]
pub struct CollectionForm {
    pub title: String,
    pub description: String,
    pub edition_size: String,
    pub per_person_limit: String,
    pub claim_starts_at: Option<DateTime<Utc>>,
    pub claim_ends_at: Option<DateTime<Utc>>,
    pub claim_mode: String,
}

/// The checked content and terms of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionTerms {
    pub title: String,
    pub description: String,
    pub edition_size: u32,
    pub per_person_limit: u32,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub claim_mode: ClaimMode,
}

/// One problem with the form, named by field so the page can show it next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("enter a title of at most {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("a description has at most {MAX_DESCRIPTION_CHARS} characters")]
    Description,
    #[error("the edition size is a whole number from 1 to {MAX_EDITION_SIZE}")]
    EditionSize,
    #[error("the per-person limit is a whole number from 1 to the edition size")]
    PerPersonLimit,
    #[error("the claim window needs a start and an end, the end after the start")]
    Window,
    #[error("the claim window has already ended")]
    WindowOver,
    #[error("the title holds an invisible or direction-changing character")]
    TitleHidden,
    #[error("the description holds an invisible or direction-changing character")]
    DescriptionHidden,
    #[error("choose how collectors claim: open, with claim codes, or by allowlist")]
    ClaimMode,
}

impl CollectionForm {
    /// Checks every field and reports every problem at once. An empty per-person limit means 1.
    /// A window that has ended by `now` is refused: nobody could ever claim.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<CollectionTerms, Vec<TermsError>> {
        let mut errors = Vec::new();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            errors.push(TermsError::Title);
        } else if check_visible(title, TextKind::Name).is_err() {
            errors.push(TermsError::TitleHidden);
        }
        let description = self.description.trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(TermsError::Description);
        } else if check_visible(description, TextKind::Prose).is_err() {
            errors.push(TermsError::DescriptionHidden);
        }
        let edition_size = self
            .edition_size
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_EDITION_SIZE).contains(n));
        if edition_size.is_none() {
            errors.push(TermsError::EditionSize);
        }
        let limit = self.per_person_limit.trim();
        let per_person_limit = if limit.is_empty() {
            Some(1)
        } else {
            limit
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1 && edition_size.is_none_or(|size| *n <= size))
        };
        if per_person_limit.is_none() {
            errors.push(TermsError::PerPersonLimit);
        }
        let window = match (self.claim_starts_at, self.claim_ends_at) {
            (Some(start), Some(end)) if end > start => Some((start, end)),
            _ => None,
        };
        match window {
            None => errors.push(TermsError::Window),
            Some((_, end)) if end <= now => errors.push(TermsError::WindowOver),
            Some(_) => {}
        }
        let claim_mode = ClaimMode::parse(self.claim_mode.trim());
        if claim_mode.is_none() {
            errors.push(TermsError::ClaimMode);
        }
        match (edition_size, per_person_limit, window, claim_mode) {
            (Some(edition_size), Some(per_person_limit), Some((claim_starts_at, claim_ends_at)), Some(claim_mode))
                if errors.is_empty() =>
            {
                Ok(CollectionTerms {
                    title: title.to_owned(),
                    description: description.to_owned(),
                    edition_size,
                    per_person_limit,
                    claim_starts_at,
                    claim_ends_at,
                    claim_mode,
                })
            }
            _ => Err(errors),
        }
    }
}

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
    super::given_reason(text).ok_or(CollectionTransitionError::ReasonRequired)
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
    use chrono::TimeDelta;

    use super::*;

    /// The day the test forms are filled in: their window opens then.
    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc()
    }

    fn form() -> CollectionForm {
        let start = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc();
        CollectionForm {
            title: "  新华社 · 2026 年度照片  ".into(),
            description: "十张年度新闻照片。\nTen photographs of the year.".into(),
            edition_size: "10000".into(),
            per_person_limit: String::new(),
            claim_starts_at: Some(start),
            claim_ends_at: Some(start + TimeDelta::days(30)),
            claim_mode: "open".into(),
        }
    }

    #[test]
    fn a_complete_form_gives_terms() {
        let terms = form().parse(now()).unwrap();
        assert_eq!(terms.title, "新华社 · 2026 年度照片");
        assert_eq!((terms.edition_size, terms.per_person_limit), (10_000, 1));
        assert_eq!(terms.claim_mode, ClaimMode::Open);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = CollectionForm {
            title: "x".repeat(MAX_TITLE_CHARS + 1),
            description: "bell\u{7}".into(),
            edition_size: "0".into(),
            per_person_limit: "-1".into(),
            claim_starts_at: form().claim_ends_at,
            claim_ends_at: form().claim_starts_at,
            claim_mode: "auction".into(),
        };
        assert_eq!(
            bad.parse(now()).unwrap_err(),
            vec![
                TermsError::Title,
                TermsError::DescriptionHidden,
                TermsError::EditionSize,
                TermsError::PerPersonLimit,
                TermsError::Window,
                TermsError::ClaimMode,
            ]
        );
    }

    #[test]
    fn sizes_and_limits_have_bounds() {
        for (size, limit, ok) in [
            ("1", "1", true),
            ("1000000", "", true),
            ("1000001", "", false),
            ("10", "10", true),
            ("10", "11", false),
            ("ten", "", false),
            ("10", "0", false),
            (" 10 ", " 2 ", true),
        ] {
            let candidate = CollectionForm {
                edition_size: size.into(),
                per_person_limit: limit.into(),
                ..form()
            };
            assert_eq!(candidate.parse(now()).is_ok(), ok, "size {size:?} limit {limit:?}");
        }
        let no_window = CollectionForm {
            claim_ends_at: None,
            ..form()
        };
        assert_eq!(no_window.parse(now()).unwrap_err(), vec![TermsError::Window]);
        let multi_line_title = CollectionForm {
            title: "two\nlines".into(),
            ..form()
        };
        assert_eq!(
            multi_line_title.parse(now()).unwrap_err(),
            vec![TermsError::TitleHidden]
        );
    }

    #[test]
    fn a_window_that_has_already_ended_is_refused() {
        let ends = form().claim_ends_at.unwrap();
        assert!(
            form().parse(ends - TimeDelta::minutes(1)).is_ok(),
            "still open for a minute"
        );
        assert_eq!(form().parse(ends).unwrap_err(), vec![TermsError::WindowOver]);
        assert_eq!(
            form().parse(ends + TimeDelta::days(400)).unwrap_err(),
            vec![TermsError::WindowOver]
        );
    }

    #[test]
    fn hidden_characters_in_the_title_or_description_are_refused() {
        let spoofed = CollectionForm {
            title: "限量\u{202E}品藏".into(),
            description: "正文\u{200B}里有零宽空格".into(),
            ..form()
        };
        assert_eq!(
            spoofed.parse(now()).unwrap_err(),
            vec![TermsError::TitleHidden, TermsError::DescriptionHidden]
        );
    }

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
    fn claim_windows_are_beijing_time() {
        let start = parse_local_time("2026-12-01T10:00").unwrap();
        assert_eq!(start.to_rfc3339(), "2026-12-01T02:00:00+00:00");
        assert_eq!(
            parse_local_time("2026-12-01T10:00:30").unwrap().timestamp() - start.timestamp(),
            30
        );
        assert_eq!(local_time_input(start), "2026-12-01T10:00");
        for bad in ["", "2026-12-01", "2026-13-01T10:00", "tomorrow"] {
            assert_eq!(parse_local_time(bad), None, "{bad:?}");
        }
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
