//! The issuer console: the pages an issuer's members work in (the issuer's home, its
//! collections with their artwork, claim codes and allowlists, members and API keys).
//! [`ActingFor`](crate::web::auth::ActingFor) admits only members of the issuer in the path.

pub mod allowlists;
pub mod codes;
pub mod collection_form;
pub mod collections;
pub mod filings;
pub mod home;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::domain::documents::MAX_DOCUMENT_BYTES;
use crate::services::collections::artwork::MAX_ARTWORK_BYTES;
use crate::state::AppState;
use crate::web::render::form_page;

/// Largest allowlist CSV.
const MAX_ALLOWLIST_BYTES: usize = 8 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(home::console_list))
        .route("/console/{issuer}", get(home::console))
        .route(
            "/console/{issuer}/resubmit",
            get(home::resubmit_form)
                .post(home::resubmit)
                .layer(DefaultBodyLimit::max(4 * MAX_DOCUMENT_BYTES)),
        )
        .route("/console/{issuer}/filings", get(filings::show).post(filings::renew))
        .route(
            "/console/{issuer}/invitations",
            form_page("/console/{issuer}").post(home::invite),
        )
        .route(
            "/console/{issuer}/api-keys",
            form_page("/console/{issuer}").post(home::create_key),
        )
        .route(
            "/console/{issuer}/api-keys/{key}/revoke",
            form_page("/console/{issuer}").post(home::revoke_key),
        )
        .route("/issuers/{issuer}/documents/{document}", get(home::document))
        .route(
            "/console/{issuer}/collections",
            form_page("/console/{issuer}")
                .post(collection_form::create)
                .layer(DefaultBodyLimit::max(MAX_ARTWORK_BYTES + 64 * 1024)),
        )
        .route("/console/{issuer}/collections/new", get(collection_form::new_form))
        .route("/console/{issuer}/collections/{id}", get(collections::detail))
        .route(
            "/console/{issuer}/collections/{id}/edit",
            get(collection_form::edit_form)
                .post(collection_form::edit)
                .layer(DefaultBodyLimit::max(MAX_ARTWORK_BYTES + 64 * 1024)),
        )
        .route(
            "/console/{issuer}/collections/{id}/submit",
            form_page("/console/{issuer}/collections/{id}").post(collections::submit),
        )
        .route(
            "/console/{issuer}/collections/{id}/publish",
            form_page("/console/{issuer}/collections/{id}").post(collections::publish),
        )
        .route(
            "/console/{issuer}/collections/{id}/close",
            form_page("/console/{issuer}/collections/{id}").post(collections::close),
        )
        .route(
            "/console/{issuer}/collections/{id}/claims.csv",
            get(collections::claims_csv),
        )
        .route(
            "/console/{issuer}/collections/{id}/codes",
            get(codes::sheet).post(codes::generate),
        )
        .route(
            "/console/{issuer}/collections/{id}/allowlist",
            get(allowlists::report)
                .post(allowlists::upload)
                .layer(DefaultBodyLimit::max(MAX_ALLOWLIST_BYTES)),
        )
}
