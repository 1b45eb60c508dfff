//! The sequencer: takes queued entries in batches, gives them consecutive indices after the
//! current tree size, stores the nodes they complete and publishes a signed checkpoint.
//!
//! Any number of servers may run it against one database; the store's sequencer lock lets one
//! batch through at a time, and a server that dies mid-batch loses its lock with its
//! transaction, so nothing is half-written and another server carries on.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::checkpoint::CheckpointSigner;
use super::merkle::{
    self, NodeId, NodeMap, append_nodes, consistency_nodes, consistency_proof, leaf_hash, nodes_completed_by,
    root_nodes, verify_consistency,
};
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("refusing to sign: tree of size {to} is not consistent with the checkpoint at {from}")]
    Inconsistent { from: u64, to: u64 },
    #[error(transparent)]
    Proof(#[from] merkle::ProofError),
    #[error(
        "refusing to sign: stored tree node at level {level}, index {index} is missing (run `keepsake ledger audit`)"
    )]
    NodeMissing { level: u32, index: u64 },
}

/// Fetches into `cache` the nodes of `ids` it does not hold yet; a node the store does not
/// have either is an error, never a guess.
async fn fetch_missing(
    txn: &impl sea_orm::ConnectionTrait,
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

/// Sequences one batch of at most `batch_size` entries; returns how many were appended.
pub async fn sequence_once(
    db: &DatabaseConnection,
    signer: &CheckpointSigner,
    batch_size: u64,
) -> Result<u64, SequencerError> {
    let txn = store::begin(db).await?;
    let (size, old_root) = store::ledger::lock_state(&txn).await?;
    let pending = store::ledger::take_pending(&txn, batch_size).await?;
    if pending.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    let mut cache = NodeMap::default();
    let mut entries = Vec::with_capacity(pending.len());
    let mut new_nodes = Vec::new();
    let mut consumed = Vec::with_capacity(pending.len());
    for (offset, (id, bytes)) in pending.into_iter().enumerate() {
        let index = size + offset as u64;
        let leaf = leaf_hash(&bytes);
        fetch_missing(&txn, &mut cache, append_nodes(index)).await?;
        for (node, hash) in nodes_completed_by(index, leaf, &cache) {
            cache.insert(node, hash);
            new_nodes.push((node, hash));
        }
        entries.push((index, bytes, leaf, id));
        consumed.push(id);
    }
    let new_size = size + entries.len() as u64;
    fetch_missing(&txn, &mut cache, root_nodes(new_size)).await?;
    let new_root = merkle::root(new_size, &cache);
    if size > 0 {
        fetch_missing(&txn, &mut cache, consistency_nodes(size, new_size)?).await?;
        let proof = consistency_proof(size, new_size, &cache)?;
        if !verify_consistency(size, new_size, &old_root, &new_root, &proof) {
            return Err(SequencerError::Inconsistent {
                from: size,
                to: new_size,
            });
        }
    }
    let appended = entries.len() as u64;
    let batch = store::ledger::SequencedBatch {
        entries,
        nodes: new_nodes,
        consumed,
        size: new_size,
        root: new_root,
        checkpoint: signer.sign(new_size, &new_root),
    };
    store::ledger::write_batch(&txn, batch, Utc::now()).await?;
    txn.commit().await?;
    Ok(appended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::checkpoint;

    /// The largest batch the settings allow fits the database's statement limits.
    #[tokio::test]
    async fn the_largest_batch_is_sequenced_in_one_transaction() {
        let (dir, db) = store::scratch_database().await;
        let signer = CheckpointSigner::load(&dir.path().join("key"), "example.test/ledger/sha3-256".into()).unwrap();
        let txn = store::begin(&db).await.unwrap();
        for n in 0..10_000u32 {
            store::ledger::enqueue(&txn, n.to_be_bytes().to_vec(), Utc::now())
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();

        assert_eq!(sequence_once(&db, &signer, 10_000).await.unwrap(), 10_000);
        assert_eq!(sequence_once(&db, &signer, 10_000).await.unwrap(), 0, "nothing left");
        let note = store::ledger::latest_checkpoint(&db).await.unwrap().unwrap().note;
        let signed = checkpoint::verify(&note, &signer.verifier_key()).unwrap();
        assert_eq!(signed.size, 10_000);
        let leaf = leaf_hash(&7_777u32.to_be_bytes());
        let ids = merkle::inclusion_nodes(7_777, 10_000).unwrap();
        let proof = merkle::inclusion_proof(7_777, 10_000, &store::ledger::nodes(&db, &ids).await.unwrap()).unwrap();
        assert!(merkle::verify_inclusion(7_777, 10_000, &leaf, &proof, &signed.root));
    }
}
