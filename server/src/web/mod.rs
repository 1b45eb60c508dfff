//! The server-rendered web interface: routes, middleware and page handlers.
//!
//! Request flow, outermost first: request id, trace span, reading of unread bodies, security
//! headers, request context (session, language, CSRF cookie), error-page rendering, CSRF
//! check, panic catcher, handler.
//!
//! Every address a form posts to also answers GET (a reload, a language switch, a bookmark)
//! by going to the page the form is on, and any other method a route does not take gets a
//! page that says so: no browser ever sees a bare 405.

mod accounts;
mod admin;
mod api;
mod audit_view;
pub mod auth;
mod claim_box;
mod claim_codes;
mod claims;
mod client;
mod collection_review;
mod collections;
pub mod context;
mod csrf;
mod csv_export;
pub mod error;
mod error_page;
mod explore;
mod form_result;
mod identity;
mod issuer_api;
mod issuers;
mod ledger;
pub mod log_path;
mod moderation;
mod ops;
mod pages;
mod review;
mod share;
pub mod tiles;
mod token_review;
mod unread_body;
mod verify;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use self::collections::MAX_ARTWORK_BYTES;
use self::error::{AppError, AppResult};
use crate::domain::attestation::MAX_ATTESTED_FILE_BYTES;
use crate::domain::documents::MAX_DOCUMENT_BYTES;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Renders a page template.
pub fn render(template: impl Template) -> AppResult<Html<String>> {
    Ok(Html(template.render()?))
}

/// Renders a page template with a non-200 status (form errors, refusals).
pub fn render_with(status: StatusCode, template: impl Template) -> AppResult<Response> {
    Ok((status, render(template)?).into_response())
}

/// Irreversible actions (closing a collection, revoking a token or an API key) are sent with
/// a ticked `confirm` box; without it nothing happens and the page says why.
pub fn confirmed(confirm: Option<&str>) -> AppResult<()> {
    match confirm {
        Some("yes") => Ok(()),
        _ => Err(AppError::ConfirmationRequired),
    }
}

/// `page` with each `{name}` replaced by the route's segment of that name.
fn fill(page: &str, params: &HashMap<String, String>) -> String {
    params.iter().fold(page.to_owned(), |path, (name, value)| {
        let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        path.replace(&format!("{{{name}}}"), &value)
    })
}

/// The GET side of an address that forms post to: a reload, a language switch or a bookmark
/// of a form's result goes to `page`, the page with the form (its `{name}` segments are the
/// route's own).
fn form_page(page: &'static str) -> MethodRouter<AppState> {
    if page.contains('{') {
        get(move |Path(params): Path<HashMap<String, String>>| async move { Redirect::to(&fill(page, &params)) })
    } else {
        get(move || async move { Redirect::to(page) })
    }
}

