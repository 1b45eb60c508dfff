//! What a regulator may ask of the platform: the reveal of one person's identity, answering a
//! legal request, and export bundles for a span of days or an issuer. The rules here decide what
//! a request must say and how long a reveal stays open; the regulator reads, never changes.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::collection::terms::beijing;
use super::ids::IssuerId;

/// How long a reveal shows the identity to the regulator who made it; after that they file
/// another, so every look at a person's identity has its own reasoned, audited record.
pub const REVEAL_OPEN_FOR: Duration = Duration::minutes(30);

/// Longest legal-request reference, in characters.
pub const MAX_REFERENCE_CHARS: usize = 100;
/// Shortest and longest reason, in characters: a reason is a sentence, not a word.
pub const MIN_REASON_CHARS: usize = 10;
pub const MAX_REASON_CHARS: usize = 2_000;
/// Longest span one export bundle covers: a year, leap day included.
pub const MAX_EXPORT_DAYS: i64 = 366;

/// Why a reveal request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevealRefusal {
    #[error("name the legal request this reveal answers (its case or document number)")]
    ReferenceMissing,
    #[error("the legal request's reference is longer than {MAX_REFERENCE_CHARS} characters")]
    ReferenceTooLong,
    #[error("give the reason in at least {MIN_REASON_CHARS} characters")]
    ReasonTooShort,
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
}

/// A reveal's grounds: the legal request it answers and the regulator's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealGrounds {
    reference: String,
    reason: String,
}

impl RevealGrounds {
    pub fn new(reference: &str, reason: &str) -> Result<Self, RevealRefusal> {
        let reference = reference.trim();
        let reason = reason.trim();
        if reference.is_empty() {
            return Err(RevealRefusal::ReferenceMissing);
        }
        if reference.chars().count() > MAX_REFERENCE_CHARS {
            return Err(RevealRefusal::ReferenceTooLong);
        }
        match reason.chars().count() {
            n if n < MIN_REASON_CHARS => Err(RevealRefusal::ReasonTooShort),
            n if n > MAX_REASON_CHARS => Err(RevealRefusal::ReasonTooLong),
            _ => Ok(Self {
                reference: reference.to_owned(),
                reason: reason.to_owned(),
            }),
        }
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Whether a reveal made at `made_at` still shows the identity at `now`.
pub fn reveal_open(made_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= made_at && now - made_at < REVEAL_OPEN_FOR
}

/// Why an export's scope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeRefusal {
    #[error("the last day is before the first")]
    Reversed,
    #[error("one bundle covers at most {MAX_EXPORT_DAYS} days; export a longer span in parts")]
    TooLong,
    #[error("the span ends in the future")]
    InTheFuture,
}

/// The records an export bundle covers: the days from `from` to `to` (included, Beijing time),
/// of every issuer or of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportScope {
    from: NaiveDate,
    to: NaiveDate,
    issuer: Option<IssuerId>,
}

impl ExportScope {
    /// A scope ending no later than today in Beijing (`now`).
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        issuer: Option<IssuerId>,
        now: DateTime<Utc>,
    ) -> Result<Self, ScopeRefusal> {
        if to < from {
            return Err(ScopeRefusal::Reversed);
        }
        if (to - from).num_days() >= MAX_EXPORT_DAYS {
            return Err(ScopeRefusal::TooLong);
        }
        if to > super::age::beijing_date(now) {
            return Err(ScopeRefusal::InTheFuture);
        }
        Ok(Self { from, to, issuer })
    }

    /// A scope as it was recorded, checked when it was made.
    pub fn recorded(from: NaiveDate, to: NaiveDate, issuer: Option<IssuerId>) -> Self {
        Self { from, to, issuer }
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    pub fn issuer(&self) -> Option<IssuerId> {
        self.issuer
    }

    /// The first instant covered: midnight in Beijing at the start of `from`.
    pub fn starts(&self) -> DateTime<Utc> {
        midnight_in_beijing(self.from)
    }

    /// The first instant not covered: midnight in Beijing after `to`.
    pub fn ends(&self) -> DateTime<Utc> {
        midnight_in_beijing(self.to + Duration::days(1))
    }

    /// Whether `at` falls within the days covered.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.starts() <= at && at < self.ends()
    }
}

fn midnight_in_beijing(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(beijing())
        .single()
        .expect("a fixed offset has one local time")
        .to_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_reveal_needs_a_reference_and_a_reasoned_sentence() {
        assert_eq!(
            RevealGrounds::new("  ", "a court order in a fraud case"),
            Err(RevealRefusal::ReferenceMissing)
        );
        assert_eq!(
            RevealGrounds::new(&"x".repeat(101), "a court order in a fraud case"),
            Err(RevealRefusal::ReferenceTooLong)
        );
        assert_eq!(
            RevealGrounds::new("(2026)京01刑初1号", "fraud"),
            Err(RevealRefusal::ReasonTooShort)
        );
        assert_eq!(
            RevealGrounds::new("(2026)京01刑初1号", &"理".repeat(2_001)),
            Err(RevealRefusal::ReasonTooLong)
        );
        let grounds = RevealGrounds::new(" (2026)京01刑初1号 ", " 法院调取诈骗案当事人身份信息 ").unwrap();
        assert_eq!(grounds.reference(), "(2026)京01刑初1号");
        assert_eq!(grounds.reason(), "法院调取诈骗案当事人身份信息");
    }

    #[test]
    fn a_reveal_is_open_for_half_an_hour_and_never_before_it_was_made() {
        let made = at("2026-12-07T10:00:00Z");
        assert!(reveal_open(made, made));
        assert!(reveal_open(made, at("2026-12-07T10:29:59Z")));
        assert!(!reveal_open(made, at("2026-12-07T10:30:00Z")));
        assert!(!reveal_open(made, at("2026-12-07T09:59:59Z")));
    }

    #[test]
    fn an_export_covers_whole_beijing_days() {
        let now = at("2026-12-07T10:00:00Z");
        let scope = ExportScope::new(day("2026-12-01"), day("2026-12-07"), None, now).unwrap();
        assert_eq!(scope.starts(), at("2026-11-30T16:00:00Z"));
        assert_eq!(scope.ends(), at("2026-12-07T16:00:00Z"));
        assert!(scope.covers(at("2026-11-30T16:00:00Z")));
        assert!(!scope.covers(at("2026-11-30T15:59:59Z")));
        assert!(scope.covers(at("2026-12-07T15:59:59Z")));
        assert!(!scope.covers(at("2026-12-07T16:00:00Z")));
    }

    #[test]
    fn an_export_scope_is_ordered_at_most_a_year_and_not_in_the_future() {
        let now = at("2026-12-07T10:00:00Z");
        assert_eq!(
            ExportScope::new(day("2026-12-05"), day("2026-12-01"), None, now),
            Err(ScopeRefusal::Reversed)
        );
        assert!(ExportScope::new(day("2025-12-07"), day("2026-12-07"), None, now).is_ok());
        assert_eq!(
            ExportScope::new(day("2025-12-06"), day("2026-12-07"), None, now),
            Err(ScopeRefusal::TooLong)
        );
        // 16:00 UTC on the 7th is already the 8th in Beijing.
        assert_eq!(
            ExportScope::new(day("2026-12-08"), day("2026-12-08"), None, now),
            Err(ScopeRefusal::InTheFuture)
        );
        assert!(ExportScope::new(day("2026-12-08"), day("2026-12-08"), None, at("2026-12-07T16:00:00Z")).is_ok());
    }
}
