//! The annual content-governance report: the admin's page (a year, the figures, the printable
//! document and the CSV file) and the document `keepsake report governance` writes.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::{Datelike, Utc};
use serde::Deserialize;

use crate::domain::age::beijing_date;
use crate::domain::audit::action_key;
use crate::domain::governance::{Durations, GovernanceFigures, GovernanceYear};
use crate::i18n::Locale;
use crate::services::governance;
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::context::RequestContext;
use crate::web::csv_export::CsvFile;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;

/// One part of the report: its title and its lines (label, figure), in the reader's language.
pub struct Section {
    pub title: &'static str,
    pub lines: Vec<(String, String)>,
}

/// A line per counted value, or one saying there were none.
fn counted(locale: Locale, values: &BTreeMap<String, u64>, label: impl Fn(&str) -> String) -> Vec<(String, String)> {
    if values.is_empty() {
        return vec![(locale.t("governance.none").to_owned(), "0".to_owned())];
    }
    breakdown(values, label)
}

/// A line per counted value.
fn breakdown(values: &BTreeMap<String, u64>, label: impl Fn(&str) -> String) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(key, count)| (label(key), count.to_string()))
        .collect()
}

/// Cases received, then by kind and by outcome, then how long they took.
fn cases(
    locale: Locale,
    by_kind: &BTreeMap<String, u64>,
    kind: impl Fn(&str) -> String,
    by_status: &BTreeMap<String, u64>,
    status: impl Fn(&str) -> String,
    durations: &Durations,
) -> Vec<(String, String)> {
    let received: u64 = by_kind.values().sum();
    std::iter::once((locale.t("governance.received").to_owned(), received.to_string()))
        .chain(breakdown(by_kind, kind))
        .chain(breakdown(by_status, status))
        .chain(times(locale, durations))
        .collect()
}

fn times(locale: Locale, times: &Durations) -> Vec<(String, String)> {
    let hours = |h: Option<f64>| {
        h.map(|h| locale.tf("governance.hours", &[("hours", &format!("{h:.1}"))]))
            .unwrap_or_else(|| "—".to_owned())
    };
    vec![
        (locale.t("governance.decided").to_owned(), times.decided.to_string()),
        (locale.t("governance.median").to_owned(), hours(times.median_hours)),
        (locale.t("governance.longest").to_owned(), hours(times.longest_hours)),
    ]
}

/// The report's sections in `locale`.
pub fn sections(locale: Locale, figures: &GovernanceFigures) -> Vec<Section> {
    let t = |key: &str| locale.t(key).to_owned();
    let family = |prefix: &'static str| move |value: &str| locale.t(&format!("{prefix}{value}")).to_owned();
    let mut reviews = counted(locale, &figures.decisions, |action| t(&action_key(action)));
    reviews.push((t("governance.auto_rejected"), figures.auto_rejected.to_string()));
    vec![
        Section {
            title: locale.t("governance.section_reviews"),
            lines: reviews,
        },
        Section {
            title: locale.t("governance.section_reason_codes"),
            lines: counted(locale, &figures.decisions_by_code, family("reason_code.")),
        },
        Section {
            title: locale.t("governance.section_takedowns"),
            lines: counted(locale, &figures.takedowns, |action| t(&action_key(action))),
        },
        Section {
            title: locale.t("governance.section_reports"),
            lines: cases(
                locale,
                &figures.reports_by_category,
                family("report.category_"),
                &figures.reports_by_status,
                family("report.status_"),
                &figures.report_times,
            ),
        },
        Section {
            title: locale.t("governance.section_appeals"),
            lines: cases(
                locale,
                &figures.appeals_by_decision,
                family("appeal.decision_"),
                &figures.appeals_by_status,
                family("appeal.status_"),
                &figures.appeal_times,
            ),
        },
        Section {
            title: locale.t("governance.section_minors"),
            lines: counted(locale, &figures.minors_refused, family("governance.refusal_")),
        },
        Section {
            title: locale.t("governance.section_filings"),
            lines: counted(locale, &figures.filings, |action| t(&action_key(action))),
        },
        Section {
            title: locale.t("governance.section_oversight"),
            lines: vec![(t("governance.reveals"), figures.reveals.to_string())],
        },
    ]
}

/// The printable document: the year's figures under the operator's name, in `locale`.
#[derive(Template)]
#[template(path = "governance_report.html")]
struct DocumentTemplate<'a> {
    lang: &'static str,
    title: String,
    operator: &'a str,
    period: String,
    made: String,
    sections: Vec<Section>,
    locale: Locale,
}

/// The document as HTML, for the admin page's print view and for the command line.
pub fn document(
    locale: Locale,
    operator: &str,
    year: GovernanceYear,
    figures: &GovernanceFigures,
) -> Result<String, askama::Error> {
    DocumentTemplate {
        lang: locale.tag(),
        title: locale.tf("governance.title", &[("year", &year.year().to_string())]),
        operator,
        period: locale.tf(
            "governance.period",
            &[
                ("from", &year.first_day().to_string()),
                ("to", &year.last_day().to_string()),
            ],
        ),
        made: locale.time(Utc::now()),
        sections: sections(locale, figures),
        locale,
    }
    .render()
}

/// The figures as CSV: `section,item,value`, items by their stored names.
pub fn csv(figures: &GovernanceFigures) -> AppResult<CsvFile> {
    let mut file = CsvFile::new(&["section", "item", "value"])?;
    for (section, item, value) in figures.rows() {
        file.row([section, item.as_str(), value.as_str()])?;
    }
    Ok(file)
}

#[derive(Deserialize, Default)]
pub struct YearParam {
    #[serde(default)]
    year: String,
}

/// The year asked for, or this one.
fn year_of(param: &YearParam) -> AppResult<GovernanceYear> {
    match param.year.trim() {
        "" => GovernanceYear::new(beijing_date(Utc::now()).year()).map_err(|_| AppError::BadRequest),
        year => GovernanceYear::parse(year).map_err(|_| AppError::BadRequest),
    }
}

#[derive(Template)]
#[template(path = "admin_governance.html")]
struct PageTemplate {
    ctx: RequestContext,
    year: i32,
    sections: Vec<Section>,
}

/// `GET /admin/governance?year=`.
pub async fn page(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: Admin,
    Query(param): Query<YearParam>,
) -> AppResult<Html<String>> {
    let year = year_of(&param)?;
    let figures = governance::figures(&state.services, year).await?;
    render(PageTemplate {
        sections: sections(ctx.locale, &figures),
        year: year.year(),
        ctx,
    })
}

/// `GET /admin/governance/report.html?year=`: the document to print or hand in.
pub async fn printable(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: Admin,
    Query(param): Query<YearParam>,
) -> AppResult<Html<String>> {
    let year = year_of(&param)?;
    let figures = governance::figures(&state.services, year).await?;
    let operator = &state.config.operator.name;
    Ok(Html(document(ctx.locale, operator, year, &figures)?))
}

/// `GET /admin/governance/report.csv?year=`.
pub async fn csv_file(
    State(state): State<AppState>,
    _admin: Admin,
    Query(param): Query<YearParam>,
) -> AppResult<Response> {
    let year = year_of(&param)?;
    let figures = governance::figures(&state.services, year).await?;
    csv(&figures)?.into_download(&format!("governance-{}.csv", year.year()))
}
