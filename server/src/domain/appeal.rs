//! Appeals: who is on the receiving end of a decision may ask, within a window, for another
//! reviewer to look again. Only decisions that can be reversed are appealed (an issuer
//! suspended, a collection frozen or rejected, a collectible frozen); a revocation is final
//! and follows a freeze or a suspension that could be appealed. The reviewer who decided never
//! decides the appeal.

use chrono::{DateTime, Duration, Utc};

use super::audit::AuditAction;
use super::ids::UserId;

/// Shortest and longest statement, in characters.
pub const MIN_STATEMENT_CHARS: usize = 10;
pub const MAX_STATEMENT_CHARS: usize = 2_000;

/// A decision one may appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealableDecision {
    IssuerSuspended,
    CollectionFrozen,
    CollectionRejected,
    TokenFrozen,
}

impl AppealableDecision {
    pub const ALL: [AppealableDecision; 4] = [
        AppealableDecision::IssuerSuspended,
        AppealableDecision::CollectionFrozen,
        AppealableDecision::CollectionRejected,
        AppealableDecision::TokenFrozen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealableDecision::IssuerSuspended => "issuer_suspended",
            AppealableDecision::CollectionFrozen => "collection_frozen",
            AppealableDecision::CollectionRejected => "collection_rejected",
            AppealableDecision::TokenFrozen => "token_frozen",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// The audit action that records the decision.
    pub fn action(self) -> AuditAction {
        match self {
            AppealableDecision::IssuerSuspended => AuditAction::IssuerSuspended,
            AppealableDecision::CollectionFrozen => AuditAction::CollectionFrozen,
            AppealableDecision::CollectionRejected => AuditAction::CollectionRejected,
            AppealableDecision::TokenFrozen => AuditAction::TokenFrozen,
        }
    }

    /// The subject kind it is taken on, as the audit log names it.
    pub fn subject_kind(self) -> &'static str {
        match self {
            AppealableDecision::IssuerSuspended => "issuer",
            AppealableDecision::CollectionFrozen | AppealableDecision::CollectionRejected => "collection",
            AppealableDecision::TokenFrozen => "token",
        }
    }

    /// The status the subject is in while the decision stands.
    pub fn standing_status(self) -> &'static str {
        match self {
            AppealableDecision::IssuerSuspended => "suspended",
            AppealableDecision::CollectionFrozen | AppealableDecision::TokenFrozen => "frozen",
            AppealableDecision::CollectionRejected => "rejected",
        }
    }

    /// The status the subject is in once the decision is reversed.
    pub fn reversed_status(self) -> &'static str {
        match self {
            AppealableDecision::IssuerSuspended => "approved",
            AppealableDecision::CollectionFrozen => "published",
            AppealableDecision::CollectionRejected => "in_review",
            AppealableDecision::TokenFrozen => "active",
        }
    }
}

/// How long after a decision it may be appealed (`platform.appeal_window_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealWindow(Duration);

/// A window outside what the platform allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the appeal window is between 1 and 90 days")]
pub struct AppealWindowError;

impl AppealWindow {
    pub const DEFAULT_DAYS: u16 = 7;

    pub fn days(days: u16) -> Result<Self, AppealWindowError> {
        if (1..=90).contains(&days) {
            Ok(Self(Duration::days(i64::from(days))))
        } else {
            Err(AppealWindowError)
        }
    }

    /// When the window of a decision made at `decided_at` closes: from that instant on it may
    /// no longer be appealed.
    pub fn closes(self, decided_at: DateTime<Utc>) -> DateTime<Utc> {
        decided_at + self.0
    }
}

impl Default for AppealWindow {
    fn default() -> Self {
        Self(Duration::days(i64::from(Self::DEFAULT_DAYS)))
    }
}

/// Why an appeal was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppealRefusal {
    #[error("state your case in at least {MIN_STATEMENT_CHARS} characters")]
    StatementTooShort,
    #[error("the statement is longer than {MAX_STATEMENT_CHARS} characters")]
    StatementTooLong,
    #[error("the appeal window for this decision has closed")]
    WindowClosed,
    #[error("this decision was already appealed")]
    AlreadyAppealed,
    #[error("there is no decision here that can be appealed")]
    NothingToAppeal,
}

/// A statement as the appellant wrote it, trimmed and within bounds.
pub fn statement(text: &str) -> Result<String, AppealRefusal> {
    let text = text.trim();
    match text.chars().count() {
        n if n < MIN_STATEMENT_CHARS => Err(AppealRefusal::StatementTooShort),
        n if n > MAX_STATEMENT_CHARS => Err(AppealRefusal::StatementTooLong),
        _ => Ok(text.to_owned()),
    }
}

/// How the second reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealOutcome {
    /// The decision stands.
    Uphold,
    /// The decision is reversed.
    Overturn,
}

impl AppealOutcome {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "uphold" => Some(AppealOutcome::Uphold),
            "overturn" => Some(AppealOutcome::Overturn),
            _ => None,
        }
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealStatus {
    Open,
    Upheld { reason: String },
    Overturned { reason: String },
}

