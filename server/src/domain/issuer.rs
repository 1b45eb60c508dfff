//! Issuers: the organisations that issue collectibles, and the life cycle of their
//! registration (KYB).
//!
//! ```text
//! draft -> submitted -> approved | rejected(reason) -> submitted (resubmission)
//! approved -> suspended(reason) -> approved (reinstated) | revoked(reason)
//! approved -> revoked(reason)
//! ```
//!
//! Revocation is final. A suspended or revoked issuer can do nothing new; what it already
//! issued stays valid and verifiable.

use chrono::{DateTime, NaiveDate, Utc};

use super::account::Email;
use super::age::MinimumAge;
use super::blob_key::BlobKey;
use super::credit_code::{CreditCodeError, UnifiedSocialCreditCode};
use super::documents::DocumentKind;
use super::filing_dates::{Deadline, Filing, FilingDateFields, FilingDates, RecheckPeriod};
use super::filings::{BlockchainFilingNumber, FilingError, IcpFilingNumber};
use super::ids::{DocumentId, IssuerId, UserId};
use super::visible_text::{TextKind, check_visible};

/// An issuer: the organisation's registration as applied for, and where it stands.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub id: IssuerId,
    pub legal_name: String,
    pub credit_code: String,
    pub icp_filing: String,
    pub blockchain_filing: String,
    pub contact_name: String,
    pub contact_email: Email,
    pub contact_phone: String,
    /// The credit code's organisation code failed its own check: reviewers are warned.
    pub org_code_warning: bool,
    pub status: IssuerStatus,
    /// Who applied; the issuer's first administrator.
    pub created_by: UserId,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The reviewer holding the case, and until when.
    pub claimed_by: Option<UserId>,
    pub claimed_until: Option<DateTime<Utc>>,
    /// Bumped by every change: a decision on an older version is refused.
    pub version: i32,
    pub filings: IssuerFilings,
}

/// How long an issuer's filings stay valid, as a reviewer last accepted them, and a renewal
/// waiting for a reviewer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerFilings {
    pub dates: FilingDates,
    /// The day a reviewer last accepted the filings (on approval or renewal): filings without
    /// a validity date are checked again within the re-check period from it.
    pub checked_on: Option<NaiveDate>,
    /// When claims paused because a filing ran out; cleared when a renewal is accepted.
    pub lapsed_at: Option<DateTime<Utc>>,
    pub renewal: Option<FilingRenewal>,
}

/// New validity dates an issuer sent, waiting for a reviewer to accept them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingRenewal {
    pub dates: FilingDates,
    pub submitted_at: DateTime<Utc>,
}

impl IssuerFilings {
    /// The filing that runs out first, once a reviewer has accepted the filings.
    pub fn deadline(&self, recheck: RecheckPeriod) -> Option<Deadline> {
        self.checked_on.and(self.dates.deadline(self.checked_on, recheck))
    }

    /// Whether claims are paused because a filing ran out.
    pub fn lapsed(&self) -> bool {
        self.lapsed_at.is_some()
    }
}

/// A document an issuer filed: the newest of each kind is the one on file.
#[derive(Debug, Clone)]
pub struct IssuerDocument {
    pub id: DocumentId,
    pub kind: DocumentKind,
    pub blob_key: BlobKey,
    pub content_type: String,
    pub size: u64,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerStatus {
    Draft,
    Submitted,
    Approved,
    Rejected { reason: String },
    Suspended { reason: String },
    Revoked { reason: String },
}

/// A registration move that the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerTransitionError {
    #[error("an issuer cannot go from {from} to {to}")]
    Illegal { from: &'static str, to: &'static str },
    #[error("this decision needs a reason")]
    ReasonRequired,
}

fn reason(text: &str) -> Result<String, IssuerTransitionError> {
    super::given_reason(text).ok_or(IssuerTransitionError::ReasonRequired)
}

