//! Real-name identity: the PRC resident ID number (GB 11643-1999) and the life cycle of a
//! person's identity check.
//!
//! An ID number is accepted in the forms people actually type (lower-case `x`, full-width
//! digits, surrounding spaces) and stored in one canonical form, which is what the blind index
//! is computed over. Only the masked form is ever shown.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::visible_text::{TextKind, check_visible};

/// Weights of positions 1 to 17 (GB 11643-1999).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum mod 11.
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";
/// First two digits of the region codes of mainland provinces, Taiwan, Hong Kong and Macau.
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
];

/// Why an ID number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("a resident ID number has 18 characters")]
    Length,
    #[error("a resident ID number has 17 digits followed by a digit or X")]
    Characters,
    #[error("the date of birth in the ID number is not a real date in the past")]
    BirthDate,
    #[error("the check character does not match; please check the number for typing errors")]
    CheckCharacter,
}

/// A well-formed resident ID number in canonical form (ASCII digits, upper-case `X`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentIdNumber(String);

/// Folds full-width digits and letters (as typed with a Chinese input method) to ASCII.
pub(crate) fn fold_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        other => other,
    }
}

impl ResidentIdNumber {
    /// Validates `raw` as of `today` (birth dates in the future are refused).
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, IdNumberError> {
        let folded: String = raw.chars().map(fold_full_width).collect();
        let canonical = folded.trim().to_ascii_uppercase();
        if canonical.chars().count() != 18 {
            return Err(IdNumberError::Length);
        }
        let bytes = canonical.as_bytes();
        let body_ok = bytes[..17].iter().all(u8::is_ascii_digit);
        let last_ok = bytes[17].is_ascii_digit() || bytes[17] == b'X';
        if !body_ok || !last_ok {
            return Err(IdNumberError::Characters);
        }
        let birth = NaiveDate::parse_from_str(&canonical[6..14], "%Y%m%d").map_err(|_| IdNumberError::BirthDate)?;
        if birth > today || birth.year() < 1900 {
            return Err(IdNumberError::BirthDate);
        }
        let sum: u32 = bytes[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        if bytes[17] != CHECK_CHARACTERS[(sum % 11) as usize] {
            return Err(IdNumberError::CheckCharacter);
        }
        Ok(Self(canonical))
    }

    /// The canonical form: what is encrypted and what the blind index is computed over.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// The date of birth the number carries (positions 7 to 14), which [`super::age`] counts from.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked when parsed")
    }

    /// First four and last four characters, the rest hidden: `1101**********002X`.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }

    /// Whether the first two digits name a known province; an unknown one is a warning for
    /// the reviewer (region codes change), not a reason to refuse.
    pub fn province_known(&self) -> bool {
        PROVINCES.contains(&&self.0[..2])
    }
}

impl fmt::Debug for ResidentIdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentIdNumber({})", self.masked())
    }
}

/// Why a legal name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LegalNameError {
    #[error("enter your name as it appears on your ID card")]
    Empty,
    #[error("a legal name has at most 64 characters")]
    TooLong,
    #[error("a legal name contains only letters, spaces and the separator ·")]
    Characters,
    #[error("the name holds an invisible or direction-changing character")]
    Hidden,
}

/// A person's legal name as on their ID card (Chinese names, or Latin names of foreigners
/// holding a permanent residence card).
#[derive(Clone, PartialEq, Eq)]
pub struct LegalName(String);

impl LegalName {
    pub fn parse(raw: &str) -> Result<Self, LegalNameError> {
        let folded: String = raw.chars().map(fold_full_width).collect();
        let name = folded.split_whitespace().collect::<Vec<_>>().join(" ");
        check_visible(&name, TextKind::Name).map_err(|_| LegalNameError::Hidden)?;
        if name.is_empty() {
            return Err(LegalNameError::Empty);
        }
        if name.chars().count() > 64 {
            return Err(LegalNameError::TooLong);
        }
        if !name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '·' | '•' | '-' | '.'))
        {
            return Err(LegalNameError::Characters);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LegalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegalName([redacted])")
    }
}

/// How long a reviewer's claim on a submission lasts before others may take it over.
pub const REVIEW_LOCK: chrono::Duration = chrono::Duration::minutes(30);

/// Why a reviewer may not decide a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("reviewers cannot decide their own identity")]
    OwnIdentity,
}

/// Reviewers never decide their own identity check.
pub fn check_reviewer(
    reviewer: crate::domain::ids::UserId,
    applicant: crate::domain::ids::UserId,
) -> Result<(), ReviewRefusal> {
    if reviewer == applicant {
        Err(ReviewRefusal::OwnIdentity)
    } else {
        Ok(())
    }
}

