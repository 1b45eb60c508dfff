//! The server-rendered web interface, by audience: [`pages`] (the public and collectors),
//! [`console`] (issuers' members), [`review`] (compliance reviewers) and [`admin`]; the JSON
//! API (`crate::api`) is nested at `/api/v1` by [`router`], which also adds the probes, the
//! ledger's tiles and static files, and the middleware every request goes through.
//!
//! Request flow, outermost first: request id, trace span, reading of unread bodies, security
//! headers, request context (session, language, CSRF cookie), error-page rendering, panic
//! catcher, then for the web pages the CSRF check, then the handler.
//!
//! Handlers parse the request, are authorised by an extractor ([`auth`]), call a service and
//! render what it returns. Every address a form posts to also answers GET (a reload, a language
//! switch, a bookmark) by going to the page the form is on, and any other method a route does
//! not take gets a page that says so: no browser ever sees a bare 405.

pub mod admin;
pub mod auth;
#[cfg(test)]
mod catalogue_coverage;
pub mod client;
pub mod console;
pub mod context;
mod csrf;
pub mod csv_export;
pub mod error;
mod error_page;
pub mod filings_view;
pub mod form_result;
pub mod log_path;
mod ops;
pub mod pages;
pub mod regulator;
pub mod render;
pub mod review;
pub mod share;
mod tiles;
mod unread_body;
pub mod upload;
pub mod views;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderName;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use self::error::AppError;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP interface: the web pages of every audience (CSRF-checked), `api` nested at
/// `/api/v1`, and the probes, tiles and static files outside the session middleware.
pub fn router(state: AppState, api: Router<AppState>) -> Router {
    let https = state.config.cookie_secure;
    let web = Router::new()
        .merge(pages::routes())
        .merge(console::routes())
        .merge(review::routes())
        .merge(regulator::routes())
        .merge(admin::routes())
        .layer(middleware::from_fn(csrf::guard));
    let app = Router::new()
        .merge(web)
        .nest("/api/v1", api)
        .fallback(pages::home::not_found)
        .method_not_allowed_fallback(pages::home::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(state.clone(), context::load))
                .layer(middleware::from_fn(error_page::render))
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
        .merge(app)
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
