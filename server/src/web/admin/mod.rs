//! The administrator's pages: accounts and the roles granted by hand, the moderation policy,
//! the audit log's export and the annual governance report. Every route requires the admin role
//! ([`Admin`](crate::web::auth::Admin)).

pub mod audit_csv;
pub mod governance;
pub mod moderation;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::services::collections::artwork::MAX_ARTWORK_BYTES;
use crate::state::AppState;
use crate::web::render::form_page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users::users))
        .route(
            "/admin/users/{id}/two-factor/reset",
            form_page("/admin/users").post(users::reset_second_factor),
        )
        .route(
            "/admin/users/{id}/roles",
            form_page("/admin/users").post(users::change_role),
        )
        .route("/admin/moderation", get(moderation::show))
        .route(
            "/admin/moderation/terms",
            form_page("/admin/moderation").post(moderation::add_terms),
        )
        .route(
            "/admin/moderation/terms/{id}/delete",
            form_page("/admin/moderation").post(moderation::remove_term),
        )
        .route(
            "/admin/moderation/blocklist",
            form_page("/admin/moderation")
                .post(moderation::block_image)
                .layer(DefaultBodyLimit::max(MAX_ARTWORK_BYTES + 64 * 1024)),
        )
        .route(
            "/admin/moderation/blocklist/{id}/delete",
            form_page("/admin/moderation").post(moderation::unblock_image),
        )
        .route(
            "/admin/moderation/thresholds",
            form_page("/admin/moderation").post(moderation::set_thresholds),
        )
        .route("/admin/audit.csv", get(audit_csv::audit_csv))
        .route("/admin/governance", get(governance::page))
        .route("/admin/governance/report.html", get(governance::printable))
        .route("/admin/governance/report.csv", get(governance::csv_file))
}