impl IssuerStatus {
    /// One issuer in each state (reasons empty), for whatever lists every state.
    pub const ALL: [IssuerStatus; 6] = [
        IssuerStatus::Draft,
        IssuerStatus::Submitted,
        IssuerStatus::Approved,
        IssuerStatus::Rejected { reason: String::new() },
        IssuerStatus::Suspended { reason: String::new() },
        IssuerStatus::Revoked { reason: String::new() },
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            IssuerStatus::Draft => "draft",
            IssuerStatus::Submitted => "submitted",
            IssuerStatus::Approved => "approved",
            IssuerStatus::Rejected { .. } => "rejected",
            IssuerStatus::Suspended { .. } => "suspended",
            IssuerStatus::Revoked { .. } => "revoked",
        }
    }

    /// Rebuilds a stored status; `reason` is the stored reason for the states that have one.
    pub fn from_parts(status: &str, reason: Option<&str>) -> Option<Self> {
        let reason = || reason.unwrap_or_default().to_owned();
        Some(match status {
            "draft" => IssuerStatus::Draft,
            "submitted" => IssuerStatus::Submitted,
            "approved" => IssuerStatus::Approved,
            "rejected" => IssuerStatus::Rejected { reason: reason() },
            "suspended" => IssuerStatus::Suspended { reason: reason() },
            "revoked" => IssuerStatus::Revoked { reason: reason() },
            _ => return None,
        })
    }

    /// The reason attached to a rejection, suspension or revocation.
    pub fn reason(&self) -> Option<&str> {
        match self {
            IssuerStatus::Rejected { reason }
            | IssuerStatus::Suspended { reason }
            | IssuerStatus::Revoked { reason } => Some(reason),
            _ => None,
        }
    }

    /// Whether the issuer may act: create and publish collections, serve claims, use API keys.
    pub fn is_active(&self) -> bool {
        matches!(self, IssuerStatus::Approved)
    }

    fn illegal(&self, to: &'static str) -> IssuerTransitionError {
        IssuerTransitionError::Illegal {
            from: self.as_str(),
            to,
        }
    }

    /// Sends the application (or a corrected one after a rejection) to the reviewers.
    pub fn submit(&self) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerStatus::Draft | IssuerStatus::Rejected { .. } => Ok(IssuerStatus::Submitted),
            _ => Err(self.illegal("submitted")),
        }
    }

    pub fn approve(&self) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerStatus::Submitted => Ok(IssuerStatus::Approved),
            _ => Err(self.illegal("approved")),
        }
    }

    pub fn reject(&self, why: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        let reason = reason(why)?;
        match self {
            IssuerStatus::Submitted => Ok(IssuerStatus::Rejected { reason }),
            _ => Err(self.illegal("rejected")),
        }
    }

    pub fn suspend(&self, why: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        let reason = reason(why)?;
        match self {
            IssuerStatus::Approved => Ok(IssuerStatus::Suspended { reason }),
            _ => Err(self.illegal("suspended")),
        }
    }

    pub fn reinstate(&self) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerStatus::Suspended { .. } => Ok(IssuerStatus::Approved),
            _ => Err(self.illegal("approved")),
        }
    }

    pub fn revoke(&self, why: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        let reason = reason(why)?;
        match self {
            IssuerStatus::Approved | IssuerStatus::Suspended { .. } => Ok(IssuerStatus::Revoked { reason }),
            _ => Err(self.illegal("revoked")),
        }
    }
}

/// A validated application: the organisation's identity, filings and contact.
#[derive(Debug, Clone)]
pub struct IssuerApplication {
    pub legal_name: String,
    pub credit_code: UnifiedSocialCreditCode,
    pub icp_filing: IcpFilingNumber,
    pub blockchain_filing: BlockchainFilingNumber,
    pub contact_name: String,
    pub contact_email: Email,
    pub contact_phone: String,
    pub filing_dates: FilingDates,
}

/// The raw form fields of an application.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFields {
    pub legal_name: String,
    pub credit_code: String,
    pub icp_filing: String,
    pub blockchain_filing: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub filing_dates: FilingDateFields,
}

/// A field that failed validation, with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationError {
    LegalName,
    /// The name holds an invisible or direction-changing character.
    LegalNameHidden,
    CreditCode(CreditCodeError),
    IcpFiling(FilingError),
    BlockchainFiling(FilingError),
    ContactName,
    ContactNameHidden,
    ContactEmail,
    ContactPhone,
    /// A validity date that is not a date from today on.
    FilingDate(Filing),
}

/// A one-line name of at most `max` characters, runs of white space folded to one space; or
/// the error `empty_or_long`, or `hidden` when it holds an invisible or direction-changing
/// character.
fn text_field(
    raw: &str,
    max: usize,
    empty_or_long: ApplicationError,
    hidden: ApplicationError,
) -> Result<String, ApplicationError> {
    let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    check_visible(&value, TextKind::Name).map_err(|_| hidden)?;
    if value.is_empty() || value.chars().count() > max {
        return Err(empty_or_long);
    }
    Ok(value)
}

