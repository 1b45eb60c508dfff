//! The reviewer console: the queue, identity checks, issuer applications and sanctions,
//! collection review with the four-eyes rule, decisions on tokens, reports, appeals, and the audit log. Every
//! route requires the reviewer role ([`Reviewer`](crate::web::auth::Reviewer); admins review
//! too).

pub mod appeals;
pub mod audit;
pub mod collections;
pub mod identities;
pub mod issuers;
pub mod lines;
pub mod queue;
pub mod reports;
pub mod tokens;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;
use crate::web::render::form_page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(queue::queue))
        .route("/review/identities/{user}", get(identities::case))
        .route(
            "/review/identities/{user}/claim",
            form_page("/review/identities/{user}").post(identities::claim),
        )
        .route(
            "/review/identities/{user}/decision",
            form_page("/review/identities/{user}").post(identities::decide),
        )
        .route("/review/issuers/{id}", get(issuers::case))
        .route(
            "/review/issuers/{id}/claim",
            form_page("/review/issuers/{id}").post(issuers::claim),
        )
        .route(
            "/review/issuers/{id}/decision",
            form_page("/review/issuers/{id}").post(issuers::decide),
        )
        .route(
            "/review/issuers/{id}/renewal",
            form_page("/review/issuers/{id}").post(issuers::decide_renewal),
        )
        .route("/review/collections/{id}", get(collections::case))
        .route(
            "/review/collections/{id}/claim",
            form_page("/review/collections/{id}").post(collections::claim),
        )
        .route(
            "/review/collections/{id}/decision",
            form_page("/review/collections/{id}").post(collections::decide),
        )
        .route(
            "/review/collections/{id}/ai-label",
            form_page("/review/collections/{id}").post(collections::label_ai),
        )
        .route(
            "/review/collections/{id}/tokens",
            form_page("/review/collections/{id}").post(tokens::decide_collection),
        )
        .route(
            "/review/tokens/{id}/decision",
            form_page("/tokens/{id}").post(tokens::decide),
        )
        .route("/review/audit", get(audit::audit))
        .route("/review/appeals", get(appeals::queue))
        .route("/review/appeals/{id}", get(appeals::case))
        .route(
            "/review/appeals/{id}/claim",
            form_page("/review/appeals/{id}").post(appeals::claim),
        )
        .route(
            "/review/appeals/{id}/decision",
            form_page("/review/appeals/{id}").post(appeals::decide),
        )
        .route("/review/reports", get(reports::queue))
        .route("/review/reports/{id}", get(reports::case))
        .route(
            "/review/reports/{id}/claim",
            form_page("/review/reports/{id}").post(reports::claim),
        )
        .route(
            "/review/reports/{id}/decision",
            form_page("/review/reports/{id}").post(reports::decide),
        )
}
