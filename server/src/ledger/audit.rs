//! `keepsake ledger audit`: recomputes the log from its stored entries and checks everything
//! the server ever published against it.
//!
//! Entries are read in index order in chunks. Each leaf is recomputed from the entry bytes and
//! compared with the stored leaf hash and leaf node; the root is rebuilt with a compact range
//! (the right edge of the tree, O(log n) memory) and compared with every stored checkpoint,
//! whose signature is checked too; consecutive checkpoints are checked for consistency with
//! proofs from the stored nodes. The first problem found is reported with its index.

use sea_orm::DatabaseConnection;

use super::checkpoint;
use super::merkle::{self, Hash, consistency_nodes, consistency_proof, leaf_hash, node_hash};
use crate::store::{self, StoreError};

const CHUNK: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("entry {index} was altered: its bytes no longer hash to the recorded leaf")]
    EntryAltered { index: u64 },
    #[error("entry {index} is missing")]
    EntryMissing { index: u64 },
    #[error("the stored tree nodes disagree with the entries at leaf {index}")]
    NodeAltered { index: u64 },
    #[error("checkpoint for size {size} does not match the entries (an entry before index {size} was altered)")]
    CheckpointMismatch { size: u64 },
    #[error("checkpoint for size {size} is not validly signed: {reason}")]
    BadSignature { size: u64, reason: checkpoint::NoteError },
    #[error("checkpoints at sizes {from} and {to} are not consistent")]
    Inconsistent { from: u64, to: u64 },
}

/// What a clean audit covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    pub checkpoints: usize,
    pub root: Hash,
}

/// The right edge of a tree: perfect subtrees of strictly decreasing size.
#[derive(Default)]
struct CompactRange(Vec<(u32, Hash)>);

impl CompactRange {
    fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        while let Some(&(top_level, top)) = self.0.last() {
            if top_level != level {
                break;
            }
            self.0.pop();
            hash = node_hash(&top, &hash);
            level += 1;
        }
        self.0.push((level, hash));
    }

    fn root(&self) -> Hash {
        let mut iter = self.0.iter().rev();
        match iter.next() {
            None => merkle::empty_root(),
            Some(&(_, last)) => iter.fold(last, |right, &(_, left)| node_hash(&left, &right)),
        }
    }
}

pub async fn run(db: &DatabaseConnection, verifier_key: &str) -> Result<AuditReport, AuditError> {
    let (size, _) = store::ledger::state(db).await?;
    let checkpoints = store::ledger::checkpoints(db).await?;
    let mut next_checkpoint = checkpoints.iter().peekable();
    let mut previous: Option<(u64, Hash)> = None;
    let mut range = CompactRange::default();
    let mut index = 0u64;
    while index < size {
        let end = (index + CHUNK).min(size);
        let rows = store::ledger::entries(db, index, end).await?;
        let leaves: Vec<(u64, merkle::NodeId)> = rows.iter().map(|r| (r.idx as u64, (0, r.idx as u64))).collect();
        let stored_leaves = store::ledger::nodes(db, &leaves.iter().map(|(_, id)| *id).collect::<Vec<_>>()).await?;
        for row in rows {
            let row_index = row.idx as u64;
            if row_index != index {
                return Err(AuditError::EntryMissing { index });
            }
            let leaf = leaf_hash(&row.entry);
            if row.leaf_hash != leaf {
                return Err(AuditError::EntryAltered { index });
            }
            if stored_leaves.get(&(0, index)) != Some(&leaf) {
                return Err(AuditError::NodeAltered { index });
            }
            range.push(leaf);
            index += 1;
            while let Some(cp) = next_checkpoint.next_if(|cp| cp.tree_size as u64 == index) {
                let root = range.root();
                let signed = checkpoint::verify(&cp.note, verifier_key)
                    .map_err(|reason| AuditError::BadSignature { size: index, reason })?;
                if signed.size != index || signed.root != root || cp.root_hash != root {
                    return Err(AuditError::CheckpointMismatch { size: index });
                }
                if let Some((from, from_root)) = previous {
                    let ids = consistency_nodes(from, index).expect("sizes grow");
                    let nodes = store::ledger::nodes(db, &ids).await?;
                    let consistent = consistency_proof(from, index, &nodes)
                        .ok()
                        .is_some_and(|proof| merkle::verify_consistency(from, index, &from_root, &root, &proof));
                    if !consistent {
                        return Err(AuditError::Inconsistent { from, to: index });
                    }
                }
                previous = Some((index, root));
            }
        }
        if index < end {
            return Err(AuditError::EntryMissing { index });
        }
    }
    if let Some(cp) = next_checkpoint.next() {
        return Err(AuditError::CheckpointMismatch {
            size: cp.tree_size as u64,
        });
    }
    Ok(AuditReport {
        entries: size,
        checkpoints: checkpoints.len(),
        root: range.root(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compact_range_gives_the_rfc_root_for_every_size() {
        let mut range = CompactRange::default();
        let mut leaves = Vec::new();
        assert_eq!(range.root(), merkle::empty_root());
        for i in 0..70u64 {
            let leaf = leaf_hash(&i.to_be_bytes());
            leaves.push(leaf);
            range.push(leaf);
            let mut nodes = merkle::NodeMap::default();
            for (j, l) in leaves.iter().enumerate() {
                let fetched: merkle::NodeMap = merkle::append_nodes(j as u64)
                    .into_iter()
                    .map(|id| (id, nodes[&id]))
                    .collect();
                for (id, hash) in merkle::nodes_completed_by(j as u64, *l, &fetched) {
                    nodes.insert(id, hash);
                }
            }
            assert_eq!(range.root(), merkle::root(i + 1, &nodes), "size {}", i + 1);
            assert!(range.0.len() <= 7);
        }
    }
}