impl IssuerApplication {
    /// Validates every field on `today` (in Beijing), reporting all problems at once.
    pub fn parse(fields: &ApplicationFields, today: NaiveDate) -> Result<Self, Vec<ApplicationError>> {
        let mut errors = Vec::new();
        let legal_name = text_field(
            &fields.legal_name,
            200,
            ApplicationError::LegalName,
            ApplicationError::LegalNameHidden,
        )
        .map_err(|e| errors.push(e))
        .ok();
        let credit_code = UnifiedSocialCreditCode::parse(&fields.credit_code)
            .map_err(|e| errors.push(ApplicationError::CreditCode(e)))
            .ok();
        let icp_filing = IcpFilingNumber::parse(&fields.icp_filing)
            .map_err(|e| errors.push(ApplicationError::IcpFiling(e)))
            .ok();
        let blockchain_filing = BlockchainFilingNumber::parse(&fields.blockchain_filing)
            .map_err(|e| errors.push(ApplicationError::BlockchainFiling(e)))
            .ok();
        let contact_name = text_field(
            &fields.contact_name,
            100,
            ApplicationError::ContactName,
            ApplicationError::ContactNameHidden,
        )
        .map_err(|e| errors.push(e))
        .ok();
        let contact_email = Email::parse(&fields.contact_email)
            .map_err(|_| errors.push(ApplicationError::ContactEmail))
            .ok();
        let phone: String = fields
            .contact_phone
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let phone_ok =
            (5..=20).contains(&phone.len()) && phone.trim_start_matches('+').chars().all(|c| c.is_ascii_digit());
        if !phone_ok {
            errors.push(ApplicationError::ContactPhone);
        }
        let filing_dates = FilingDates::parse(&fields.filing_dates, today)
            .map_err(|bad| errors.extend(bad.into_iter().map(|e| ApplicationError::FilingDate(e.0))))
            .unwrap_or_default();
        match (
            legal_name,
            credit_code,
            icp_filing,
            blockchain_filing,
            contact_name,
            contact_email,
        ) {
            (
                Some(legal_name),
                Some(credit_code),
                Some(icp_filing),
                Some(blockchain_filing),
                Some(contact_name),
                Some(contact_email),
            ) if errors.is_empty() => Ok(Self {
                legal_name,
                credit_code,
                icp_filing,
                blockchain_filing,
                contact_name,
                contact_email,
                contact_phone: phone,
                filing_dates,
            }),
            _ => Err(errors),
        }
    }
}

/// What a reviewer decides on an issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerDecision {
    Approve,
    Reject,
    Suspend,
    Reinstate,
    Revoke,
}

impl IssuerDecision {
    /// The decision a form names (`approve`, `reject`, `suspend`, `reinstate`, `revoke`).
    pub fn parse(action: &str) -> Option<Self> {
        Some(match action {
            "approve" => IssuerDecision::Approve,
            "reject" => IssuerDecision::Reject,
            "suspend" => IssuerDecision::Suspend,
            "reinstate" => IssuerDecision::Reinstate,
            "revoke" => IssuerDecision::Revoke,
            _ => return None,
        })
    }

    /// Where the decision takes an issuer that stands at `status`.
    pub fn apply(self, status: &IssuerStatus, reason: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerDecision::Approve => status.approve(),
            IssuerDecision::Reject => status.reject(reason),
            IssuerDecision::Suspend => status.suspend(reason),
            IssuerDecision::Reinstate => status.reinstate(),
            IssuerDecision::Revoke => status.revoke(reason),
        }
    }

    /// What the public ledger records of the decision: everything that makes an issuer able or
    /// unable to issue; rejecting an application, which never could, is not recorded.
    pub fn on_ledger(self) -> Option<IssuerEvent> {
        match self {
            IssuerDecision::Approve => Some(IssuerEvent::Approved),
            IssuerDecision::Reject => None,
            IssuerDecision::Suspend => Some(IssuerEvent::Suspended),
            IssuerDecision::Reinstate => Some(IssuerEvent::Reinstated),
            IssuerDecision::Revoke => Some(IssuerEvent::Revoked),
        }
    }
}

/// A change in whether an issuer may issue, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerEvent {
    Approved,
    Suspended,
    Reinstated,
    Revoked,
}

