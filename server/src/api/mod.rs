//! The JSON API, v1, nested at `/api/v1`: the public log and hash attestations, issuers'
//! collections with an API key, claiming from an app, the transfer that is always refused, and
//! the identity provider's callback. Answers are typed; errors are
//! `{"error": {"code", "message"}}` (see `docs/api.md`). The API is not under the web pages'
//! CSRF check: API keys and signatures authenticate it, and the one endpoint a session cookie
//! authenticates requires a header no cross-site form can send ([`auth::SessionClaim`]).

pub mod attestations;
pub mod auth;
pub mod collections;
pub mod issuer;
pub mod kyc;
pub mod ledger;
pub mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::attestation::MAX_ATTESTED_FILE_BYTES;
use crate::state::AppState;

/// A list's page: `?after=` (the `next` of the page before) and `?limit=` (1 to 1000, 100 by
/// default).
#[derive(Deserialize)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/issuer", get(issuer::issuer))
        .route(
            "/attestations",
            post(attestations::attest).layer(DefaultBodyLimit::max(MAX_ATTESTED_FILE_BYTES + 64 * 1024)),
        )
        .route("/attestations/{sha3_256}", get(attestations::lookup))
        .route("/ledger/checkpoint", get(ledger::checkpoint))
        .route("/ledger/checkpoints/{size}", get(ledger::checkpoint_at))
        .route("/ledger/key", get(ledger::verifier_key))
        .route("/ledger/keys", get(ledger::verifier_keys))
        .route("/ledger/anchors", get(ledger::anchors))
        .route("/ledger/entries/{index}", get(ledger::entry))
        .route("/ledger/entries/{index}/receipt", get(ledger::entry_receipt))
        .route("/ledger/proofs/inclusion", get(ledger::inclusion_proof))
        .route("/ledger/proofs/consistency", get(ledger::consistency_proof))
        .route(
            "/collections/{id}/claims",
            post(collections::claim).get(collections::claims),
        )
        .route("/collections/{id}/stats", get(collections::stats))
        .route("/collections/{id}/codes", post(collections::codes))
        .route("/tokens/{id}/transfer", post(tokens::transfer))
        .route("/kyc/callback", post(kyc::callback))
}
