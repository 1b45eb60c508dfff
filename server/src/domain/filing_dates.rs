//! When an organisation's filings run out: its business licence, ICP filing and
//! blockchain-information-service filing, for issuers and for the operator alike.
//!
//! A filing with a validity date is valid through that day in Beijing. A filing without one
//! (an ICP filing has none) was last checked against the regulator's lists on the day a
//! reviewer accepted it, and must be checked again within the platform's re-check period, so
//! every filing has a last day. Reminders go out 30, 7 and 1 days ahead; the day after the
//! earliest last day the organisation's filings have lapsed, and claims on what it issues
//! pause until a reviewer accepts a renewal.

use chrono::{NaiveDate, TimeDelta};

/// One of the filings an organisation keeps current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    BusinessLicence,
    Icp,
    Blockchain,
}

impl Filing {
    pub const ALL: [Filing; 3] = [Filing::BusinessLicence, Filing::Icp, Filing::Blockchain];

    pub fn as_str(self) -> &'static str {
        match self {
            Filing::BusinessLicence => "licence",
            Filing::Icp => "icp",
            Filing::Blockchain => "blockchain",
        }
    }
}

/// Days within which a filing without a validity date must be checked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecheckPeriod(u32);

/// A re-check period outside what the platform accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("filings are re-checked every 30 to 730 days")]
pub struct RecheckPeriodError;

impl RecheckPeriod {
    pub fn days(days: u32) -> Result<Self, RecheckPeriodError> {
        (30..=730)
            .contains(&days)
            .then_some(Self(days))
            .ok_or(RecheckPeriodError)
    }

    fn after(self, checked_on: NaiveDate) -> NaiveDate {
        checked_on + TimeDelta::days(i64::from(self.0))
    }
}

impl Default for RecheckPeriod {
    /// A year.
    fn default() -> Self {
        Self(365)
    }
}

/// The last day each filing is valid, where it has a validity date; `None` where it has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilingDates {
    pub licence: Option<NaiveDate>,
    pub icp: Option<NaiveDate>,
    pub blockchain: Option<NaiveDate>,
}

/// The dates as typed into a form: each `YYYY-MM-DD` or empty for "no validity date".
#[derive(Debug, Clone, Default)]
pub struct FilingDateFields {
    pub licence: String,
    pub icp: String,
    pub blockchain: String,
}

impl FilingDateFields {
    pub fn get(&self, filing: Filing) -> &str {
        match filing {
            Filing::BusinessLicence => &self.licence,
            Filing::Icp => &self.icp,
            Filing::Blockchain => &self.blockchain,
        }
    }

    pub fn get_mut(&mut self, filing: Filing) -> &mut String {
        match filing {
            Filing::BusinessLicence => &mut self.licence,
            Filing::Icp => &mut self.icp,
            Filing::Blockchain => &mut self.blockchain,
        }
    }

    /// The dates of `dates` as a form shows them.
    pub fn of(dates: &FilingDates) -> Self {
        let text = |date: Option<NaiveDate>| date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        FilingDateFields {
            licence: text(dates.licence),
            icp: text(dates.icp),
            blockchain: text(dates.blockchain),
        }
    }
}

/// A validity date that is not a date, or has already passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the validity date of the {} filing is not a date from today on", .0.as_str())]
pub struct FilingDateError(pub Filing);