/// Why a signed-in person cannot accept an invitation to join an issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationBlocker {
    /// The invitation went to another address than this account's.
    WrongAccount,
    /// Members act for a business, so they verify their real name first.
    IdentityRequired,
    /// The date of birth in the account's verified ID is below the platform's minimum age.
    TooYoung,
}

impl InvitationBlocker {
    /// What stops the account at `own`, standing as `standing`, from accepting an invitation
    /// sent to `invited`.
    pub fn check(own: &Email, standing: MemberStanding, invited: &Email) -> Option<Self> {
        if own != invited {
            return Some(InvitationBlocker::WrongAccount);
        }
        match standing {
            MemberStanding::Unverified => Some(InvitationBlocker::IdentityRequired),
            MemberStanding::TooYoung => Some(InvitationBlocker::TooYoung),
            MemberStanding::Eligible => None,
        }
    }
}

/// Whether an account may act for a business, founding or joining one: members verify their
/// real name, and are of the platform's minimum age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStanding {
    Unverified,
    TooYoung,
    Eligible,
}

impl MemberStanding {
    /// The standing of an account whose verified ID carries `birth` (`None`: not verified).
    pub fn of(birth: Option<NaiveDate>, minimum: MinimumAge, now: DateTime<Utc>) -> Self {
        match birth {
            None => MemberStanding::Unverified,
            Some(birth) if !minimum.met_by(birth, now) => MemberStanding::TooYoung,
            Some(_) => MemberStanding::Eligible,
        }
    }
}

/// Why a reviewer may not decide an issuer's case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("reviewers cannot decide an issuer they belong to")]
pub struct ConflictOfInterest;

