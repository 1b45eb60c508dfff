//! The regulator's console: read-only pages on every issuer (filings, status history,
//! collections), every collection (terms, screening findings, review decisions and reasons,
//! claims over time, token decisions) and the audit log; reveals of one identity on a legal
//! request; and signed export bundles. Every route requires the regulator role
//! ([`Regulator`](crate::web::auth::Regulator)); the only writes are the reveal and the export
//! records, each audited.

pub mod cases;
pub mod exports;
pub mod reveals;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;
use crate::web::review::audit;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/regulator", get(cases::issuers))
        .route("/regulator/issuers/{id}", get(cases::issuer))
        .route("/regulator/collections/{id}", get(cases::collection))
        .route("/regulator/audit", get(audit::regulator_audit))
        .route("/regulator/reveals", get(reveals::list).post(reveals::reveal))
        .route("/regulator/reveals/{id}", get(reveals::show))
        .route("/regulator/exports", get(exports::list).post(exports::export))
        .route("/regulator/exports/{id}/bundle", get(exports::bundle))
}
