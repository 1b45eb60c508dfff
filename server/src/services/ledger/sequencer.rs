//! The sequencer: takes queued entries in batches, gives them consecutive indices after the
//! current tree size, stores the nodes they complete and publishes a signed checkpoint.
//!
//! Any number of servers may run it against one database; the store's sequencer lock lets one
//! batch through at a time, and a server that dies mid-batch loses its lock with its
//! transaction, so nothing is half-written and another server carries on.
//!
//! Before each batch, an empty one included, the stored tree must extend the latest
//! checkpoint this server signed (its [`SignedRecord`](crate::ledger::signed_record::SignedRecord),
//! kept outside the database); a database rolled back or rewritten is refused, never signed
//! again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::ledger::merkle::{
    self, Frontier, Hash, NodeId, NodeMap, RightEdge, consistency_nodes, consistency_proof, inclusion_proof_beside,
    root_nodes, verify_consistency,
};
use crate::ledger::signed_record::Signed;
use crate::ledger::signer::CheckpointSigner;
use crate::ledger::{checkpoint, entry};
use crate::store::ledger::TreeState;
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "refusing to sign: the stored tree nodes do not give the recorded root of the {size} entries (run \
         `keepsake ledger audit`)"
    )]
    NodesDisagree { size: u64 },
    #[error(transparent)]
    Proof(#[from] merkle::ProofError),
    #[error(
        "refusing to sign: stored tree node at level {level}, index {index} is missing (run `keepsake ledger audit`)"
    )]
    NodeMissing { level: u32, index: u64 },
    #[error(
        "refusing to sign: this server signed a checkpoint for size {signed}, but the database holds {stored} \
         entries; it was rolled back or restored from an older backup. Restore the database to at least size \
         {signed} (`keepsake ledger audit` checks it); a new checkpoint now would sign a second history"
    )]
    RolledBack { signed: u64, stored: u64 },
    #[error(
        "refusing to sign: the stored tree of size {stored} does not extend the checkpoint this server signed for \
         size {signed}; the database was rewritten. Restore it from a backup that holds the signed history \
         (`keepsake ledger audit` names what changed)"
    )]
    Forked { signed: u64, stored: u64 },
    #[error("cannot keep the record of the latest signed checkpoint ({path}): {source}")]
    Record { path: String, source: std::io::Error },
}

/// A batch the sequencer appended and signed: enough to answer a receipt for each of its
/// entries without reading the store, the way the minter answers claims.
#[derive(Debug)]
pub struct Sequenced {
    /// The size of the tree the batch ended, and its signed checkpoint.
    pub size: u64,
    pub checkpoint: String,
    /// Each entry by its queue row: its index and bytes.
    entries: HashMap<i64, (u64, Vec<u8>)>,
    /// The highest queue row in the batch: a row up to it that the batch does not hold was
    /// sequenced before it (or by another server).
    pub last_queued: i64,
    /// The tree's right edge before the batch and every node the batch completed: all that
    /// an inclusion proof of one of its entries in the tree of `size` needs.
    nodes: NodeMap,
    /// The roots along the right edge of the tree of `size`, so proofs in it hash nothing.
    edge: RightEdge,
}

impl Sequenced {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry queued as `queued`, if this batch appended it: its index, its bytes and its
    /// inclusion proof in the tree of [`size`](Self::size).
    pub fn entry(&self, queued: i64) -> Option<(u64, &[u8], Vec<Hash>)> {
        let (index, bytes) = self.entries.get(&queued)?;
        let proof = inclusion_proof_beside(&self.edge, *index, &self.nodes).ok()?;
        Some((*index, bytes, proof))
    }

    /// The roots along the right edge of the tree of [`size`](Self::size).
    pub fn right_edge(&self) -> &RightEdge {
        &self.edge
    }
}

/// Checks that the stored tree `state` extends `signed`.
pub(super) async fn check_extends(
    txn: &impl store::Connection,
    cache: &mut NodeMap,
    signed: Signed,
    state: &TreeState,
) -> Result<(), SequencerError> {
    let (size, root) = (state.size, &state.root);
    let refused = SequencerError::Forked {
        signed: signed.size,
        stored: size,
    };
    if signed.size > size {
        return Err(SequencerError::RolledBack {
            signed: signed.size,
            stored: size,
        });
    }
    if signed.size == size {
        return if signed.root == *root { Ok(()) } else { Err(refused) };
    }
    if signed.size == 0 {
        return Ok(());
    }
    fetch_missing(txn, cache, consistency_nodes(signed.size, size)?).await?;
    let proof = consistency_proof(state.hash, signed.size, size, cache)?;
    if verify_consistency(state.hash, signed.size, size, &signed.root, root, &proof) {
        Ok(())
    } else {
        Err(refused)
    }
}

