//! Reports (投诉举报): anyone, signed in or not, reports a collection, a collectible or an
//! issuer under a category, and follows it by its ticket. A reviewer decides each report once,
//! upholding it (the platform acted on it) or dismissing it, always with a reason code and a
//! reason the reporter reads.

use std::fmt;

use super::claim_code::ClaimCode;
use super::ids::{CollectionId, IssuerId, TokenId};
use super::screening::ReasonCode;

/// Shortest and longest description, in characters.
pub const MIN_DESCRIPTION_CHARS: usize = 10;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// What a report is about, as the form offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportCategory {
    IllegalContent,
    Infringement,
    Financialisation,
    Fraud,
    Other,
}

impl ReportCategory {
    pub const ALL: [ReportCategory; 5] = [
        ReportCategory::IllegalContent,
        ReportCategory::Infringement,
        ReportCategory::Financialisation,
        ReportCategory::Fraud,
        ReportCategory::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportCategory::IllegalContent => "illegal_content",
            ReportCategory::Infringement => "infringement",
            ReportCategory::Financialisation => "financialisation",
            ReportCategory::Fraud => "fraud",
            ReportCategory::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The reason code a decision on such a report names unless the reviewer picks another.
    pub fn reason_code(self) -> ReasonCode {
        match self {
            ReportCategory::IllegalContent => ReasonCode::Illegal,
            ReportCategory::Infringement => ReasonCode::Copyright,
            ReportCategory::Financialisation => ReasonCode::Financialisation,
            ReportCategory::Fraud => ReasonCode::Fraud,
            ReportCategory::Other => ReasonCode::Other,
        }
    }

    /// Illegal content goes first in the reviewers' queue: it is taken down at once.
    pub fn urgent(self) -> bool {
        self == ReportCategory::IllegalContent
    }
}

/// What is reported (and, written the same way, what an appeal is about).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTarget {
    Collection(CollectionId),
    Token(TokenId),
    Issuer(IssuerId),
}

impl ReportTarget {
    pub fn kind(self) -> &'static str {
        match self {
            ReportTarget::Collection(_) => "collection",
            ReportTarget::Token(_) => "token",
            ReportTarget::Issuer(_) => "issuer",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            ReportTarget::Collection(id) => id.0,
            ReportTarget::Token(id) => id.0,
            ReportTarget::Issuer(id) => id.0,
        }
    }

    /// From its stored or linked parts, `collection` and `12` say.
    pub fn from_parts(kind: &str, id: i64) -> Option<Self> {
        match kind {
            "collection" => Some(ReportTarget::Collection(CollectionId(id))),
            "token" => Some(ReportTarget::Token(TokenId(id))),
            "issuer" => Some(ReportTarget::Issuer(IssuerId(id))),
            _ => None,
        }
    }

    /// `collection:12`, as report links carry it.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        Self::from_parts(kind, id.parse().ok().filter(|id| *id > 0)?)
    }

    /// The public page of what is reported.
    pub fn page(self) -> String {
        match self {
            ReportTarget::Collection(id) => format!("/collections/{id}"),
            ReportTarget::Token(id) => format!("/tokens/{id}"),
            ReportTarget::Issuer(id) => format!("/issuers/{id}"),
        }
    }
}

impl fmt::Display for ReportTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

/// A report's ticket: the claim code's form (16 Crockford base-32 characters, 80 random bits),
/// so it can be typed back and never guessed; whoever holds it follows the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket(ClaimCode);

impl Ticket {
    pub fn generate(random: [u8; 10]) -> Self {
        Ticket(ClaimCode::generate(random))
    }

    pub fn parse(text: &str) -> Option<Self> {
        ClaimCode::parse(text).map(Ticket)
    }

    /// The canonical form, as in `/reports/{ticket}`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Four dash-separated groups, as people read it.
    pub fn grouped(&self) -> String {
        self.0.grouped()
    }
}

/// Why a report was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportRefusal {
    #[error("describe the problem in at least {MIN_DESCRIPTION_CHARS} characters")]
    DescriptionTooShort,
    #[error("the description is longer than {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
}

/// A description as the reporter wrote it, trimmed and within bounds.
pub fn description(text: &str) -> Result<String, ReportRefusal> {
    let text = text.trim();
    match text.chars().count() {
        n if n < MIN_DESCRIPTION_CHARS => Err(ReportRefusal::DescriptionTooShort),
        n if n > MAX_DESCRIPTION_CHARS => Err(ReportRefusal::DescriptionTooLong),
        _ => Ok(text.to_owned()),
    }
}

/// How a reviewer decides a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportDecision {
    /// The report was right and the platform acted on it.
    Uphold,
    /// Nothing the report names breaks the rules.
    Dismiss,
}

impl ReportDecision {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "uphold" => Some(ReportDecision::Uphold),
            "dismiss" => Some(ReportDecision::Dismiss),
            _ => None,
        }
    }
}

