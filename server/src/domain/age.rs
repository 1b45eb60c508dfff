//! Age: how old a verified person is, from the date of birth in their resident ID number, and
//! the limits that apply to it.
//!
//! Ages are full years (周岁) on the day in Beijing: a person turns a year older on the
//! anniversary of their birth, and someone born on 29 February on 1 March of a common year.
//! Under [`GUARDIAN_CONSENT_AGE`] nothing is possible: PIPL Art. 31 requires a guardian's
//! consent to process the personal information of a child under 14, and the platform has no
//! guardian flow, so it does not take their ID number at all. From that age, the platform's
//! minimum (a setting, 18 by default) applies to claiming and to joining issuers, and a
//! collection may set a higher one.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::collection::beijing;

/// Below this age a guardian must consent before a child's personal information is processed.
pub const GUARDIAN_CONSENT_AGE: u8 = 14;
/// The oldest minimum age a collection or the platform may set.
pub const MAX_MINIMUM_AGE: u8 = 99;

/// Full years between `birth` and `today` (0 before the first birthday).
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let years = today.year() - birth.year();
    let before_birthday = (today.month(), today.day()) < (birth.month(), birth.day());
    u32::try_from(years - i32::from(before_birthday)).unwrap_or(0)
}

/// The date in Beijing at `now`: the day a person's age is counted on.
pub fn beijing_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&beijing()).date_naive()
}

/// A minimum age in full years, from [`GUARDIAN_CONSENT_AGE`] to [`MAX_MINIMUM_AGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MinimumAge(u8);

/// A minimum age outside the range the platform can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a minimum age is a whole number of years from {GUARDIAN_CONSENT_AGE} to {MAX_MINIMUM_AGE}")]
pub struct MinimumAgeError;

impl MinimumAge {
    /// The platform's minimum when none is configured: adults only.
    pub const ADULT: MinimumAge = MinimumAge(18);

    pub fn new(years: u8) -> Result<Self, MinimumAgeError> {
        (GUARDIAN_CONSENT_AGE..=MAX_MINIMUM_AGE)
            .contains(&years)
            .then_some(Self(years))
            .ok_or(MinimumAgeError)
    }

    /// Reads a number of years as typed.
    pub fn parse(text: &str) -> Result<Self, MinimumAgeError> {
        text.trim()
            .parse::<u8>()
            .map_err(|_| MinimumAgeError)
            .and_then(Self::new)
    }

    pub fn years(self) -> u8 {
        self.0
    }

    /// The limit that applies where the platform's minimum meets a collection's own.
    pub fn with(self, stricter: Option<MinimumAge>) -> MinimumAge {
        stricter.map_or(self, |other| self.max(other))
    }

    /// Whether a person born on `birth` has reached this age at `now`.
    pub fn met_by(self, birth: NaiveDate, now: DateTime<Utc>) -> bool {
        age_on(birth, beijing_date(now)) >= u32::from(self.0)
    }
}

impl fmt::Display for MinimumAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether the platform may take the identity of a person born on `birth` at `now`: not while
/// they are under [`GUARDIAN_CONSENT_AGE`].
pub fn may_verify(birth: NaiveDate, now: DateTime<Utc>) -> bool {
    MinimumAge(GUARDIAN_CONSENT_AGE).met_by(birth, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_year_is_added_on_the_birthday() {
        let birth = date("2008-12-07");
        assert_eq!(age_on(birth, date("2026-12-06")), 17);
        assert_eq!(age_on(birth, date("2026-12-07")), 18);
        assert_eq!(age_on(birth, date("2027-12-06")), 18);
        assert_eq!(age_on(birth, birth), 0);
        assert_eq!(age_on(birth, date("2000-01-01")), 0, "not born yet counts as 0");
    }

    #[test]
    fn a_leap_day_birthday_counts_from_the_first_of_march() {
        let birth = date("2008-02-29");
        assert_eq!(age_on(birth, date("2026-02-28")), 17);
        assert_eq!(age_on(birth, date("2026-03-01")), 18);
        assert_eq!(age_on(birth, date("2028-02-29")), 20);
    }

    #[test]
    fn the_day_is_beijings() {
        let adult = MinimumAge::ADULT;
        let birth = date("2008-12-07");
        // 16:00 UTC on the 6th is already midnight of the 7th in Beijing.
        assert!(!adult.met_by(birth, at("2026-12-06T15:59:59Z")));
        assert!(adult.met_by(birth, at("2026-12-06T16:00:00Z")));
    }

    #[test]
    fn minimum_ages_stay_between_fourteen_and_ninety_nine() {
        assert_eq!(MinimumAge::new(13), Err(MinimumAgeError));
        assert_eq!(MinimumAge::new(100), Err(MinimumAgeError));
        assert_eq!(MinimumAge::new(14).map(MinimumAge::years), Ok(14));
        assert_eq!(MinimumAge::parse(" 20 ").map(MinimumAge::years), Ok(20));
        for bad in ["", "abc", "-1", "18.5", "300"] {
            assert_eq!(MinimumAge::parse(bad), Err(MinimumAgeError), "{bad:?}");
        }
    }

    #[test]
    fn the_stricter_minimum_applies() {
        let platform = MinimumAge::ADULT;
        let twenty = MinimumAge::new(20).unwrap();
        let sixteen = MinimumAge::new(16).unwrap();
        assert_eq!(platform.with(None), platform);
        assert_eq!(platform.with(Some(twenty)), twenty);
        assert_eq!(
            platform.with(Some(sixteen)),
            platform,
            "a collection cannot lower the platform's"
        );
    }

    #[test]
    fn under_fourteen_nobody_is_verified() {
        let now = at("2026-12-07T04:00:00Z");
        assert!(!may_verify(date("2012-12-08"), now), "13 years old");
        assert!(may_verify(date("2012-12-07"), now), "14 today");
    }
}