impl FilingDates {
    /// Reads the dates typed on `today` (in Beijing), reporting every bad one: a filing that
    /// is no longer valid cannot be entered as current.
    pub fn parse(fields: &FilingDateFields, today: NaiveDate) -> Result<Self, Vec<FilingDateError>> {
        let mut errors = Vec::new();
        let mut read = |raw: &str, filing: Filing| {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(date) if date >= today => Some(date),
                _ => {
                    errors.push(FilingDateError(filing));
                    None
                }
            }
        };
        let dates = FilingDates {
            licence: read(&fields.licence, Filing::BusinessLicence),
            icp: read(&fields.icp, Filing::Icp),
            blockchain: read(&fields.blockchain, Filing::Blockchain),
        };
        if errors.is_empty() { Ok(dates) } else { Err(errors) }
    }

    pub fn get(&self, filing: Filing) -> Option<NaiveDate> {
        match filing {
            Filing::BusinessLicence => self.licence,
            Filing::Icp => self.icp,
            Filing::Blockchain => self.blockchain,
        }
    }

    /// The last day `filing` is valid: its validity date, or the last day of its re-check
    /// period after `checked_on`; `None` when it has neither.
    pub fn last_day(&self, filing: Filing, checked_on: Option<NaiveDate>, recheck: RecheckPeriod) -> Option<NaiveDate> {
        self.get(filing).or_else(|| checked_on.map(|day| recheck.after(day)))
    }

    /// The filing that runs out first and its last day.
    pub fn deadline(&self, checked_on: Option<NaiveDate>, recheck: RecheckPeriod) -> Option<Deadline> {
        Filing::ALL
            .into_iter()
            .filter_map(|filing| {
                self.last_day(filing, checked_on, recheck)
                    .map(|last_day| Deadline { filing, last_day })
            })
            .min_by_key(|deadline| deadline.last_day)
    }
}

impl FilingDates {
    /// The filing that runs out first when a reviewer checked the filings on `checked_on`:
    /// then every filing has a last day.
    pub fn checked_deadline(&self, checked_on: NaiveDate, recheck: RecheckPeriod) -> Deadline {
        self.deadline(Some(checked_on), recheck)
            .expect("with a check day, every filing has a last day")
    }
}

/// The filing that runs out first, and the last day it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub filing: Filing,
    pub last_day: NaiveDate,
}

/// How many days ahead reminders go out, furthest first.
pub const REMINDER_DAYS: [u32; 3] = [30, 7, 1];

/// Where an organisation's filings stand on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingStanding {
    /// Every filing is valid for more than the first reminder's days.
    Current,
    /// The earliest filing runs out within [`REMINDER_DAYS`]: `days_left` days after today
    /// (0 on its last day).
    DueSoon { deadline: Deadline, days_left: u32 },
    /// The earliest filing's last day has passed.
    Lapsed { deadline: Deadline },
}

impl Deadline {
    /// Where the filings stand on `today` (in Beijing).
    pub fn standing(&self, today: NaiveDate) -> FilingStanding {
        let days_left = (self.last_day - today).num_days();
        match u32::try_from(days_left) {
            Err(_) => FilingStanding::Lapsed { deadline: *self },
            Ok(days_left) if days_left <= REMINDER_DAYS[0] => FilingStanding::DueSoon {
                deadline: *self,
                days_left,
            },
            Ok(_) => FilingStanding::Current,
        }
    }

    /// The reminder due on `today`, if any: the nearest of [`REMINDER_DAYS`] the deadline is
    /// within, unless that one (or a nearer one) was already sent for this same last day.
    /// A day the job missed is made up by the next reminder, never by a burst of them.
    pub fn reminder_due(&self, today: NaiveDate, sent: Option<SentReminder>) -> Option<u32> {
        let FilingStanding::DueSoon { days_left, .. } = self.standing(today) else {
            return None;
        };
        let due = REMINDER_DAYS.into_iter().rev().find(|days| days_left <= *days)?;
        match sent {
            Some(sent) if sent.last_day == self.last_day && sent.days_before <= due => None,
            _ => Some(due),
        }
    }
}

