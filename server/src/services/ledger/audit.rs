//! `keepsake ledger audit`: recomputes the log from its stored entries and checks everything
//! the server ever stored or published against it.
//!
//! Entries are read in index order in chunks. Each leaf is recomputed from the entry bytes and
//! compared with the stored leaf hash, and every stored node (each leaf node and each perfect
//! subtree) is recomputed as the leaves come and compared with the stored one, so an altered or
//! missing node is named by its level and index. The root is rebuilt with a [`Frontier`] (the
//! right edge of the tree, O(log n) memory) and compared with every stored checkpoint (whose
//! signature and row are checked too), with consecutive checkpoints checked for consistency,
//! with `ledger_state`, and with checkpoints kept elsewhere (by clients, witnesses or the
//! operator), which is what catches a log rolled back whole. The first problem found is
//! reported.
//!
//! A log that continues a closed v1 log is audited as both: its first entries are also
//! rebuilt into the SHA3-256 tree of v1 and checked against v1's checkpoints, and the entry
//! after them must commit to v1's final checkpoint.

use crate::ledger::checkpoint::{self, VerifiedCheckpoint};
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::merkle::{self, Frontier, Hash, TreeHash, consistency_nodes, consistency_proof};
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
    #[error("the v1 log was closed at size {size}, but its final checkpoint for that size is missing")]
    V1FinalCheckpointMissing { size: u64 },
    #[error(
        "entry {index} does not continue the closed v1 log: it must be a log_continued entry naming v1's final \
         checkpoint (size {index} and its root)"
    )]
    ContinuationAltered { index: u64 },
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

/// The keys this installation has signed with, current first: what an audit trusts when it is
/// given none. `None` while the database holds no ledger.
pub async fn installation_keys(db: &store::Database) -> Result<Option<Vec<String>>, StoreError> {
    let Some(current) = store::installation::ledger_key(db).await? else {
        return Ok(None);
    };
    let retired = store::installation::retired_ledger_keys(db).await?;
    Ok(Some(
        std::iter::once(current)
            .chain(retired.into_iter().map(|key| key.verifier_key))
            .collect(),
    ))
}

pub async fn run(
    db: &store::Database,
    verifier_keys: &[String],
    outside: &[OutsideCheckpoint],
) -> Result<AuditReport, AuditError> {
    let state = store::ledger::state(db).await?;
    let (size, state_root, h) = (state.size, state.root, state.hash);
    // Checkpoints up to this size are the closed v1 log's.
    let v1_size = state.closed_v1_size.unwrap_or(0);
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
    let mut range = Frontier::empty(h);
    let mut v1_range = (v1_size > 0).then(|| Frontier::empty(TreeHash::Sha3_256));
    let (mut completed, mut v1_completed) = (Vec::new(), Vec::new());
    let mut v1_final = None;
    // Outside checkpoints of the empty log.
    check_outside(&mut next_outside, 0, v1_range.as_ref().unwrap_or(&range))?;
    let mut index = 0u64;
    while index < size {
        let end = (index + CHUNK).min(size);
        let rows = store::ledger::entries(db, index, end).await?;
        let stored = store::ledger::nodes_completed_between(db, index, end).await?;
        for row in rows {
            if row.idx as u64 != index {
                return Err(AuditError::EntryMissing { index });
            }
            let leaf = h.leaf(&row.entry);
            if row.leaf_hash != leaf {
                return Err(AuditError::EntryAltered { index });
            }
            if index == v1_size && v1_size > 0 && !continues(&row.entry, v1_final.as_ref()) {
                return Err(AuditError::ContinuationAltered { index });
            }
            let in_v1 = index < v1_size;
            if in_v1 && let Some(v1) = v1_range.as_mut() {
                // v1's nodes are no longer stored: only its roots are checked.
                v1_completed.clear();
                v1.push(TreeHash::Sha3_256.leaf(&row.entry), &mut v1_completed);
            }
            completed.clear();
            range.push(leaf, &mut completed);
            for &((level, node), hash) in &completed {
                match stored.get(&(level, node)) {
                    None => return Err(AuditError::NodeMissing { level, index: node }),
                    Some(found) if *found != hash => return Err(AuditError::NodeAltered { level, index: node }),
                    Some(_) => {}
                }
            }
            index += 1;
            let tree = match &v1_range {
                Some(v1) if in_v1 => v1,
                _ => &range,
            };
            while let Some(cp) = next_checkpoint.next_if(|cp| cp.tree_size as u64 == index) {
                let root = tree.root();
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
                if in_v1 {
                    // v1's nodes were rebuilt into v2's tree: v1 checkpoints whose roots are
                    // those of the same entries are consistent with each other.
                    matched = (index < v1_size).then_some((index, root));
                    if index == v1_size {
                        v1_final = Some(signed);
                    }
                    continue;
                }
                if let Some((from, from_root)) = matched {
                    let consistent = match consistency_nodes(from, index) {
                        Ok(ids) => {
                            let nodes = store::ledger::nodes(db, &ids).await?;
                            consistency_proof(h, from, index, &nodes).ok().is_some_and(|proof| {
                                merkle::verify_consistency(h, from, index, &from_root, &root, &proof)
                            })
                        }
                        Err(_) => false,
                    };
                    if !consistent {
                        return Err(AuditError::Inconsistent { from, to: index });
                    }
                }
                matched = Some((index, root));
            }
            check_outside(&mut next_outside, index, tree)?;
            if index == v1_size && v1_size > 0 && v1_final.is_none() {
                return Err(AuditError::V1FinalCheckpointMissing { size: v1_size });
            }
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

/// Whether `entry` is the `log_continued` entry for v1's final checkpoint `v1_final`.
fn continues(entry: &[u8], v1_final: Option<&VerifiedCheckpoint>) -> bool {
    let (Ok(entry), Some(v1_final)) = (Entry::decode(entry), v1_final) else {
        return false;
    };
    matches!(entry.body, EntryBody::LogContinued { previous_origin, previous_size, previous_root }
        if previous_origin == v1_final.origin && previous_size == v1_final.size && previous_root == v1_final.root)
}

/// Compares the outside checkpoints for `size` with the root of the first `size` entries.
fn check_outside<'a>(
    next: &mut std::iter::Peekable<impl Iterator<Item = &'a (&'a str, VerifiedCheckpoint)>>,
    size: u64,
    range: &Frontier,
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
