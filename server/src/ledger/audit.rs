//! `keepsake ledger audit`: recomputes the log from its stored entries and checks everything
//! the server ever stored or published against it.
//!
//! Entries are read in index order in chunks. Each leaf is recomputed from the entry bytes and
//! compared with the stored leaf hash, and every stored node (each leaf node and each perfect
//! subtree) is recomputed as the leaves come and compared with the stored one, so an altered or
//! missing node is named by its level and index. The root is rebuilt with a compact range (the
//! right edge of the tree, O(log n) memory) and compared with every stored checkpoint (whose
//! signature and row are checked too), with consecutive checkpoints checked for consistency,
//! with `ledger_state`, and with checkpoints kept elsewhere (by clients, witnesses or the
//! operator), which is what catches a log rolled back whole. The first problem found is
//! reported.

use sea_orm::DatabaseConnection;

use super::checkpoint::{self, VerifiedCheckpoint};
use super::merkle::{self, Hash, NodeId, consistency_nodes, consistency_proof, leaf_hash, node_hash};
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
    #[error("entry {index} exists beyond the recorded tree size {index}")]
    EntryBeyondState { index: u64 },
    #[error("tree node at level {level}, index {index} was altered: it is not the hash of the entries below it")]
    NodeAltered { level: u32, index: u64 },
    #[error("tree node at level {level}, index {index} is missing")]
    NodeMissing { level: u32, index: u64 },
    #[error("the recorded root of the tree (ledger_state) was altered: it is not the root of the {size} entries")]
    StateAltered { size: u64 },
    #[error(
        "entries {from} to {last} were rewritten after the checkpoint for size {size} was signed (their leaf \
         hashes and tree nodes were changed to match)",
        last = .size - 1
    )]
    Rewritten { from: u64, size: u64 },
    #[error("the checkpoint row for size {size} was altered: it disagrees with its own signed note")]
    CheckpointRowAltered { size: u64 },
    #[error("checkpoint for size {size} is not validly signed: {reason}")]
    BadSignature { size: u64, reason: checkpoint::NoteError },
    #[error("checkpoints at sizes {from} and {to} are not consistent")]
    Inconsistent { from: u64, to: u64 },
    #[error(
        "the latest checkpoint (for size {latest}) is not for the recorded tree size {size}: a checkpoint was deleted"
    )]
    LatestCheckpointMissing { size: u64, latest: u64 },
    #[error("a checkpoint for size {size} is stored, but the log has only {entries} entries")]
    CheckpointBeyondLog { size: u64, entries: u64 },
    #[error("checkpoint {name} is not validly signed by this log's key: {reason}")]
    OutsideBadSignature {
        name: String,
        reason: checkpoint::NoteError,
    },
    #[error(
        "the log was rolled back: checkpoint {name} was signed for size {size}, but the log now has {entries} entries"
    )]
    RolledBack { name: String, size: u64, entries: u64 },
    #[error("the log forked: checkpoint {name} was signed for size {size} with a root the stored entries do not give")]
    Forked { name: String, size: u64 },
}

/// A signed checkpoint kept outside the database, and what to call it in a report.
#[derive(Debug, Clone)]
pub struct OutsideCheckpoint {
    pub name: String,
    pub note: String,
}

/// What a clean audit covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    pub checkpoints: usize,
    pub outside: usize,
    pub root: Hash,
}

/// The right edge of a tree: perfect subtrees of strictly decreasing size.
#[derive(Default)]
struct CompactRange(Vec<(u32, Hash)>);

impl CompactRange {
    /// Appends leaf number `index` and returns the nodes it completes: its leaf node, then
    /// each perfect subtree it closes.
    fn push(&mut self, index: u64, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut completed = vec![((0, index), leaf)];
        let mut level = 0;
        let mut hash = leaf;
        while let Some(&(top_level, top)) = self.0.last() {
            if top_level != level {
                break;
            }
            self.0.pop();
            hash = node_hash(&top, &hash);
            level += 1;
            completed.push(((level, index >> level), hash));
        }
        self.0.push((level, hash));
        completed
    }

    fn root(&self) -> Hash {
        let mut iter = self.0.iter().rev();
        match iter.next() {
            None => merkle::empty_root(),
            Some(&(_, last)) => iter.fold(last, |right, &(_, left)| node_hash(&left, &right)),
        }
    }
}