/// Where a person's identity check stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityStatus {
    Unverified,
    Pending,
    Verified,
    Rejected { reason: String },
}

/// An identity check move that the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityTransitionError {
    #[error("the identity is already verified")]
    AlreadyVerified,
    #[error("a check is already pending")]
    AlreadyPending,
    #[error("only a pending check can be decided")]
    NotPending,
    #[error("a rejection needs a reason the person can act on")]
    ReasonRequired,
    #[error("only a verified identity is corrected; submit a check instead")]
    NotVerified,
}

impl IdentityStatus {
    /// One check in each state (reason empty), for whatever lists every state.
    pub const ALL: [IdentityStatus; 4] = [
        IdentityStatus::Unverified,
        IdentityStatus::Pending,
        IdentityStatus::Verified,
        IdentityStatus::Rejected { reason: String::new() },
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            IdentityStatus::Unverified => "unverified",
            IdentityStatus::Pending => "pending",
            IdentityStatus::Verified => "verified",
            IdentityStatus::Rejected { .. } => "rejected",
        }
    }

    /// Submitting (or resubmitting after a rejection) starts a new check.
    pub fn submit(&self) -> Result<IdentityStatus, IdentityTransitionError> {
        match self {
            IdentityStatus::Unverified | IdentityStatus::Rejected { .. } => Ok(IdentityStatus::Pending),
            IdentityStatus::Pending => Err(IdentityTransitionError::AlreadyPending),
            IdentityStatus::Verified => Err(IdentityTransitionError::AlreadyVerified),
        }
    }

    /// A verified person correcting their name or ID number starts a new check (never a silent
    /// edit); if it is refused, the identity they had stays verified.
    pub fn correct(&self) -> Result<IdentityStatus, IdentityTransitionError> {
        match self {
            IdentityStatus::Verified => Ok(IdentityStatus::Pending),
            IdentityStatus::Pending => Err(IdentityTransitionError::AlreadyPending),
            IdentityStatus::Unverified | IdentityStatus::Rejected { .. } => Err(IdentityTransitionError::NotVerified),
        }
    }

    pub fn approve(&self) -> Result<IdentityStatus, IdentityTransitionError> {
        match self {
            IdentityStatus::Pending => Ok(IdentityStatus::Verified),
            _ => Err(IdentityTransitionError::NotPending),
        }
    }

    pub fn reject(&self, reason: &str) -> Result<IdentityStatus, IdentityTransitionError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(IdentityTransitionError::ReasonRequired);
        }
        match self {
            IdentityStatus::Pending => Ok(IdentityStatus::Rejected {
                reason: reason.to_owned(),
            }),
            _ => Err(IdentityTransitionError::NotPending),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    /// Builds a valid number from its first 17 digits.
    fn with_check(body: &str) -> String {
        let sum: u32 = body.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        format!("{body}{}", CHECK_CHARACTERS[(sum % 11) as usize] as char)
    }

    #[test]
    fn the_standards_example_is_valid() {
        let id = ResidentIdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.canonical(), "11010519491231002X");
        assert_eq!(id.masked(), "1101**********002X");
        assert!(id.province_known());
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
    }

    #[test]
    fn valid_numbers_in_the_forms_people_type() {
        for (typed, canonical) in [
            ("11010519491231002x", "11010519491231002X"),
            ("  11010519491231002X ", "11010519491231002X"),
            ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
            ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        ] {
            assert_eq!(
                ResidentIdNumber::parse(typed, today()).unwrap().canonical(),
                canonical,
                "{typed}"
            );
        }
        for body in [
            "44030419900307123",
            "31011520000229000",
            "65010220261125001",
            "81000019000101123",
        ] {
            let number = with_check(body);
            assert!(ResidentIdNumber::parse(&number, today()).is_ok(), "{number}");
        }
    }

    #[test]
    fn wrong_check_characters_are_refused() {
        for bad in ["110105194912310021", "110105194912310020", "11010519491231002Y"] {
            let expected = if bad.ends_with('Y') {
                IdNumberError::Characters
            } else {
                IdNumberError::CheckCharacter
            };
            assert_eq!(ResidentIdNumber::parse(bad, today()), Err(expected), "{bad}");
        }
        // One digit mistyped changes the check.
        let good = with_check("44030419900307123");
        let typo = format!("44030419900307133{}", &good[17..]);
        assert_eq!(
            ResidentIdNumber::parse(&typo, today()),
            Err(IdNumberError::CheckCharacter)
        );
    }

    #[test]
    fn impossible_or_future_birth_dates_are_refused() {
        for body in [
            "11010519490230001", // 30 February
            "11010519491301001", // month 13
            "11010519490000001", // day 0
            "11010520261126001", // tomorrow
            "11010518991231001", // before 1900
        ] {
            assert_eq!(
                ResidentIdNumber::parse(&with_check(body), today()),
                Err(IdNumberError::BirthDate),
                "{body}"
            );
        }
        assert!(
            ResidentIdNumber::parse(&with_check("11010520000229001"), today()).is_ok(),
            "leap day"
        );
        assert_eq!(
            ResidentIdNumber::parse(&with_check("11010519000229001"), today()),
            Err(IdNumberError::BirthDate),
            "1900 was not a leap year"
        );
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for (bad, error) in [
            ("", IdNumberError::Length),
            ("11010519491231002", IdNumberError::Length),
            ("11010519491231002XX", IdNumberError::Length),
            ("110105 19491231002X", IdNumberError::Length),
            ("1101051949 231002X", IdNumberError::Characters),
            ("X1010519491231002X", IdNumberError::Characters),
            ("1101051949123100X2", IdNumberError::Characters),
            ("11010519491231002-", IdNumberError::Characters),
            ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", IdNumberError::Characters),
        ] {
            assert_eq!(ResidentIdNumber::parse(bad, today()), Err(error), "{bad:?}");
        }
    }

    #[test]
    fn unknown_provinces_are_a_warning_not_an_error() {
        let id = ResidentIdNumber::parse(&with_check("99010519491231002"), today()).unwrap();
        assert!(!id.province_known());
    }

    #[test]
    fn debug_output_never_shows_the_number_or_name() {
        let id = ResidentIdNumber::parse("11010519491231002X", today()).unwrap();
        assert!(!format!("{id:?}").contains("0519491231"));
        let name = LegalName::parse("张三").unwrap();
        assert!(!format!("{name:?}").contains("张三"));
    }

    #[test]
    fn legal_names() {
        assert_eq!(LegalName::parse("  张三 ").unwrap().as_str(), "张三");
        assert_eq!(LegalName::parse("买买提·艾力").unwrap().as_str(), "买买提·艾力");
        assert_eq!(LegalName::parse("John  Smith").unwrap().as_str(), "John Smith");
        assert_eq!(LegalName::parse("   "), Err(LegalNameError::Empty));
        assert_eq!(LegalName::parse("张三1"), Err(LegalNameError::Characters));
        assert_eq!(LegalName::parse("<script>"), Err(LegalNameError::Characters));
        assert_eq!(LegalName::parse(&"张".repeat(65)), Err(LegalNameError::TooLong));
        assert_eq!(LegalName::parse("张\u{200B}三"), Err(LegalNameError::Hidden));
        assert_eq!(LegalName::parse("\u{202E}三张"), Err(LegalNameError::Hidden));
    }

    #[test]
    fn reviewers_cannot_decide_their_own_identity() {
        use crate::domain::ids::UserId;
        assert_eq!(check_reviewer(UserId(1), UserId(1)), Err(ReviewRefusal::OwnIdentity));
        assert_eq!(check_reviewer(UserId(1), UserId(2)), Ok(()));
    }

    #[test]
    fn identity_status_transitions() {
        use IdentityStatus::*;
        assert_eq!(Unverified.submit(), Ok(Pending));
        assert_eq!(Pending.submit(), Err(IdentityTransitionError::AlreadyPending));
        assert_eq!(Verified.submit(), Err(IdentityTransitionError::AlreadyVerified));
        assert_eq!(Pending.approve(), Ok(Verified));
        assert_eq!(Unverified.approve(), Err(IdentityTransitionError::NotPending));
        assert_eq!(Verified.approve(), Err(IdentityTransitionError::NotPending));
        let rejected = Pending.reject("photo unreadable").unwrap();
        assert_eq!(rejected.as_str(), "rejected");
        assert_eq!(rejected.submit(), Ok(Pending), "resubmission after a rejection");
        assert_eq!(Pending.reject("  "), Err(IdentityTransitionError::ReasonRequired));
        assert_eq!(Verified.reject("x"), Err(IdentityTransitionError::NotPending));
        assert_eq!(rejected.approve(), Err(IdentityTransitionError::NotPending));
    }

    #[test]
    fn only_a_verified_identity_is_corrected() {
        use IdentityStatus::*;
        assert_eq!(Verified.correct(), Ok(Pending));
        assert_eq!(Pending.correct(), Err(IdentityTransitionError::AlreadyPending));
        assert_eq!(Unverified.correct(), Err(IdentityTransitionError::NotVerified));
        let rejected = Pending.reject("photo unreadable").unwrap();
        assert_eq!(rejected.correct(), Err(IdentityTransitionError::NotVerified));
    }
}
