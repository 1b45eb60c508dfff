//! How an organisation's filings read on a page: each filing's last day, where they stand,
//! and a renewal waiting for a reviewer. Shared by the issuer console, the reviewer's case
//! page, the regulator's issuer page and the administrators' banner.

use chrono::{DateTime, NaiveDate, Utc};

use super::context::RequestContext;
use crate::domain::age::beijing_date;
use crate::domain::filing_dates::{Filing, FilingDates, FilingStanding};
use crate::domain::issuer::IssuerFilings;
use crate::services::filings::FilingRules;

/// One filing's line: its name and when it runs out.
pub struct FilingLine {
    /// `licence`, `icp` or `blockchain`: the form field is `<kind>_valid_until`.
    pub kind: &'static str,
    pub name: &'static str,
    pub until: String,
    /// The validity date as a form shows it (empty: none).
    pub value: String,
}

/// The names of where filings stand, as [`FilingsView::standing`] gives them.
pub const STANDINGS: [&str; 4] = ["unchecked", "current", "due", "lapsed"];

/// An organisation's filings as a page shows them.
pub struct FilingsView {
    pub lines: Vec<FilingLine>,
    /// One of [`STANDINGS`]: `unchecked` until a reviewer accepted the filings.
    pub standing: &'static str,
    /// What the standing means, in words.
    pub summary: String,
    /// A renewal waiting for a reviewer: its lines and when it was sent.
    pub renewal: Option<(Vec<FilingLine>, String)>,
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn lines(
    ctx: &RequestContext,
    dates: &FilingDates,
    checked_on: Option<NaiveDate>,
    rules: &FilingRules,
) -> Vec<FilingLine> {
    Filing::ALL
        .into_iter()
        .map(|filing| {
            let until = match (dates.get(filing), dates.last_day(filing, checked_on, rules.recheck)) {
                (Some(valid), _) => ctx.tf("filings.valid_until", &[("day", &day(valid))]),
                (None, Some(recheck)) => ctx.tf(
                    "filings.recheck_by",
                    &[
                        ("checked", &checked_on.map(day).unwrap_or_default()),
                        ("day", &day(recheck)),
                    ],
                ),
                (None, None) => ctx.t("filings.no_end_date").to_owned(),
            };
            FilingLine {
                kind: filing.as_str(),
                name: ctx.t2("filings.name_", filing.as_str()),
                until,
                value: dates.get(filing).map(day).unwrap_or_default(),
            }
        })
        .collect()
}

/// Where `standing` leaves the filings, in words and as a state name.
pub fn standing_words(ctx: &RequestContext, standing: Option<FilingStanding>) -> (&'static str, String) {
    match standing {
        None => ("unchecked", ctx.t("filings.standing_unchecked").to_owned()),
        Some(FilingStanding::Current) => ("current", ctx.t("filings.standing_current").to_owned()),
        Some(FilingStanding::DueSoon { deadline, .. }) => (
            "due",
            ctx.tf(
                "filings.standing_due",
                &[
                    ("filing", ctx.t2("filings.name_", deadline.filing.as_str())),
                    ("day", &day(deadline.last_day)),
                ],
            ),
        ),
        Some(FilingStanding::Lapsed { deadline }) => (
            "lapsed",
            ctx.tf(
                "filings.standing_lapsed",
                &[
                    ("filing", ctx.t2("filings.name_", deadline.filing.as_str())),
                    ("day", &day(deadline.last_day)),
                ],
            ),
        ),
    }
}

/// An issuer's filings at `now`.
pub fn issuer_filings(
    ctx: &RequestContext,
    filings: &IssuerFilings,
    rules: &FilingRules,
    now: DateTime<Utc>,
) -> FilingsView {
    let today = beijing_date(now);
    let mut standing = filings.deadline(rules.recheck).map(|d| d.standing(today));
    if filings.lapsed()
        && let Some(deadline) = filings.deadline(rules.recheck)
    {
        // Lapsed stays lapsed until a reviewer accepts a renewal, whatever the dates say.
        standing = Some(FilingStanding::Lapsed { deadline });
    }
    let (standing, summary) = standing_words(ctx, standing);
    FilingsView {
        lines: lines(ctx, &filings.dates, filings.checked_on, rules),
        standing,
        summary,
        renewal: filings
            .renewal
            .as_ref()
            .map(|renewal| (lines(ctx, &renewal.dates, None, rules), ctx.time(renewal.submitted_at))),
    }
}
