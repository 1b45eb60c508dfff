//! The audit log as reviewers and regulators read it (`/review/audit`, `/regulator/audit`):
//! every decision with its actor, subject, states, reason, details, time and request id, newest
//! first a page at a time, filtered by action, subject and days.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::lines::{AuditLine, lines};
use crate::domain::audit::{AuditAction, AuditFilter, action_key};
use crate::domain::page::{self, Cursor, PageSize, TimeKey};
use crate::services::audit;
use crate::state::AppState;
use crate::web::auth::{Regulator, Reviewer};
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub subject_type: String,
    #[serde(default)]
    pub subject_id: String,
    /// The first day, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    /// The last day, included.
    #[serde(default)]
    pub to: String,
    /// Where the page starts: the `next` cursor of the page before (newer rows).
    #[serde(default)]
    pub before: String,
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn day_start(value: &str) -> AppResult<Option<DateTime<Utc>>> {
    match non_empty(value) {
        None => Ok(None),
        Some(day) => NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()))
            .map_err(|_| AppError::BadRequest),
    }
}

impl AuditQuery {
    /// The same list on `page` from its first page, or from `before` (a page's cursor).
    fn link(&self, page: &str, before: Option<&str>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &self.action),
            ("subject_type", &self.subject_type),
            ("subject_id", &self.subject_id),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        if let Some(before) = before {
            query.append_pair("before", before);
        }
        let query = query.finish();
        if query.is_empty() {
            page.to_owned()
        } else {
            format!("{page}?{query}")
        }
    }

    /// The filter; `to` is inclusive (the whole day).
    pub fn filter(&self) -> AppResult<AuditFilter> {
        Ok(AuditFilter {
            action: non_empty(&self.action),
            subject_type: non_empty(&self.subject_type),
            subject_id: non_empty(&self.subject_id),
            from: day_start(&self.from)?,
            until: day_start(&self.to)?.map(|d| d + chrono::Duration::days(1)),
        })
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTemplate {
    ctx: RequestContext,
    /// Where the filter form sends its query: the console the reader came from.
    page: &'static str,
    rows: Vec<AuditLine>,
    query: AuditQuery,
    /// The page of older rows, when there are any.
    older: Option<String>,
    /// The list's first page with the same filter.
    newest: String,
    /// (stored name, message key) of every action, for the filter.
    actions: Vec<(&'static str, String)>,
    subject_types: [&'static str; 8],
}

const AUDIT_PAGE_ROWS: PageSize = PageSize::fixed(200);

/// `GET /review/audit`.
pub async fn audit(
    State(state): State<AppState>,
    ctx: RequestContext,
    _reviewer: Reviewer,
    Query(query): Query<AuditQuery>,
) -> AppResult<Html<String>> {
    audit_page(&state, ctx, "/review/audit", query).await
}

/// `GET /regulator/audit`: the same log, read-only as every regulator page.
pub async fn regulator_audit(
    State(state): State<AppState>,
    ctx: RequestContext,
    _regulator: Regulator,
    Query(query): Query<AuditQuery>,
) -> AppResult<Html<String>> {
    audit_page(&state, ctx, "/regulator/audit", query).await
}

async fn audit_page(
    state: &AppState,
    ctx: RequestContext,
    page: &'static str,
    query: AuditQuery,
) -> AppResult<Html<String>> {
    let before = page::after::<TimeKey>(Some(query.before.trim()))?;
    let logged = audit::newest_first(&state.services, &query.filter()?, before, AUDIT_PAGE_ROWS).await?;
    let rows = lines(&ctx, &logged);
    render(AuditTemplate {
        ctx,
        page,
        rows,
        older: logged.next.map(|next| query.link(page, Some(&next.encode()))),
        newest: query.link(page, None),
        query,
        actions: AuditAction::ALL
            .iter()
            .map(|a| (a.as_str(), action_key(a.as_str())))
            .collect(),
        subject_types: [
            "identity",
            "issuer",
            "collection",
            "token",
            "user",
            "moderation_policy",
            "report",
            "appeal",
        ],
    })
}
