//! The audit log for a date range as CSV, for administrators: every row, oldest first, with
//! the hour's count of refused transfers a row stands for.

use axum::extract::{Query, State};
use axum::response::Response;

use crate::services::audit;
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::csv_export::CsvFile;
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
    let logged = audit::list(&state.services, &filter, None).await?;
    let mut csv = CsvFile::new(&[
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
    ])?;
    // A refused transfer's row stands for every attempt on its token in that clock hour.
    for row in logged.rows.iter().rev() {
        let hour_attempts = logged.attempts_of(row).map(|n| n.to_string()).unwrap_or_default();
        csv.row([
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
            hour_attempts,
        ])?;
    }
    csv.into_download(&format!("audit-{}-{}.csv", query.from.trim(), query.to.trim()))
}
