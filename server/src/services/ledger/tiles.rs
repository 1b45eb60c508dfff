//! Reading the published log (C2SP tlog-tiles) from the blob store, where the tile publisher
//! wrote it, never from the database. A tile's path names its contents for ever, so the tiles
//! read lately are kept in memory and never go stale; the checkpoint moves on with every batch
//! and is always read afresh.

use bytes::Bytes;

use super::super::Services;
use super::tile_publisher::CHECKPOINT;
use crate::blobs::{BlobError, ObjectName};
use crate::bytes_cache::BytesCache;
use crate::ledger::tiles::Tile;

/// Tiles and entry bundles by their canonical path.
pub type TileCache = BytesCache<String>;

/// Why a tile or the checkpoint cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TileReadError {
    #[error("not published (yet)")]
    NotPublished,
    #[error("the blob store cannot be read: {0}")]
    Unavailable(BlobError),
}

/// The latest published checkpoint.
pub async fn checkpoint(services: &Services) -> Result<Bytes, TileReadError> {
    read(services, CHECKPOINT).await
}

/// A tile or an entry bundle, from memory when it was read lately.
pub async fn tile(services: &Services, tile: &Tile) -> Result<Bytes, TileReadError> {
    let path = tile.path();
    if let Some(bytes) = services.tiles.get(&path) {
        return Ok(bytes);
    }
    let bytes = read(services, &path).await?;
    services.tiles.insert(path, bytes.clone());
    Ok(bytes)
}

/// The object under `ledger/<path>` in the blob store.
async fn read(services: &Services, path: &str) -> Result<Bytes, TileReadError> {
    let name = ObjectName::ledger(path).map_err(|_| TileReadError::NotPublished)?;
    match services.blobs.get_named(&name).await {
        Ok(bytes) => Ok(bytes),
        Err(BlobError::NotFound) => Err(TileReadError::NotPublished),
        Err(err) => {
            tracing::error!(error = %err, "cannot read a ledger tile from the blob store");
            Err(TileReadError::Unavailable(err))
        }
    }
}