/// A reviewer never decides for an issuer whose members include them.
pub fn check_reviewer(reviewer: UserId, members: &[UserId]) -> Result<(), ConflictOfInterest> {
    if members.contains(&reviewer) {
        Err(ConflictOfInterest)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ApplicationFields {
        ApplicationFields {
            legal_name: "新华文创（北京）有限公司".into(),
            credit_code: "91350100M000100Y43".into(),
            icp_filing: "京ICP备12345678号-1".into(),
            blockchain_filing: "京网信备11010819842097170019号".into(),
            contact_name: "李雷".into(),
            contact_email: "li.lei@example.cn".into(),
            contact_phone: "+86 138-0013-8000".into(),
            filing_dates: FilingDateFields {
                licence: "2030-06-30".into(),
                ..FilingDateFields::default()
            },
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
    }

    #[test]
    fn a_complete_application_is_accepted() {
        let application = IssuerApplication::parse(&fields(), today()).unwrap();
        assert_eq!(application.credit_code.as_str(), "91350100M000100Y43");
        assert_eq!(application.contact_phone, "+8613800138000");
        assert_eq!(application.filing_dates.licence, NaiveDate::from_ymd_opt(2030, 6, 30));
        assert_eq!(application.filing_dates.icp, None);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = ApplicationFields {
            legal_name: "  ".into(),
            credit_code: "91350100M000100Y44".into(),
            icp_filing: "京ICP证110507号".into(),
            blockchain_filing: "京网信备123号".into(),
            contact_name: "".into(),
            contact_email: "not-an-email".into(),
            contact_phone: "call me".into(),
            filing_dates: FilingDateFields {
                icp: "2026-12-06".into(),
                ..FilingDateFields::default()
            },
        };
        let errors = IssuerApplication::parse(&bad, today()).unwrap_err();
        assert_eq!(errors.len(), 8, "{errors:?}");
        assert!(errors.contains(&ApplicationError::FilingDate(Filing::Icp)));
        assert!(errors.contains(&ApplicationError::CreditCode(CreditCodeError::CheckCharacter)));
    }

    #[test]
    fn names_with_hidden_characters_are_refused() {
        let spoofed = ApplicationFields {
            legal_name: "北京\u{202E}司公限有".into(),
            contact_name: "Li\u{200B}Lei".into(),
            ..fields()
        };
        assert_eq!(
            IssuerApplication::parse(&spoofed, today()).unwrap_err(),
            vec![ApplicationError::LegalNameHidden, ApplicationError::ContactNameHidden]
        );
    }

    #[test]
    fn members_cannot_review_their_issuer() {
        assert_eq!(
            check_reviewer(UserId(3), &[UserId(1), UserId(3)]),
            Err(ConflictOfInterest)
        );
        assert_eq!(check_reviewer(UserId(2), &[UserId(1), UserId(3)]), Ok(()));
    }

    fn all() -> Vec<IssuerStatus> {
        vec![
            IssuerStatus::Draft,
            IssuerStatus::Submitted,
            IssuerStatus::Approved,
            IssuerStatus::Rejected { reason: "r".into() },
            IssuerStatus::Suspended { reason: "s".into() },
            IssuerStatus::Revoked { reason: "v".into() },
        ]
    }

    #[test]
    fn the_happy_path() {
        let submitted = IssuerStatus::Draft.submit().unwrap();
        let approved = submitted.approve().unwrap();
        assert!(approved.is_active());
        let suspended = approved.suspend("expired licence").unwrap();
        assert!(!suspended.is_active());
        assert_eq!(suspended.reason(), Some("expired licence"));
        assert_eq!(suspended.reinstate().unwrap(), IssuerStatus::Approved);
        let revoked = suspended.revoke("fraud").unwrap();
        assert!(!revoked.is_active());
    }

    #[test]
    fn every_transition_is_legal_only_from_its_states() {
        type Move = fn(&IssuerStatus) -> Result<IssuerStatus, IssuerTransitionError>;
        let moves: [(&str, Move, &[&str]); 6] = [
            ("submit", |s| s.submit(), &["draft", "rejected"]),
            ("approve", |s| s.approve(), &["submitted"]),
            ("reject", |s| s.reject("why"), &["submitted"]),
            ("suspend", |s| s.suspend("why"), &["approved"]),
            ("reinstate", |s| s.reinstate(), &["suspended"]),
            ("revoke", |s| s.revoke("why"), &["approved", "suspended"]),
        ];
        for (name, apply, legal_from) in moves {
            for status in all() {
                let result = apply(&status);
                assert_eq!(
                    result.is_ok(),
                    legal_from.contains(&status.as_str()),
                    "{name} from {}: {result:?}",
                    status.as_str()
                );
                if let Err(e) = result {
                    assert!(matches!(e, IssuerTransitionError::Illegal { .. }));
                }
            }
        }
    }

    #[test]
    fn revocation_is_final() {
        let revoked = IssuerStatus::Revoked { reason: "fraud".into() };
        assert!(revoked.submit().is_err());
        assert!(revoked.approve().is_err());
        assert!(revoked.reinstate().is_err());
        assert!(revoked.suspend("x").is_err());
        assert!(revoked.revoke("again").is_err());
    }

    #[test]
    fn decisions_against_the_issuer_need_a_reason() {
        assert_eq!(
            IssuerStatus::Submitted.reject(" "),
            Err(IssuerTransitionError::ReasonRequired)
        );
        assert_eq!(
            IssuerStatus::Approved.suspend(""),
            Err(IssuerTransitionError::ReasonRequired)
        );
        assert_eq!(
            IssuerStatus::Approved.revoke("\n"),
            Err(IssuerTransitionError::ReasonRequired)
        );
    }

    #[test]
    fn stored_statuses_round_trip() {
        for status in all() {
            assert_eq!(
                IssuerStatus::from_parts(status.as_str(), status.reason()),
                Some(status.clone())
            );
        }
        assert_eq!(IssuerStatus::from_parts("active", None), None);
    }

    #[test]
    fn only_a_verified_adult_of_the_invited_address_joins() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T04:00:00Z").unwrap().to_utc();
        let adult = MinimumAge::ADULT;
        let invited = Email::parse("staff@brand.example").unwrap();
        let other = Email::parse("someone@else.example").unwrap();
        let of = |birth: Option<(i32, u32, u32)>| {
            MemberStanding::of(birth.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)), adult, now)
        };
        assert_eq!(of(None), MemberStanding::Unverified);
        assert_eq!(of(Some((2008, 12, 8))), MemberStanding::TooYoung, "18 tomorrow");
        assert_eq!(of(Some((2008, 12, 7))), MemberStanding::Eligible, "18 today");
        let check = |own: &Email, standing| InvitationBlocker::check(own, standing, &invited);
        assert_eq!(
            check(&other, MemberStanding::Eligible),
            Some(InvitationBlocker::WrongAccount)
        );
        assert_eq!(
            check(&invited, MemberStanding::Unverified),
            Some(InvitationBlocker::IdentityRequired)
        );
        assert_eq!(
            check(&invited, MemberStanding::TooYoung),
            Some(InvitationBlocker::TooYoung)
        );
        assert_eq!(check(&invited, MemberStanding::Eligible), None);
    }
}