/// A decision on an appeal that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppealTransitionError {
    #[error("the appeal was already decided")]
    Decided,
    #[error("a decision on an appeal needs a reason the appellant can read")]
    ReasonRequired,
    #[error("the reviewer who made the decision, or who appealed it, cannot decide its appeal")]
    OwnDecision,
}

impl AppealStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            AppealStatus::Open => "open",
            AppealStatus::Upheld { .. } => "upheld",
            AppealStatus::Overturned { .. } => "overturned",
        }
    }

    pub fn from_parts(status: &str, reason: Option<&str>) -> Option<Self> {
        match (status, reason) {
            ("open", _) => Some(AppealStatus::Open),
            ("upheld", Some(reason)) => Some(AppealStatus::Upheld {
                reason: reason.to_owned(),
            }),
            ("overturned", Some(reason)) => Some(AppealStatus::Overturned {
                reason: reason.to_owned(),
            }),
            _ => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            AppealStatus::Open => None,
            AppealStatus::Upheld { reason } | AppealStatus::Overturned { reason } => Some(reason),
        }
    }

    /// The status `reviewer` decides, who is neither `parties`' decider nor its appellant.
    pub fn decide(
        &self,
        reviewer: UserId,
        parties: Parties,
        outcome: AppealOutcome,
        reason: &str,
    ) -> Result<Self, AppealTransitionError> {
        check_appeal_reviewer(reviewer, parties)?;
        if *self != AppealStatus::Open {
            return Err(AppealTransitionError::Decided);
        }
        let reason = super::given_reason(reason).ok_or(AppealTransitionError::ReasonRequired)?;
        Ok(match outcome {
            AppealOutcome::Uphold => AppealStatus::Upheld { reason },
            AppealOutcome::Overturn => AppealStatus::Overturned { reason },
        })
    }
}

/// Who an appeal is between: the reviewer who decided (none for a decision of the platform
/// itself) and the person who appealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties {
    pub decided_by: Option<UserId>,
    pub appellant: UserId,
}

/// Neither the reviewer who made a decision nor the one who appealed it may claim or decide
/// the appeal.
pub fn check_appeal_reviewer(reviewer: UserId, parties: Parties) -> Result<(), AppealTransitionError> {
    if parties.decided_by == Some(reviewer) || parties.appellant == reviewer {
        return Err(AppealTransitionError::OwnDecision);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn the_window_is_open_until_its_last_instant() {
        let window = AppealWindow::days(7).unwrap();
        let decided = at("2026-12-01T10:00:00Z");
        assert_eq!(window.closes(decided), at("2026-12-08T10:00:00Z"));
        assert_eq!(AppealWindow::default(), window);
        assert_eq!(AppealWindow::days(0), Err(AppealWindowError));
        assert_eq!(AppealWindow::days(91), Err(AppealWindowError));
    }

    #[test]
    fn another_reviewer_decides_once_with_a_reason() {
        let (first, second, appellant) = (UserId(1), UserId(2), UserId(3));
        let parties = Parties {
            decided_by: Some(first),
            appellant,
        };
        let open = AppealStatus::Open;
        assert_eq!(
            open.decide(first, parties, AppealOutcome::Overturn, "looks fine"),
            Err(AppealTransitionError::OwnDecision)
        );
        assert_eq!(
            open.decide(appellant, parties, AppealOutcome::Overturn, "my own case"),
            Err(AppealTransitionError::OwnDecision),
            "a reviewer who appealed does not decide their own appeal"
        );
        assert_eq!(
            open.decide(second, parties, AppealOutcome::Overturn, " "),
            Err(AppealTransitionError::ReasonRequired)
        );
        let overturned = open
            .decide(second, parties, AppealOutcome::Overturn, "证据显示为原创作品")
            .unwrap();
        assert_eq!(overturned.as_str(), "overturned");
        assert_eq!(
            overturned.decide(second, parties, AppealOutcome::Uphold, "again"),
            Err(AppealTransitionError::Decided)
        );
        assert_eq!(
            AppealStatus::from_parts("overturned", Some("证据显示为原创作品")),
            Some(overturned)
        );
        assert_eq!(AppealStatus::from_parts("upheld", None), None);
        // A decision by the platform itself (no reviewer) may be decided by any other reviewer.
        let platform = Parties {
            decided_by: None,
            appellant,
        };
        assert!(
            open.decide(first, platform, AppealOutcome::Uphold, "规则适用无误")
                .is_ok()
        );
    }

    #[test]
    fn decisions_name_their_action_subject_and_standing_status() {
        for decision in AppealableDecision::ALL {
            assert_eq!(AppealableDecision::parse(decision.as_str()), Some(decision));
            assert_ne!(decision.standing_status(), decision.reversed_status());
        }
        assert_eq!(AppealableDecision::TokenFrozen.subject_kind(), "token");
        assert_eq!(AppealableDecision::CollectionRejected.standing_status(), "rejected");
    }

    #[test]
    fn statements_are_sentences_within_bounds() {
        assert_eq!(statement("不服"), Err(AppealRefusal::StatementTooShort));
        assert_eq!(statement(&"理".repeat(2_001)), Err(AppealRefusal::StatementTooLong));
        assert!(statement("该作品为我方原创，附著作权登记证书编号。").is_ok());
    }
}