/// The latest reminder sent to an organisation: for which last day, how many days ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentReminder {
    pub last_day: NaiveDate,
    pub days_before: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn fields(licence: &str, icp: &str, blockchain: &str) -> FilingDateFields {
        FilingDateFields {
            licence: licence.into(),
            icp: icp.into(),
            blockchain: blockchain.into(),
        }
    }

    #[test]
    fn dates_are_read_from_today_on_and_empty_means_none() {
        let today = day("2026-12-07");
        let dates = FilingDates::parse(&fields(" 2027-06-30 ", "", "2026-12-07"), today).unwrap();
        assert_eq!(dates.licence, Some(day("2027-06-30")));
        assert_eq!(dates.icp, None);
        assert_eq!(dates.blockchain, Some(today));
        let errors = FilingDates::parse(&fields("2026-12-06", "30/06/2027", "2027-02-30"), today).unwrap_err();
        assert_eq!(
            errors,
            [Filing::BusinessLicence, Filing::Icp, Filing::Blockchain].map(FilingDateError)
        );
    }

    #[test]
    fn the_deadline_is_the_earliest_last_day_and_undated_filings_are_rechecked() {
        let recheck = RecheckPeriod::default();
        let checked = Some(day("2026-12-01"));
        let dates = FilingDates {
            licence: Some(day("2028-01-01")),
            icp: None,
            blockchain: Some(day("2027-03-01")),
        };
        assert_eq!(
            dates.deadline(checked, recheck),
            Some(Deadline {
                filing: Filing::Blockchain,
                last_day: day("2027-03-01")
            })
        );
        let undated = FilingDates {
            blockchain: None,
            ..dates
        };
        assert_eq!(
            undated.deadline(checked, recheck),
            Some(Deadline {
                filing: Filing::Icp,
                last_day: day("2027-12-01")
            })
        );
        assert_eq!(
            undated.deadline(None, recheck).map(|d| d.filing),
            Some(Filing::BusinessLicence)
        );
        assert_eq!(FilingDates::default().deadline(None, recheck), None);
        assert_eq!(
            Some(undated.checked_deadline(day("2026-12-01"), recheck)),
            undated.deadline(checked, recheck)
        );
        assert!(RecheckPeriod::days(29).is_err() && RecheckPeriod::days(731).is_err());
        assert_eq!(
            FilingDates::default().last_day(Filing::Icp, checked, RecheckPeriod::days(30).unwrap()),
            Some(day("2026-12-31"))
        );
    }

    #[test]
    fn a_filing_is_valid_through_its_last_day_and_lapses_the_day_after() {
        let deadline = Deadline {
            filing: Filing::Icp,
            last_day: day("2027-01-31"),
        };
        assert_eq!(deadline.standing(day("2026-12-31")), FilingStanding::Current);
        assert_eq!(
            deadline.standing(day("2027-01-01")),
            FilingStanding::DueSoon {
                deadline,
                days_left: 30
            }
        );
        assert_eq!(
            deadline.standing(day("2027-01-31")),
            FilingStanding::DueSoon { deadline, days_left: 0 }
        );
        assert_eq!(
            deadline.standing(day("2027-02-01")),
            FilingStanding::Lapsed { deadline }
        );
    }

    #[test]
    fn reminders_go_out_30_7_and_1_days_ahead_once_each() {
        let deadline = Deadline {
            filing: Filing::BusinessLicence,
            last_day: day("2027-01-31"),
        };
        let sent = |days_before| {
            Some(SentReminder {
                last_day: deadline.last_day,
                days_before,
            })
        };
        assert_eq!(deadline.reminder_due(day("2026-12-31"), None), None);
        assert_eq!(deadline.reminder_due(day("2027-01-01"), None), Some(30));
        assert_eq!(deadline.reminder_due(day("2027-01-02"), sent(30)), None);
        assert_eq!(deadline.reminder_due(day("2027-01-24"), sent(30)), Some(7));
        // A job that missed the 7-day reminder sends the 1-day one, not both.
        assert_eq!(deadline.reminder_due(day("2027-01-30"), sent(30)), Some(1));
        assert_eq!(deadline.reminder_due(day("2027-01-31"), sent(1)), None);
        assert_eq!(deadline.reminder_due(day("2027-02-01"), sent(1)), None);
        // A renewal moves the last day: its reminders start again.
        let renewed = Deadline {
            last_day: day("2027-02-20"),
            ..deadline
        };
        assert_eq!(renewed.reminder_due(day("2027-01-31"), sent(1)), Some(30));
    }
}
