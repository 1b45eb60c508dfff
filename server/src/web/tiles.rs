//! The log as static objects (C2SP tlog-tiles): `/ledger/checkpoint`, `/ledger/tile/<L>/<N>`
//! and `/ledger/tile/entries/<N>`, read from the blob store the tile publisher writes, never
//! from the database, so a CDN in front can answer nearly every read. These routes sit outside
//! the session middleware and answer machines, so their refusals are always JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::ledger::tiles::Tile;
use crate::services::ledger::tiles::{self, TileReadError};
use crate::state::AppState;
use crate::web::error::JsonError;

/// Tiles never change once written: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The checkpoint moves on with every batch: a few seconds at most.
const SHORT_LIVED: &str = "public, max-age=5";

/// `GET /ledger/checkpoint`: the latest published checkpoint.
pub async fn checkpoint(State(state): State<AppState>) -> Response {
    match tiles::checkpoint(&state.services).await {
        Ok(note) => found(note, "text/plain; charset=utf-8", SHORT_LIVED),
        Err(err) => refused(&err),
    }
}

/// `GET /ledger/tile/{path}`: a tile or an entry bundle, by its canonical path.
pub async fn tile(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let Ok(tile) = Tile::parse(&format!("tile/{path}")) else {
        return refusal(
            StatusCode::NOT_FOUND,
            "not_a_tile",
            "No such tile: tiles are at /ledger/tile/<level>/<index>[.p/<width>] and entry bundles at \
             /ledger/tile/entries/<index>[.p/<width>], as C2SP tlog-tiles names them.",
        );
    };
    match tiles::tile(&state.services, &tile).await {
        Ok(bytes) => found(bytes, "application/octet-stream", IMMUTABLE),
        Err(err) => refused(&err),
    }
}

fn refused(err: &TileReadError) -> Response {
    match err {
        TileReadError::NotPublished => refusal(
            StatusCode::NOT_FOUND,
            "tile_not_published",
            "This tile is not published (yet): fetch /ledger/checkpoint first and only the tiles its tree size has.",
        ),
        TileReadError::Unavailable(_) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "tiles_unavailable",
            "The ledger's tiles cannot be read right now; try again shortly.",
        ),
    }
}

fn found(bytes: Bytes, content_type: &'static str, cache: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, cache),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        bytes,
    )
        .into_response()
}

fn refusal(status: StatusCode, code: &'static str, message: &'static str) -> Response {
    let body = Json(JsonError::new(code, message));
    (
        status,
        [(CACHE_CONTROL, "no-store"), (ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        body,
    )
        .into_response()
}