pub fn router(state: AppState) -> Router {
    let https = state.config.cookie_secure;
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/lang/{tag}", get(pages::switch_language))
        .route("/explore", get(explore::explore))
        .route("/account", get(pages::account))
        .route("/signup", get(accounts::signup_form).post(accounts::signup))
        .route("/signup/sent", get(accounts::signup_sent))
        .route("/verify-email/sent", get(accounts::verification_sent))
        .route("/password/forgot/sent", get(accounts::reset_link_sent))
        .route("/login", get(accounts::login_form).post(accounts::login))
        .route("/login/unlock/{token}", get(accounts::unlock))
        .route("/login/unlocked", get(accounts::unlocked))
        .route("/logout", form_page("/").post(accounts::logout))
        .route("/verify-email/{token}", get(accounts::verify_email))
        .route("/verify-email/done", get(accounts::email_verified))
        .route(
            "/verify-email/resend",
            form_page("/login").post(accounts::resend_verification),
        )
        .route("/password/forgot", get(accounts::forgot_form).post(accounts::forgot))
        .route(
            "/password/reset/{token}",
            get(accounts::reset_form).post(accounts::reset),
        )
        .route("/password/reset/done", get(accounts::password_changed))
        .route("/identity", get(identity::show).post(identity::submit))
        .route("/identity/retry", form_page("/identity").post(identity::retry))
        .route("/identity/status", get(identity::status))
        .route("/api/v1/kyc/callback", post(api::kyc_callback))
        .route("/review", get(review::queue))
        .route("/review/identities/{user}", get(review::case))
        .route(
            "/review/identities/{user}/claim",
            form_page("/review/identities/{user}").post(review::claim),
        )
        .route(
            "/review/identities/{user}/decision",
            form_page("/review/identities/{user}").post(review::decide),
        )
        .route("/review/issuers/{id}", get(review::issuer_case))
        .route(
            "/review/issuers/{id}/claim",
            form_page("/review/issuers/{id}").post(review::claim_issuer),
        )
        .route(
            "/review/issuers/{id}/decision",
            form_page("/review/issuers/{id}").post(review::decide_issuer),
        )
        .route("/review/collections/{id}", get(collection_review::case))
        .route(
            "/review/collections/{id}/claim",
            form_page("/review/collections/{id}").post(collection_review::claim),
        )
        .route(
            "/review/collections/{id}/decision",
            form_page("/review/collections/{id}").post(collection_review::decide),
        )
        .route("/review/audit", get(review::audit))
        .route(
            "/issuers/apply",
            get(issuers::apply_form)
                .post(issuers::apply)
                .layer(DefaultBodyLimit::max(4 * MAX_DOCUMENT_BYTES)),
        )
        .route("/issuers/{id}", get(issuers::public_page))
        .route("/verify", get(verify::show))
        .route("/verify/offline", get(verify::offline))
        .route("/verify/keepsake", get(verify::download))
        .route(
            "/verify/file",
            form_page("/verify")
                .post(verify::file)
                .layer(DefaultBodyLimit::max(MAX_ATTESTED_FILE_BYTES + 64 * 1024)),
        )
        .route(
            "/verify/receipt",
            form_page("/verify")
                .post(verify::receipt)
                .layer(DefaultBodyLimit::max(2 * verify::MAX_RECEIPT_BYTES + 64 * 1024)),
        )
        .route("/issuers/{issuer}/documents/{document}", get(issuers::document))
        .route("/console", get(issuers::console_list))
        .route("/console/{issuer}", get(issuers::console))
        .route(
            "/console/{issuer}/resubmit",
            get(issuers::resubmit_form)
                .post(issuers::resubmit)
                .layer(DefaultBodyLimit::max(4 * MAX_DOCUMENT_BYTES)),
        )
        .route(
            "/console/{issuer}/invitations",
            form_page("/console/{issuer}").post(issuers::invite),
        )
        .route(
            "/console/{issuer}/collections",
            form_page("/console/{issuer}")
                .post(collections::create)
                .layer(DefaultBodyLimit::max(MAX_ARTWORK_BYTES + 64 * 1024)),
        )
        .route("/console/{issuer}/collections/new", get(collections::new_form))
        .route("/console/{issuer}/collections/{id}", get(collections::detail))
        .route(
            "/console/{issuer}/collections/{id}/edit",
            get(collections::edit_form)
                .post(collections::edit)
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
        .route("/collections/{id}", get(collections::public_page))
        .route("/collections/{id}/artwork/{variant}", get(collections::artwork))
        .route(
            "/collections/{id}/claim",
            form_page("/collections/{id}").post(claims::claim),
        )
        .route("/tokens/{id}", get(claims::token_page))
        .route("/tokens/{id}/certificate.json", get(claims::certificate))
        .route("/tokens/{id}/certificate.png", get(claims::certificate_image))
        .route(
            "/review/tokens/{id}/decision",
            form_page("/tokens/{id}").post(token_review::decide),
        )
        .route(
            "/review/collections/{id}/tokens",
            form_page("/review/collections/{id}").post(token_review::decide_collection),
        )
        .route("/c", get(claim_codes::typed))
        .route("/c/{code}", get(claim_codes::show).post(claim_codes::redeem))
        .route(
            "/console/{issuer}/collections/{id}/codes",
            get(claim_codes::sheet).post(claim_codes::generate),
        )
        .route(
            "/console/{issuer}/collections/{id}/allowlist",
            get(collections::allowlist_report)
                .post(collections::upload_allowlist)
                .layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route(claims::MY_COLLECTION, get(claims::my_collection))
        .route("/api/v1/tokens/{id}/transfer", post(claims::transfer))
        .route(
            "/api/v1/collections/{id}/claims",
            post(claims::claim_api).get(issuer_api::claims),
        )
        .route("/api/v1/collections/{id}/stats", get(issuer_api::stats))
        .route("/api/v1/collections/{id}/codes", post(issuer_api::codes))
        .route(
            "/console/{issuer}/api-keys",
            form_page("/console/{issuer}").post(issuers::create_key),
        )
        .route(
            "/console/{issuer}/api-keys/{key}/revoke",
            form_page("/console/{issuer}").post(issuers::revoke_key),
        )
        .route(
            "/invitations/{token}",
            get(issuers::invitation).post(issuers::accept_invitation),
        )
        .route("/api/v1/issuer", get(api::issuer))
        .route(
            "/api/v1/attestations",
            post(ledger::attest).layer(DefaultBodyLimit::max(MAX_ATTESTED_FILE_BYTES + 64 * 1024)),
        )
        .route("/api/v1/attestations/{sha3_256}", get(ledger::attestations))
        .route("/api/v1/ledger/checkpoint", get(ledger::checkpoint))
        .route("/api/v1/ledger/checkpoints/{size}", get(ledger::checkpoint_for))
        .route("/api/v1/ledger/key", get(ledger::verifier_key))
        .route("/api/v1/ledger/keys", get(ledger::verifier_keys_listed))
        .route("/api/v1/ledger/entries/{index}", get(ledger::entry))
        .route("/api/v1/ledger/entries/{index}/receipt", get(ledger::entry_receipt))
        .route("/api/v1/ledger/proofs/inclusion", get(ledger::inclusion_proof))
        .route("/api/v1/ledger/proofs/consistency", get(ledger::consistency_proof))
        .route("/admin/audit.csv", get(review::audit_csv))
        .route("/admin/users", get(admin::users))
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
        .route(
            "/admin/users/{id}/roles",
            form_page("/admin/users").post(admin::change_role),
        )
        .fallback(pages::not_found)
        .method_not_allowed_fallback(pages::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(state.clone(), context::load))
                .layer(middleware::from_fn(error_page::render))
                .layer(middleware::from_fn(csrf::guard))
                .layer(CatchPanicLayer::custom(|_| {
                    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
                })),
        );

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/ledger/checkpoint", get(tiles::checkpoint))
        .route("/ledger/tile/{*path}", get(tiles::tile))
        .nest_service("/static", ServeDir::new(static_dir()))
        .merge(pages)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let path = log_path::loggable(request.uri().path());
                    tracing::info_span!("request", method = %request.method(), %path, request_id)
                }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn(unread_body::drain))
                .layer(SetResponseHeaderLayer::if_not_present(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::if_not_present(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
                .layer(SetResponseHeaderLayer::if_not_present(REFERRER_POLICY, HeaderValue::from_static("same-origin")))
                .layer(SetResponseHeaderLayer::if_not_present(
                    CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                    ),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")))
                // Served over HTTPS, browsers are told to come back only over HTTPS.
                .option_layer(https.then(|| {
                    SetResponseHeaderLayer::overriding(
                        STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    )
                })),
        )
}

/// The crate's `static/`, found from the working directory or where the crate was built.
fn static_dir() -> std::path::PathBuf {
    let candidates = [
        std::path::PathBuf::from("static"),
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")),
    ];
    candidates
        .iter()
        .find(|p| p.join("keepsake.css").is_file())
        .cloned()
        .unwrap_or_else(|| candidates[1].clone())
}