pub(super) async fn record(signer: &CheckpointSigner, signed: Signed, note: &str) -> Result<(), SequencerError> {
    signer
        .record()
        .advance_off_runtime(signed, note.to_owned())
        .await
        .map_err(|source| SequencerError::Record {
            path: signer.record().path().display().to_string(),
            source,
        })
}

/// Fetches into `cache` the nodes of `ids` it does not hold yet; a node the store does not
/// have either is an error, never a guess.
async fn fetch_missing(
    txn: &impl store::Connection,
    cache: &mut NodeMap,
    ids: Vec<NodeId>,
) -> Result<(), SequencerError> {
    let missing: Vec<NodeId> = ids.into_iter().filter(|id| !cache.contains_key(id)).collect();
    if !missing.is_empty() {
        cache.extend(store::ledger::nodes(txn, &missing).await?);
        if let Some(&(level, index)) = missing.iter().find(|id| !cache.contains_key(id)) {
            return Err(SequencerError::NodeMissing { level, index });
        }
    }
    Ok(())
}

/// Sequences one batch of at most `batch_size` entries at `now`; returns it, or `None` when
/// nothing was queued.
pub async fn sequence_once(
    db: &store::Database,
    signer: &CheckpointSigner,
    batch_size: u64,
    now: DateTime<Utc>,
) -> Result<Option<Sequenced>, SequencerError> {
    let txn = store::begin(db).await?;
    let state = store::ledger::lock_state(&txn).await?;
    let mut cache = NodeMap::default();
    let recorded = signer.record().latest();
    if let Some(signed) = recorded {
        check_extends(&txn, &mut cache, signed, &state).await?;
    }
    let pending = store::ledger::take_pending(&txn, batch_size).await?;
    if pending.is_empty() {
        // Behind the log (another server signed since, or this one stopped before keeping
        // its record): catch up with the stored checkpoint, if it is ours and for this tree.
        let behind = state.size > 0 && recorded.is_none_or(|signed| signed.size < state.size);
        let latest = if behind {
            store::ledger::latest_checkpoint(&txn).await?
        } else {
            None
        };
        store::commit(txn).await?;
        if let Some(latest) = latest
            && let Ok(checked) = checkpoint::verify(&latest.note, &signer.verifier_key())
            && (checked.size, checked.root) == (state.size, state.root)
        {
            let signed = Signed {
                size: state.size,
                root: state.root,
            };
            record(signer, signed, &latest.note).await?;
        }
        return Ok(None);
    }
    let (sequenced, signed) = append(&txn, signer, &state, cache, pending, now).await?;
    store::commit(txn).await?;
    record(signer, signed, &sequenced.checkpoint).await?;
    Ok(Some(sequenced))
}

