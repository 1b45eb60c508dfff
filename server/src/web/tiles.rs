//! The log as static objects (C2SP tlog-tiles): `/ledger/checkpoint`, `/ledger/tile/<L>/<N>`
//! and `/ledger/tile/entries/<N>`, read from the blob store the tile publisher writes, never
//! from the database, so a CDN in front can answer nearly every read. A tile's path names its
//! contents for ever, so the tiles served lately are kept in memory and never go stale.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use super::bytes_cache::BytesCache;
use crate::app::AppState;
use crate::blobs::{BlobError, ObjectName};
use crate::ledger::tile_publisher::CHECKPOINT;
use crate::ledger::tiles::Tile;

/// Tiles and entry bundles by their canonical path.
pub type TileCache = BytesCache<String>;

/// Tiles never change once written: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The checkpoint moves on with every batch: a few seconds at most.
const SHORT_LIVED: &str = "public, max-age=5";

/// `GET /ledger/checkpoint`: the latest published checkpoint.
pub async fn checkpoint(State(state): State<AppState>) -> Response {
    match read(&state, CHECKPOINT).await {
        Ok(note) => found(note, "text/plain; charset=utf-8", SHORT_LIVED),
        Err(refused) => refused,
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
    let path = tile.path();
    if let Some(bytes) = state.tiles.get(&path) {
        return found(bytes, "application/octet-stream", IMMUTABLE);
    }
    match read(&state, &path).await {
        Ok(bytes) => {
            state.tiles.insert(path, bytes.clone());
            found(bytes, "application/octet-stream", IMMUTABLE)
        }
        Err(refused) => refused,
    }
}

/// The object under `ledger/<path>` in the blob store, or the refusal to send instead.
async fn read(state: &AppState, path: &str) -> Result<Bytes, Response> {
    let name = ObjectName::ledger(path).map_err(|_| not_published())?;
    match state.blobs.get_named(&name).await {
        Ok(bytes) => Ok(bytes),
        Err(BlobError::NotFound) => Err(not_published()),
        Err(err) => {
            tracing::error!(error = %err, "cannot read a ledger tile from the blob store");
            Err(refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "tiles_unavailable",
                "The ledger's tiles cannot be read right now; try again shortly.",
            ))
        }
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

fn not_published() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "tile_not_published",
        "This tile is not published (yet): fetch /ledger/checkpoint first and only the tiles its tree size has.",
    )
}

fn refusal(status: StatusCode, code: &'static str, message: &'static str) -> Response {
    let body = Json(json!({ "error": { "code": code, "message": message } }));
    (
        status,
        [(CACHE_CONTROL, "no-store"), (ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        body,
    )
        .into_response()
}
