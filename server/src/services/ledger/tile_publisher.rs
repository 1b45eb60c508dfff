//! Publishes the log as C2SP tlog-tiles in the blob store, where `/ledger/tile/...` and
//! `/ledger/checkpoint` read them without touching the database.
//!
//! A run publishes the latest checkpoint signed after the published one (or the last of the
//! next [`CHECKPOINTS_PER_RUN`], in a long catch-up; with witnesses, the latest they cosigned): the full tiles and entry bundles the tree
//! completed since, and its partial tiles, then replaces the checkpoint object last. Partial
//! tiles exist only for published sizes, as C2SP tlog-tiles allows (clients fall back to the
//! full tile); every tree the log signed can still be read from the tiles of a later one. The
//! published checkpoint is the record of how far publishing got: after a crash, or with an
//! emptied store, the next run starts from it and rewrites what may be missing. Tiles are
//! immutable, so writing one again is harmless.

use crate::blobs::{BlobError, ObjectName, SharedBlobStore};
use crate::ledger::merkle::TreeHash;
use crate::ledger::tiles::{EntryTooLong, Tile, TileKind, entry_bundle};
use crate::store::{self, StoreError};

/// The most checkpoints one run moves past, so a long catch-up shows progress.
const CHECKPOINTS_PER_RUN: u64 = 64;

/// The object name of the published checkpoint.
pub const CHECKPOINT: &str = "checkpoint";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the ledger's tiles to the blob store: {0}")]
    Blob(#[from] BlobError),
    #[error(transparent)]
    EntryTooLong(#[from] EntryTooLong),
    #[error("tile {path} needs {missing} stored hashes or entries that are missing (run `keepsake ledger audit`)")]
    Missing { path: String, missing: u64 },
}

/// The tree size of the checkpoint in the blob store; 0 when there is none (or it cannot be
/// read, so everything is written again).
pub async fn published_size(blobs: &SharedBlobStore) -> Result<u64, PublishError> {
    match blobs.get_named(&ObjectName::ledger(CHECKPOINT)?).await {
        Ok(note) => Ok(std::str::from_utf8(&note)
            .ok()
            .and_then(|note| note.lines().nth(1))
            .and_then(|size| size.parse().ok())
            .unwrap_or(0)),
        Err(BlobError::NotFound) => Ok(0),
        Err(err) => Err(err.into()),
    }
}

/// Publishes the latest checkpoint signed after the tree of `published` (at most
/// [`CHECKPOINTS_PER_RUN`] on), or with `witnessed_only` the latest the witnesses cosigned;
/// returns the size now published and whether more are waiting.
pub async fn publish(
    db: &store::Database,
    blobs: &SharedBlobStore,
    published: u64,
    witnessed_only: bool,
) -> Result<(u64, bool), PublishError> {
    let state = store::ledger::state(db).await?;
    if state.hash != TreeHash::Sha256 {
        // A v1 log still to be carried over: its tree is not the one tiles describe.
        return Ok((published, false));
    }
    // The closed v1 log's checkpoints sign another tree; v2's first one covers its entries.
    let after = published.max(state.closed_v1_size.unwrap_or(0));
    let checkpoints = if witnessed_only {
        let witnessed = store::ledger::latest_witnessed(db).await?;
        witnessed.into_iter().filter(|c| c.tree_size as u64 > after).collect()
    } else {
        store::ledger::checkpoints_after(db, after, CHECKPOINTS_PER_RUN).await?
    };
    let Some(latest) = checkpoints.last() else {
        return Ok((published, false));
    };
    let size = u64::try_from(latest.tree_size).unwrap_or(0);
    for tile in Tile::added_between(published, size) {
        let bytes = tile_bytes(db, &tile).await?;
        blobs
            .put_named(&ObjectName::ledger(&tile.path())?, bytes.into())
            .await?;
    }
    let note = latest.note.clone().into_bytes();
    blobs.put_named(&ObjectName::ledger(CHECKPOINT)?, note.into()).await?;
    Ok((size, checkpoints.len() as u64 == CHECKPOINTS_PER_RUN))
}

/// The contents of `tile`, from the stored nodes or entries.
async fn tile_bytes(db: &store::Database, tile: &Tile) -> Result<Vec<u8>, PublishError> {
    let span = tile.span();
    let missing = |found: usize| PublishError::Missing {
        path: tile.path(),
        missing: tile.width().saturating_sub(found as u64),
    };
    match tile.kind() {
        TileKind::Hashes { .. } => {
            let hashes = store::ledger::hashes_at_level(db, tile.tree_level(), span.clone()).await?;
            let in_order = hashes.iter().map(|(i, _)| *i).eq(span);
            if !in_order {
                return Err(missing(hashes.len()));
            }
            Ok(hashes.iter().flat_map(|(_, hash)| *hash).collect())
        }
        TileKind::Entries => {
            let rows = store::ledger::entries(db, span.start, span.end).await?;
            let in_order = rows.iter().map(|row| row.idx as u64).eq(span.clone());
            if !in_order {
                return Err(missing(rows.len()));
            }
            Ok(entry_bundle(span.start, rows.iter().map(|row| row.entry.as_slice()))?)
        }
    }
}
