//! The audit log for a date range as CSV, for administrators: every row, oldest first, with
//! the hour's count of refused transfers a row stands for; streamed a page at a time.

use axum::extract::{Query, State};
use axum::response::Response;

use crate::domain::page::PageSize;
use crate::services::audit::{self, AuditRow, Logged};
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::csv_export::streamed;
use crate::web::error::{AppError, AppResult};
use crate::web::review::audit::AuditQuery;

/// The audit log for a date range as CSV (admins only).
pub async fn audit_csv(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    let filter = query.filter()?;
    if filter.from.is_none() || filter.until.is_none() {
        return Err(AppError::BadRequest);
    }
    let filename = format!("audit-{}-{}.csv", query.from.trim(), query.to.trim());
    let header = [
        "id",
        "at",
        "actor_user_id",
        "action",
        "subject_type",
        "subject_id",
        "before",
        "after",
        "reason",
        "details",
        "request_id",
        "transfer_attempts_in_hour",
    ];
    streamed(&filename, &header, move |after| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let logged = audit::oldest_first(&state.services, &filter, after, PageSize::MAX_PAGE).await?;
            Ok((logged.rows.iter().map(|row| cells(&logged, row)).collect(), logged.next))
        }
    })
    .await
}

/// A row's cells; a refused transfer's row stands for every attempt on its token in that
/// clock hour.
fn cells(logged: &Logged, row: &AuditRow) -> Vec<String> {
    vec![
        row.id.to_string(),
        row.at.to_rfc3339(),
        row.actor_user_id.map(|id| id.to_string()).unwrap_or_default(),
        row.action.clone(),
        row.subject_type.clone(),
        row.subject_id.clone(),
        row.before_state.clone().unwrap_or_default(),
        row.after_state.clone().unwrap_or_default(),
        row.reason.clone().unwrap_or_default(),
        row.details.clone().unwrap_or_default(),
        row.request_id.clone().unwrap_or_default(),
        logged.attempts_of(row).map(|n| n.to_string()).unwrap_or_default(),
    ]
}