pub async fn run(
    db: &DatabaseConnection,
    verifier_keys: &[String],
    outside: &[OutsideCheckpoint],
) -> Result<AuditReport, AuditError> {
    let (size, state_root) = store::ledger::state(db).await?;
    if store::ledger::entry(db, size).await?.is_some() {
        return Err(AuditError::EntryBeyondState { index: size });
    }
    let checkpoints = store::ledger::checkpoints(db).await?;
    if let Some(beyond) = checkpoints.iter().find(|cp| cp.tree_size as u64 > size) {
        return Err(AuditError::CheckpointBeyondLog {
            size: beyond.tree_size as u64,
            entries: size,
        });
    }
    if let Some(latest) = checkpoints.last()
        && latest.tree_size as u64 != size
    {
        return Err(AuditError::LatestCheckpointMissing {
            size,
            latest: latest.tree_size as u64,
        });
    }
    if checkpoints.is_empty() && size > 0 {
        return Err(AuditError::LatestCheckpointMissing { size, latest: 0 });
    }
    let mut outside_signed: Vec<(&str, VerifiedCheckpoint)> = Vec::new();
    for cp in outside {
        let signed =
            checkpoint::verify_any(&cp.note, verifier_keys).map_err(|reason| AuditError::OutsideBadSignature {
                name: cp.name.clone(),
                reason,
            })?;
        if signed.size > size {
            return Err(AuditError::RolledBack {
                name: cp.name.clone(),
                size: signed.size,
                entries: size,
            });
        }
        outside_signed.push((&cp.name, signed));
    }
    outside_signed.sort_by_key(|(_, signed)| signed.size);

    let mut next_checkpoint = checkpoints.iter().peekable();
    let mut next_outside = outside_signed.iter().peekable();
    // The last size whose stored checkpoint matched the entries.
    let mut matched: Option<(u64, Hash)> = None;
    let mut range = CompactRange::default();
    // Outside checkpoints of the empty log.
    check_outside(&mut next_outside, 0, &range)?;
    let mut index = 0u64;
    while index < size {
        let end = (index + CHUNK).min(size);
        let rows = store::ledger::entries(db, index, end).await?;
        let stored = store::ledger::nodes_completed_between(db, index, end).await?;
        for row in rows {
            if row.idx as u64 != index {
                return Err(AuditError::EntryMissing { index });
            }
            let leaf = leaf_hash(&row.entry);
            if row.leaf_hash != leaf {
                return Err(AuditError::EntryAltered { index });
            }
            for ((level, node), hash) in range.push(index, leaf) {
                match stored.get(&(level, node)) {
                    None => return Err(AuditError::NodeMissing { level, index: node }),
                    Some(found) if *found != hash => return Err(AuditError::NodeAltered { level, index: node }),
                    Some(_) => {}
                }
            }
            index += 1;
            while let Some(cp) = next_checkpoint.next_if(|cp| cp.tree_size as u64 == index) {
                let root = range.root();
                let signed = checkpoint::verify_any(&cp.note, verifier_keys)
                    .map_err(|reason| AuditError::BadSignature { size: index, reason })?;
                if signed.size != index || cp.root_hash != signed.root {
                    return Err(AuditError::CheckpointRowAltered { size: index });
                }
                if signed.root != root {
                    return Err(AuditError::Rewritten {
                        from: matched.map_or(0, |(size, _)| size),
                        size: index,
                    });
                }
                if let Some((from, from_root)) = matched {
                    let consistent = match consistency_nodes(from, index) {
                        Ok(ids) => {
                            let nodes = store::ledger::nodes(db, &ids).await?;
                            consistency_proof(from, index, &nodes)
                                .ok()
                                .is_some_and(|proof| merkle::verify_consistency(from, index, &from_root, &root, &proof))
                        }
                        Err(_) => false,
                    };
                    if !consistent {
                        return Err(AuditError::Inconsistent { from, to: index });
                    }
                }
                matched = Some((index, root));
            }
            check_outside(&mut next_outside, index, &range)?;
        }
        if index < end {
            return Err(AuditError::EntryMissing { index });
        }
    }
    if range.root() != state_root {
        return Err(AuditError::StateAltered { size });
    }
    Ok(AuditReport {
        entries: size,
        checkpoints: checkpoints.len(),
        outside: outside.len(),
        root: range.root(),
    })
}

/// Compares the outside checkpoints for `size` with the root of the first `size` entries.
fn check_outside<'a>(
    next: &mut std::iter::Peekable<impl Iterator<Item = &'a (&'a str, VerifiedCheckpoint)>>,
    size: u64,
    range: &CompactRange,
) -> Result<(), AuditError> {
    while let Some((name, signed)) = next.next_if(|(_, signed)| signed.size == size) {
        if signed.root != range.root() {
            return Err(AuditError::Forked {
                name: (*name).to_owned(),
                size,
            });
        }
    }
    Ok(())
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
            let completed = range.push(i, leaf);
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
            let stored: Vec<_> = merkle::nodes_completed_by(i, leaf, &nodes);
            assert_eq!(completed, stored, "the nodes leaf {i} completes");
            assert!(range.0.len() <= 7);
        }
    }
}