/// Appends `pending` (queue id, entry) to the tree `state` in the caller's transaction, which
/// holds the sequencer lock, and signs the new tree; the caller commits, then records the
/// returned checkpoint. `cache` holds the nodes already read in the transaction.
pub(super) async fn append(
    txn: &impl store::Connection,
    signer: &CheckpointSigner,
    state: &TreeState,
    mut cache: NodeMap,
    pending: Vec<(i64, Vec<u8>)>,
    now: DateTime<Utc>,
) -> Result<(Sequenced, Signed), SequencerError> {
    let (h, size) = (state.hash, state.size);
    // Entries are stamped as they are appended, never earlier than the entry before them (a
    // clock stepped back, or another server's clock ahead of this one).
    let previous = match size.checked_sub(1) {
        Some(last) => store::ledger::entry(txn, last)
            .await?
            .and_then(|row| entry::timestamp_of(&row.entry)),
        None => None,
    };
    let stamped_at = u64::try_from(now.timestamp_millis())
        .unwrap_or(0)
        .max(previous.unwrap_or(0));
    // Appending to the stored right edge of the tree, once it gives the recorded root,
    // extends the recorded tree by construction.
    fetch_missing(txn, &mut cache, root_nodes(size)).await?;
    let mut frontier =
        Frontier::of(h, size, &cache).map_err(|(level, index)| SequencerError::NodeMissing { level, index })?;
    if frontier.root() != state.root {
        return Err(SequencerError::NodesDisagree { size });
    }
    let mut entries = Vec::with_capacity(pending.len());
    let mut by_queue = HashMap::with_capacity(pending.len());
    let mut new_nodes = Vec::with_capacity(pending.len() * 2);
    let mut consumed = Vec::with_capacity(pending.len());
    for (offset, (id, mut bytes)) in pending.into_iter().enumerate() {
        let index = size + offset as u64;
        entry::stamp(&mut bytes, stamped_at);
        let leaf = h.leaf(&bytes);
        frontier.push(leaf, &mut new_nodes);
        by_queue.insert(id, (index, bytes.clone()));
        entries.push((index, bytes, leaf, id));
        consumed.push(id);
    }
    let new_size = frontier.size();
    let new_root = frontier.root();
    let note = signer.sign(new_size, &new_root, now);
    let last_queued = consumed.iter().copied().max().unwrap_or(0);
    cache.extend(new_nodes.iter().copied());
    let batch = store::ledger::SequencedBatch {
        entries,
        nodes: new_nodes,
        consumed,
        size: new_size,
        root: new_root,
        checkpoint: note.clone(),
    };
    store::ledger::write_batch(txn, batch, now).await?;
    let signed = Signed {
        size: new_size,
        root: new_root,
    };
    let sequenced = Sequenced {
        edge: frontier.right_edge(),
        size: new_size,
        checkpoint: note,
        entries: by_queue,
        last_queued,
        nodes: cache,
    };
    Ok((sequenced, signed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::checkpoint;

    /// The largest batch the settings allow fits the database's statement limits.
    #[tokio::test]
    async fn the_largest_batch_is_sequenced_in_one_transaction() {
        let (dir, db) = store::scratch_database().await;
        let signer = CheckpointSigner::load(&dir.path().join("key"), "example.test/ledger".into()).unwrap();
        let txn = store::begin(&db).await.unwrap();
        for n in 0..10_000u32 {
            store::ledger::enqueue(&txn, n.to_be_bytes().to_vec(), Utc::now())
                .await
                .unwrap();
        }
        store::commit(txn).await.unwrap();

        let batch = sequence_once(&db, &signer, 10_000, Utc::now()).await.unwrap().unwrap();
        assert_eq!(batch.len(), 10_000);
        assert!(
            sequence_once(&db, &signer, 10_000, Utc::now()).await.unwrap().is_none(),
            "nothing left"
        );
        let note = store::ledger::latest_checkpoint(&db).await.unwrap().unwrap().note;
        let signed = checkpoint::verify(&note, &signer.verifier_key()).unwrap();
        assert_eq!(signed.size, 10_000);
        let h = merkle::TreeHash::Sha256;
        let leaf = h.leaf(&7_777u32.to_be_bytes());
        let ids = merkle::inclusion_nodes(7_777, 10_000).unwrap();
        let proof = merkle::inclusion_proof(h, 7_777, 10_000, &store::ledger::nodes(&db, &ids).await.unwrap()).unwrap();
        assert!(merkle::verify_inclusion(h, 7_777, 10_000, &leaf, &proof, &signed.root));
        let (index, bytes, from_batch) = batch.entry(7_778).expect("queue row 7 778 is entry 7 777");
        assert_eq!((index, bytes), (7_777, &7_777u32.to_be_bytes()[..]));
        assert_eq!(from_batch, proof, "the batch proves its entries as the store does");
    }

    /// Entries are stamped when they are appended, and the times never go backwards along the
    /// log, even when the clock does.
    #[tokio::test]
    async fn entries_are_stamped_when_sequenced_and_never_go_back() {
        use crate::ledger::entry::{Entry, EntryBody};
        let (dir, db) = store::scratch_database().await;
        let signer = CheckpointSigner::load(&dir.path().join("key"), "example.test/ledger".into()).unwrap();
        let queued_at = Utc::now();
        let queue = |serial: u32, at: DateTime<Utc>| {
            let db = &db;
            async move {
                let entry = Entry::at(
                    at,
                    EntryBody::TokenFrozen {
                        collection_id: 1,
                        serial,
                    },
                );
                store::ledger::enqueue(db, entry.encode().unwrap(), at).await.unwrap();
            }
        };
        queue(0, queued_at + chrono::Duration::seconds(5)).await;
        queue(1, queued_at).await;
        let sequenced_at = queued_at + chrono::Duration::seconds(60);
        assert_eq!(
            sequence_once(&db, &signer, 100, sequenced_at)
                .await
                .unwrap()
                .unwrap()
                .len(),
            2
        );
        queue(2, queued_at).await;
        let clock_stepped_back = queued_at + chrono::Duration::seconds(30);
        assert_eq!(
            sequence_once(&db, &signer, 100, clock_stepped_back)
                .await
                .unwrap()
                .unwrap()
                .len(),
            1
        );

        let stamps: Vec<i64> = store::ledger::entries(&db, 0, 3)
            .await
            .unwrap()
            .iter()
            .map(|row| Entry::decode(&row.entry).unwrap().timestamp_ms as i64)
            .collect();
        let expected = sequenced_at.timestamp_millis();
        assert_eq!(
            stamps,
            vec![expected; 3],
            "stamped at sequencing, not before the entry ahead"
        );
    }
}
