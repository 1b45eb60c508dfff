//! Carrying a v1 log (SHA3-256 tree) over into ledger format v2 (RFC 6962's SHA-256 tree).
//!
//! The v1 log is closed at its latest checkpoint, which its key signed and which stays stored,
//! so every v1 receipt keeps verifying. Its entries keep their indices: the v2 tree is rebuilt
//! over the same entries with SHA-256, and the first entry v2 appends, right after them, is a
//! `log_continued` entry committing to v1's final checkpoint (its origin, size and root). The
//! v2 log has its own name, and so its own key id for the same key, pinned in the database in
//! place of v1's, which stays listed as retired. All of it happens in one transaction holding
//! the sequencer lock, at the first start of a server that knows format v2; v1's record of
//! the latest checkpoint it signed is kept beside the key as `<key>.v1.checkpoint`.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::sequencer::{self, SequencerError};
use crate::ledger::checkpoint;
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::merkle::{self, Frontier, NodeMap, TreeHash};
use crate::ledger::signed_record::SignedRecord;
use crate::ledger::signer::CheckpointSigner;
use crate::store::{self, ledger::TreeState};

/// How many entries are rehashed per read.
const CHUNK: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error(transparent)]
    Sequencer(#[from] SequencerError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot read the ledger signing key or its record: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "cannot close the v1 log: its latest checkpoint is not a valid one by its key for its {size} entries \
         (run `keepsake ledger audit`)"
    )]
    NoFinalCheckpoint { size: u64 },
    #[error("cannot close the v1 log: entry {index} is missing (run `keepsake ledger audit`)")]
    EntryMissing { index: u64 },
    #[error("cannot encode the log_continued entry: {0}")]
    Encode(#[from] crate::ledger::entry::EncodeError),
}

/// The name of the v2 log that continues the v1 log named `v1_origin`: the same name without
/// its hash (`<host>/ledger/sha3-256` becomes `<host>/ledger`), or with `/v2` added.
pub fn v2_origin(v1_origin: &str) -> String {
    v1_origin
        .strip_suffix("/sha3-256")
        .map_or_else(|| format!("{v1_origin}/v2"), str::to_owned)
}

/// What carrying the log over did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continued {
    /// The size v1 was closed at (0: it had no entries, and nothing was appended).
    pub v1_size: u64,
    pub origin: String,
}

/// Carries the log over into format v2 if it is still a v1 log named `v1_origin` whose key is
/// at `key_file`; `None` if it already is v2.
pub async fn carry_over(
    db: &store::Database,
    key_file: &Path,
    v1_origin: &str,
    now: DateTime<Utc>,
) -> Result<Option<Continued>, UpgradeError> {
    if store::ledger::state(db).await?.hash == TreeHash::Sha256 {
        return Ok(None);
    }
    let v1_record = key_file.with_extension("v1.checkpoint");
    let record = SignedRecord::beside(key_file);
    if record.exists() {
        std::fs::rename(&record, &v1_record)?;
    }
    let v1 = CheckpointSigner::load_with_record(key_file, v1_origin.to_owned(), v1_record)?;
    let origin = v2_origin(v1_origin);
    let v2 = CheckpointSigner::load(key_file, origin.clone())?;

    let txn = store::begin(db).await?;
    let state = store::ledger::lock_state(&txn).await?;
    if state.hash == TreeHash::Sha256 {
        // Another server of the installation carried it over meanwhile.
        store::commit(txn).await?;
        return Ok(None);
    }
    let mut cache = NodeMap::default();
    if let Some(signed) = v1.record().latest() {
        sequencer::check_extends(&txn, &mut cache, signed, &state).await?;
    }
    let v1_final = if state.size == 0 {
        None
    } else {
        let latest = store::ledger::latest_checkpoint(&txn).await?;
        let checked = latest
            .and_then(|latest| checkpoint::verify(&latest.note, &v1.verifier_key()).ok())
            .filter(|checked| (checked.size, checked.root) == (state.size, state.root))
            .ok_or(UpgradeError::NoFinalCheckpoint { size: state.size })?;
        Some(checked)
    };
    let carried = TreeState {
        size: state.size,
        root: rehash(&txn, state.size).await?,
        hash: TreeHash::Sha256,
        closed_v1_size: v1_final.as_ref().map(|checked| checked.size),
    };
    store::ledger::set_state(&txn, carried).await?;
    store::installation::rotate_ledger_key(&txn, &v1.verifier_key(), &v2.verifier_key(), now).await?;
    let mut signed = None;
    if let Some(v1_final) = v1_final {
        let entry = Entry::at(
            now,
            EntryBody::LogContinued {
                previous_origin: v1_final.origin,
                previous_size: v1_final.size,
                previous_root: v1_final.root,
            },
        )
        .encode()?;
        let queued = store::ledger::enqueue(&txn, entry.clone(), now).await?;
        let pending = vec![(queued, entry)];
        let (sequenced, tree) = sequencer::append(&txn, &v2, &carried, NodeMap::default(), pending, now).await?;
        signed = Some((tree, sequenced.checkpoint));
    }
    store::commit(txn).await?;
    if let Some((tree, note)) = signed {
        sequencer::record(&v2, tree, &note).await?;
    }
    Ok(Some(Continued {
        v1_size: state.size,
        origin,
    }))
}

/// Replaces the stored leaf hashes and nodes of the first `size` entries with those of the
/// SHA-256 tree; returns its root.
async fn rehash(txn: &impl store::Connection, size: u64) -> Result<merkle::Hash, UpgradeError> {
    let h = TreeHash::Sha256;
    let mut frontier = Frontier::empty(h);
    let mut index = 0;
    while index < size {
        let (from, end) = (index, (index + CHUNK).min(size));
        let rows = store::ledger::entries(txn, from, end).await?;
        let mut rehashed = Vec::with_capacity(rows.len());
        let mut nodes = Vec::with_capacity(rows.len() * 2);
        for mut row in rows {
            if row.idx as u64 != index {
                return Err(UpgradeError::EntryMissing { index });
            }
            let leaf = h.leaf(&row.entry);
            frontier.push(leaf, &mut nodes);
            row.leaf_hash = leaf.to_vec();
            rehashed.push(row);
            index += 1;
        }
        if index < end {
            return Err(UpgradeError::EntryMissing { index });
        }
        store::ledger::rehash(txn, from, rehashed, nodes).await?;
    }
    Ok(frontier.root())
}