/// Where a report stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStatus {
    Open,
    Upheld { code: ReasonCode, reason: String },
    Dismissed { code: ReasonCode, reason: String },
}

/// A decision the report's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportTransitionError {
    #[error("the report was already decided")]
    Decided,
    #[error("a decision on a report needs a reason the reporter can read")]
    ReasonRequired,
}

impl ReportStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Upheld { .. } => "upheld",
            ReportStatus::Dismissed { .. } => "dismissed",
        }
    }

    pub fn from_parts(status: &str, code: Option<&str>, reason: Option<&str>) -> Option<Self> {
        let decided = || Some((ReasonCode::parse(code?)?, reason?.to_owned()));
        match status {
            "open" => Some(ReportStatus::Open),
            "upheld" => decided().map(|(code, reason)| ReportStatus::Upheld { code, reason }),
            "dismissed" => decided().map(|(code, reason)| ReportStatus::Dismissed { code, reason }),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<ReasonCode> {
        match self {
            ReportStatus::Open => None,
            ReportStatus::Upheld { code, .. } | ReportStatus::Dismissed { code, .. } => Some(*code),
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            ReportStatus::Open => None,
            ReportStatus::Upheld { reason, .. } | ReportStatus::Dismissed { reason, .. } => Some(reason),
        }
    }

    /// The status `decision` leads to, with its reason code and the reviewer's reason.
    pub fn decide(
        &self,
        decision: ReportDecision,
        code: ReasonCode,
        reason: &str,
    ) -> Result<Self, ReportTransitionError> {
        if *self != ReportStatus::Open {
            return Err(ReportTransitionError::Decided);
        }
        let reason = super::given_reason(reason).ok_or(ReportTransitionError::ReasonRequired)?;
        Ok(match decision {
            ReportDecision::Uphold => ReportStatus::Upheld { code, reason },
            ReportDecision::Dismiss => ReportStatus::Dismissed { code, reason },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_from_links_and_name_their_pages() {
        assert_eq!(
            ReportTarget::parse("collection:12"),
            Some(ReportTarget::Collection(CollectionId(12)))
        );
        assert_eq!(
            ReportTarget::parse("token:3").map(|t| t.page()),
            Some("/tokens/3".to_owned())
        );
        assert_eq!(
            ReportTarget::parse("issuer:7").map(|t| t.to_string()),
            Some("issuer:7".to_owned())
        );
        for bad in ["collection", "user:1", "token:-1", "token:0", "issuer:x", ""] {
            assert_eq!(ReportTarget::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_ticket_reads_back_however_it_is_typed() {
        let ticket = Ticket::generate([7; 10]);
        assert_eq!(Ticket::parse(&ticket.grouped().to_lowercase()), Some(ticket.clone()));
        assert_eq!(ticket.as_str().len(), 16);
        assert_eq!(Ticket::parse("not a ticket"), None);
    }

    #[test]
    fn descriptions_are_sentences_within_bounds() {
        assert_eq!(description("  太短了  "), Err(ReportRefusal::DescriptionTooShort));
        assert_eq!(description(&"长".repeat(2_001)), Err(ReportRefusal::DescriptionTooLong));
        assert_eq!(
            description("  该藏品图片含有违法内容，请尽快处理。 ").as_deref(),
            Ok("该藏品图片含有违法内容，请尽快处理。")
        );
    }

    #[test]
    fn a_report_is_decided_once_with_a_reason() {
        let open = ReportStatus::Open;
        assert_eq!(
            open.decide(ReportDecision::Uphold, ReasonCode::Illegal, "  "),
            Err(ReportTransitionError::ReasonRequired)
        );
        let upheld = open
            .decide(ReportDecision::Uphold, ReasonCode::Illegal, "已冻结该藏品系列")
            .unwrap();
        assert_eq!(upheld.as_str(), "upheld");
        assert_eq!(upheld.code(), Some(ReasonCode::Illegal));
        assert_eq!(
            upheld.decide(ReportDecision::Dismiss, ReasonCode::Other, "again"),
            Err(ReportTransitionError::Decided)
        );
        let stored = ReportStatus::from_parts("upheld", Some("illegal"), Some("已冻结该藏品系列"));
        assert_eq!(stored, Some(upheld));
        assert_eq!(ReportStatus::from_parts("upheld", None, Some("x")), None);
        assert_eq!(ReportStatus::from_parts("open", None, None), Some(ReportStatus::Open));
    }

    #[test]
    fn illegal_content_is_urgent_and_each_category_has_its_reason_code() {
        assert!(ReportCategory::IllegalContent.urgent());
        assert!(!ReportCategory::Fraud.urgent());
        for category in ReportCategory::ALL {
            assert_eq!(ReportCategory::parse(category.as_str()), Some(category));
        }
        assert_eq!(ReportCategory::Infringement.reason_code(), ReasonCode::Copyright);
    }
}
