//! The annual content-governance report (网络信息内容生态治理 年度报告): what the platform
//! reviewed and decided, took down, was told through reports and appeals, and refused to minors,
//! in one calendar year in Beijing time. Figures only: the report names no one.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::collection::terms::beijing;

/// Refusals counted by kind and day, never by person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CountedRefusal {
    /// Someone under 14 tried to verify their identity (nothing of theirs is kept).
    MinorIdentity,
    /// A claim refused for the claimant's age.
    AgeRestrictedClaim,
    /// Someone below the minimum age applied to found an issuer.
    TooYoungMember,
}

impl CountedRefusal {
    pub const ALL: [CountedRefusal; 3] = [
        CountedRefusal::MinorIdentity,
        CountedRefusal::AgeRestrictedClaim,
        CountedRefusal::TooYoungMember,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CountedRefusal::MinorIdentity => "minor_identity",
            CountedRefusal::AgeRestrictedClaim => "age_restricted_claim",
            CountedRefusal::TooYoungMember => "too_young_member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A calendar year in Beijing time, from 2020 (before any platform like this) to 2100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GovernanceYear(i32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a report covers a calendar year from 2020 to 2100")]
pub struct YearError;

impl GovernanceYear {
    pub fn new(year: i32) -> Result<Self, YearError> {
        if (2020..=2100).contains(&year) {
            Ok(Self(year))
        } else {
            Err(YearError)
        }
    }

    pub fn parse(text: &str) -> Result<Self, YearError> {
        Self::new(text.trim().parse().map_err(|_| YearError)?)
    }

    pub fn year(self) -> i32 {
        self.0
    }

    /// The first instant of the year in Beijing.
    pub fn starts(self) -> DateTime<Utc> {
        new_year(self.0)
    }

    /// The first instant of the next year in Beijing.
    pub fn ends(self) -> DateTime<Utc> {
        new_year(self.0 + 1)
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 1, 1).expect("1 January exists")
    }

    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 12, 31).expect("31 December exists")
    }
}

fn new_year(year: i32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .expect("1 January exists")
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(beijing())
        .single()
        .expect("a fixed offset has one local time")
        .to_utc()
}

/// How long decisions took, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Durations {
    pub decided: u64,
    pub median_hours: Option<f64>,
    pub longest_hours: Option<f64>,
}

impl Durations {
    /// From the hours each decision took, in any order.
    pub fn of(mut hours: Vec<f64>) -> Self {
        hours.sort_by(f64::total_cmp);
        let median = match hours.len() {
            0 => None,
            n if n % 2 == 1 => Some(hours[n / 2]),
            n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
        };
        Durations {
            decided: hours.len() as u64,
            median_hours: median,
            longest_hours: hours.last().copied(),
        }
    }
}

/// One year's figures. Keys are the stored names (actions, reason codes, categories,
/// statuses); pages and files put them in words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GovernanceFigures {
    /// Review decisions by audit action (`collection.approved`, `identity.rejected`, …).
    pub decisions: BTreeMap<String, u64>,
    /// Collection decisions against the issuer by reason code.
    pub decisions_by_code: BTreeMap<String, u64>,
    /// Submissions screening rejected by itself.
    pub auto_rejected: u64,
    /// Takedowns by audit action (`collection.frozen`, `token.revoked`, …).
    pub takedowns: BTreeMap<String, u64>,
    /// Reports received by category, and their outcomes by status.
    pub reports_by_category: BTreeMap<String, u64>,
    pub reports_by_status: BTreeMap<String, u64>,
    pub report_times: Durations,
    /// Appeals filed by decision appealed, and their outcomes by status.
    pub appeals_by_decision: BTreeMap<String, u64>,
    pub appeals_by_status: BTreeMap<String, u64>,
    pub appeal_times: Durations,
    /// Refusals for age, by kind.
    pub minors_refused: BTreeMap<String, u64>,
    /// Identities revealed to regulators on legal requests.
    pub reveals: u64,
    /// Issuers' filings that ran out, and renewals accepted and refused, by audit action.
    pub filings: BTreeMap<String, u64>,
}

impl GovernanceFigures {
    /// Every figure as (section, item, value) rows, in the report's order: what the CSV file holds.
    pub fn rows(&self) -> Vec<(&'static str, String, String)> {
        let mut rows = Vec::new();
        let mut map = |section: &'static str, values: &BTreeMap<String, u64>| {
            for (item, count) in values {
                rows.push((section, item.clone(), count.to_string()));
            }
        };
        map("decisions", &self.decisions);
        map("decisions_by_reason_code", &self.decisions_by_code);
        map("takedowns", &self.takedowns);
        map("reports_by_category", &self.reports_by_category);
        map("reports_by_status", &self.reports_by_status);
        map("appeals_by_decision", &self.appeals_by_decision);
        map("appeals_by_status", &self.appeals_by_status);
        map("minors_refused", &self.minors_refused);
        map("filings", &self.filings);
        let hours = |h: Option<f64>| h.map(|h| format!("{h:.1}")).unwrap_or_default();
        rows.push(("screening", "auto_rejected".to_owned(), self.auto_rejected.to_string()));
        for (section, times) in [
            ("report_times", &self.report_times),
            ("appeal_times", &self.appeal_times),
        ] {
            rows.push((section, "decided".to_owned(), times.decided.to_string()));
            rows.push((section, "median_hours".to_owned(), hours(times.median_hours)));
            rows.push((section, "longest_hours".to_owned(), hours(times.longest_hours)));
        }
        rows.push(("oversight", "identity_reveals".to_owned(), self.reveals.to_string()));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_runs_from_new_year_to_new_year_in_beijing() {
        let year = GovernanceYear::new(2026).unwrap();
        assert_eq!(year.starts().to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(year.ends().to_rfc3339(), "2026-12-31T16:00:00+00:00");
        assert_eq!(GovernanceYear::parse(" 2026 "), Ok(year));
        assert_eq!(GovernanceYear::parse("1999"), Err(YearError));
        assert_eq!(GovernanceYear::parse("next"), Err(YearError));
    }

    #[test]
    fn durations_give_the_median_and_the_longest() {
        assert_eq!(Durations::of(vec![]), Durations::default());
        let odd = Durations::of(vec![5.0, 1.0, 3.0]);
        assert_eq!(
            (odd.decided, odd.median_hours, odd.longest_hours),
            (3, Some(3.0), Some(5.0))
        );
        let even = Durations::of(vec![4.0, 1.0, 2.0, 10.0]);
        assert_eq!(even.median_hours, Some(3.0));
    }

    #[test]
    fn rows_hold_every_section() {
        let mut figures = GovernanceFigures::default();
        figures.takedowns.insert("collection.frozen".into(), 2);
        figures.minors_refused.insert("minor_identity".into(), 1);
        let rows = figures.rows();
        assert!(rows.contains(&("takedowns", "collection.frozen".into(), "2".into())));
        assert!(rows.contains(&("minors_refused", "minor_identity".into(), "1".into())));
        assert!(rows.contains(&("oversight", "identity_reveals".into(), "0".into())));
        for kind in CountedRefusal::ALL {
            assert_eq!(CountedRefusal::parse(kind.as_str()), Some(kind));
        }
    }
}
