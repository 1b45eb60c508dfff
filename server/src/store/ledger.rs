//! Ledger storage: the pending queue, sequenced entries, stored Merkle nodes, the tree state and
//! checkpoints. Sequencing runs inside one transaction that holds the sequencer lock (a
//! transaction-scoped advisory lock plus `FOR UPDATE` on the state row on PostgreSQL; SQLite
//! serialises writers by itself), so indices come from the tree size and are never reused.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};

use super::entities::{ledger_checkpoints, ledger_entries, ledger_nodes, ledger_pending, ledger_state};
use super::{INSERT_CHUNK, StoreError, StoreResult, decoded, in_chunks, insert_in_chunks};
use crate::ledger::merkle::{Hash, NodeId, NodeMap, TreeHash};

/// A sequenced entry as stored: its index, its bytes and leaf hash, and the queue row it came
/// from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    pub idx: i64,
    pub entry: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    pub source_id: i64,
    pub sequenced_at: DateTime<Utc>,
}

impl From<ledger_entries::Model> for EntryRow {
    fn from(m: ledger_entries::Model) -> Self {
        EntryRow {
            idx: m.idx,
            entry: m.entry,
            leaf_hash: m.leaf_hash,
            source_id: m.source_id,
            sequenced_at: m.sequenced_at,
        }
    }
}

/// A signed checkpoint as stored, by the size of the tree it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub note: String,
    pub created_at: DateTime<Utc>,
    /// Enough witnesses cosigned it: see [`witness_checkpoint`].
    pub witnessed: bool,
}

impl From<ledger_checkpoints::Model> for CheckpointRow {
    fn from(m: ledger_checkpoints::Model) -> Self {
        CheckpointRow {
            tree_size: m.tree_size,
            root_hash: m.root_hash,
            note: m.note,
            created_at: m.created_at,
            witnessed: m.witnessed,
        }
    }
}

/// Any number that is the same for every Keepsake server: the advisory lock's key.
const SEQUENCER_LOCK: i64 = 0x4b53_4c45_4447_4552;

/// A stored hash, which must be 32 bytes: anything else is a damaged row, never read as zeros.
fn hash_of(bytes: &[u8], table: &'static str, id: impl ToString) -> StoreResult<Hash> {
    decoded(bytes.try_into().ok(), table, id, "hash")
}

fn node_of(row: &ledger_nodes::Model) -> StoreResult<((u32, u64), Hash)> {
    let id = || format!("({}, {})", row.level, row.idx);
    let level = decoded(u32::try_from(row.level).ok(), "ledger_nodes", id(), "level")?;
    let index = decoded(u64::try_from(row.idx).ok(), "ledger_nodes", id(), "idx")?;
    Ok(((level, index), hash_of(&row.hash, "ledger_nodes", id())?))
}

/// The tree as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeState {
    pub size: u64,
    pub root: Hash,
    /// The hash the stored nodes and root are built with: SHA-256 unless the log is still a
    /// v1 log waiting to be carried over.
    pub hash: TreeHash,
    /// The size the v1 log was closed at, if this log continues one.
    pub closed_v1_size: Option<u64>,
}

impl TreeState {
    /// A new log's state: empty, format v2.
    fn empty() -> Self {
        Self {
            size: 0,
            root: TreeHash::Sha256.empty_root(),
            hash: TreeHash::Sha256,
            closed_v1_size: None,
        }
    }

    fn of(row: ledger_state::Model) -> StoreResult<Self> {
        Ok(Self {
            size: decoded(u64::try_from(row.tree_size).ok(), "ledger_state", row.id, "tree_size")?,
            root: hash_of(&row.root_hash, "ledger_state", row.id)?,
            hash: match row.format {
                1 => TreeHash::Sha3_256,
                2 => TreeHash::Sha256,
                _ => return decoded(None, "ledger_state", row.id, "format"),
            },
            closed_v1_size: match row.closed_v1_size {
                Some(size) => Some(decoded(
                    u64::try_from(size).ok(),
                    "ledger_state",
                    row.id,
                    "closed_v1_size",
                )?),
                None => None,
            },
        })
    }
}

fn format_of(hash: TreeHash) -> i16 {
    match hash {
        TreeHash::Sha3_256 => 1,
        TreeHash::Sha256 => 2,
    }
}

/// Queues an entry in the caller's transaction; the sequencer gives it an index later.
pub async fn enqueue(conn: &impl ConnectionTrait, entry: Vec<u8>, now: DateTime<Utc>) -> StoreResult<i64> {
    Ok(ledger_pending::ActiveModel {
        entry: Set(entry),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id)
}

/// Queues several entries at once in the caller's transaction; returns their queue rows in
/// the order given. Rows are matched back by content, since neither database promises the
/// order of `RETURNING` rows.
pub async fn enqueue_many(
    conn: &impl ConnectionTrait,
    entries: &[Vec<u8>],
    now: DateTime<Utc>,
) -> StoreResult<Vec<i64>> {
    let mut queued: HashMap<Vec<u8>, Vec<i64>> = HashMap::with_capacity(entries.len());
    for chunk in entries.chunks(INSERT_CHUNK) {
        let rows = ledger_pending::Entity::insert_many(chunk.iter().map(|entry| ledger_pending::ActiveModel {
            entry: Set(entry.clone()),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec_with_returning(conn)
        .await?;
        for row in rows {
            queued.entry(row.entry).or_default().push(row.id);
        }
    }
    entries
        .iter()
        .map(|entry| {
            queued
                .get_mut(entry)
                .and_then(Vec::pop)
                .ok_or(StoreError::Db(DbErr::RecordNotInserted))
        })
        .collect()
}

/// Takes the sequencer lock for the rest of the transaction and returns the tree state.
pub async fn lock_state(conn: &impl ConnectionTrait) -> StoreResult<TreeState> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        // Held until commit or rollback; a crashed holder's lock goes with its connection.
        conn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [SEQUENCER_LOCK.into()],
        ))
        .await?;
    }
    let row = ledger_state::Entity::find_by_id(1).lock_exclusive().one(conn).await?;
    Ok(match row {
        Some(row) => TreeState::of(row)?,
        None => {
            let empty = TreeState::empty();
            state_row(empty).insert(conn).await?;
            empty
        }
    })
}

fn state_row(state: TreeState) -> ledger_state::ActiveModel {
    ledger_state::ActiveModel {
        id: Set(1),
        tree_size: Set(state.size as i64),
        root_hash: Set(state.root.to_vec()),
        format: Set(format_of(state.hash)),
        closed_v1_size: Set(state.closed_v1_size.map(|size| size as i64)),
    }
}

/// The tree state, without locking.
pub async fn state(conn: &impl ConnectionTrait) -> StoreResult<TreeState> {
    ledger_state::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map_or_else(|| Ok(TreeState::empty()), TreeState::of)
}

/// Replaces the tree state (the lock held), as carrying a v1 log over into v2 does.
pub async fn set_state(conn: &impl ConnectionTrait, state: TreeState) -> StoreResult<()> {
    state_row(state).update(conn).await?;
    Ok(())
}

/// Replaces every stored node and leaf hash with those of the same entries in a tree built
/// with another hash (the lock held): `rows` are the entries `from..` with their new leaf
/// hashes, rewritten a chunk at a time, and `nodes` all they complete.
pub async fn rehash(
    conn: &impl ConnectionTrait,
    from: u64,
    rows: Vec<EntryRow>,
    nodes: Vec<(NodeId, Hash)>,
) -> StoreResult<()> {
    if from == 0 {
        ledger_nodes::Entity::delete_many().exec(conn).await?;
    }
    ledger_entries::Entity::delete_many()
        .filter(ledger_entries::Column::Idx.gte(from as i64))
        .filter(ledger_entries::Column::Idx.lt((from + rows.len() as u64) as i64))
        .exec(conn)
        .await?;
    let rows = rows
        .into_iter()
        .map(|row| ledger_entries::ActiveModel {
            idx: Set(row.idx),
            entry: Set(row.entry),
            leaf_hash: Set(row.leaf_hash),
            source_id: Set(row.source_id),
            sequenced_at: Set(row.sequenced_at),
        })
        .collect();
    insert_in_chunks(conn, rows).await?;
    insert_nodes(conn, nodes).await
}

async fn insert_nodes(conn: &impl ConnectionTrait, nodes: Vec<(NodeId, Hash)>) -> StoreResult<()> {
    let nodes = nodes
        .into_iter()
        .map(|((level, index), hash)| ledger_nodes::ActiveModel {
            level: Set(level as i32),
            idx: Set(index as i64),
            hash: Set(hash.to_vec()),
        })
        .collect();
    insert_in_chunks(conn, nodes).await
}

/// Up to `limit` queued entries, oldest first, skipping rows another transaction holds.
pub async fn take_pending(conn: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<(i64, Vec<u8>)>> {
    Ok(ledger_pending::Entity::find()
        .order_by_asc(ledger_pending::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row.entry))
        .collect())
}

/// Reads stored nodes.
pub async fn nodes(conn: &impl ConnectionTrait, ids: &[NodeId]) -> StoreResult<NodeMap> {
    let mut map = NodeMap::default();
    for chunk in ids.chunks(64) {
        let mut condition = Condition::any();
        for (level, index) in chunk {
            condition = condition.add(
                Condition::all()
                    .add(ledger_nodes::Column::Level.eq(*level as i32))
                    .add(ledger_nodes::Column::Idx.eq(*index as i64)),
            );
        }
        for row in ledger_nodes::Entity::find().filter(condition).all(conn).await? {
            let (id, hash) = node_of(&row)?;
            map.insert(id, hash);
        }
    }
    Ok(map)
}

/// The stored hashes at tree `level` with indices in `span`, in index order (a tile's hashes);
/// fewer than asked if some are missing.
pub async fn hashes_at_level(
    conn: &impl ConnectionTrait,
    level: u32,
    span: std::ops::Range<u64>,
) -> StoreResult<Vec<(u64, Hash)>> {
    let rows = ledger_nodes::Entity::find()
        .filter(ledger_nodes::Column::Level.eq(level as i32))
        .filter(ledger_nodes::Column::Idx.gte(span.start as i64))
        .filter(ledger_nodes::Column::Idx.lt(span.end as i64))
        .order_by_asc(ledger_nodes::Column::Idx)
        .all(conn)
        .await?;
    rows.iter()
        .map(|row| node_of(row).map(|((_, index), hash)| (index, hash)))
        .collect()
}

/// The stored nodes that appending leaves `from..to` completed (each leaf node, and every
/// perfect subtree whose last leaf lies in the range), for the audit.
pub async fn nodes_completed_between(conn: &impl ConnectionTrait, from: u64, to: u64) -> StoreResult<NodeMap> {
    let mut map = NodeMap::default();
    let mut level = 0u32;
    // Node (level, i) is completed by leaf (i + 1) * 2^level - 1.
    while level < 64 && (1u64 << level) <= to {
        let span = 1u64 << level;
        let first = (from + 1).div_ceil(span) - 1;
        let end = (to + 1).div_ceil(span) - 1;
        if first < end {
            let rows = ledger_nodes::Entity::find()
                .filter(ledger_nodes::Column::Level.eq(level as i32))
                .filter(ledger_nodes::Column::Idx.gte(first as i64))
                .filter(ledger_nodes::Column::Idx.lt(end as i64))
                .all(conn)
                .await?;
            for row in &rows {
                let (id, hash) = node_of(row)?;
                map.insert(id, hash);
            }
        }
        level += 1;
    }
    Ok(map)
}

/// Writes a sequenced batch: entries at their indices, newly completed nodes, the consumed
/// queue rows removed, the new state and its checkpoint.
pub struct SequencedBatch {
    /// (index, entry, leaf hash, queue id)
    pub entries: Vec<(u64, Vec<u8>, Hash, i64)>,
    pub nodes: Vec<(NodeId, Hash)>,
    pub consumed: Vec<i64>,
    pub size: u64,
    pub root: Hash,
    pub checkpoint: String,
}

pub async fn write_batch(conn: &impl ConnectionTrait, batch: SequencedBatch, now: DateTime<Utc>) -> StoreResult<()> {
    let entries = batch
        .entries
        .into_iter()
        .map(|(index, entry, leaf, source)| ledger_entries::ActiveModel {
            idx: Set(index as i64),
            entry: Set(entry),
            leaf_hash: Set(leaf.to_vec()),
            source_id: Set(source),
            sequenced_at: Set(now),
        })
        .collect();
    insert_in_chunks(conn, entries).await?;
    insert_nodes(conn, batch.nodes).await?;
    ledger_pending::Entity::delete_many()
        .filter(ledger_pending::Column::Id.is_in(batch.consumed))
        .exec(conn)
        .await?;
    ledger_state::ActiveModel {
        id: Set(1),
        tree_size: Set(batch.size as i64),
        root_hash: Set(batch.root.to_vec()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    ledger_checkpoints::ActiveModel {
        tree_size: Set(batch.size as i64),
        root_hash: Set(batch.root.to_vec()),
        note: Set(batch.checkpoint),
        created_at: Set(now),
        witnessed: Set(false),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The entry sequenced from queue row `source`, once it has been.
pub async fn entry_from_queue(conn: &impl ConnectionTrait, source: i64) -> StoreResult<Option<EntryRow>> {
    Ok(ledger_entries::Entity::find()
        .filter(ledger_entries::Column::SourceId.eq(source))
        .one(conn)
        .await?
        .map(EntryRow::from))
}

/// The ledger index of each of these queue rows that has been sequenced (absent: still queued).
pub async fn indices_from_queue(conn: &impl ConnectionTrait, sources: &[i64]) -> StoreResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = in_chunks(sources, |chunk| {
        ledger_entries::Entity::find()
            .select_only()
            .column(ledger_entries::Column::SourceId)
            .column(ledger_entries::Column::Idx)
            .filter(ledger_entries::Column::SourceId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
    })
    .await?;
    Ok(rows.into_iter().collect())
}

pub async fn entry(conn: &impl ConnectionTrait, index: u64) -> StoreResult<Option<EntryRow>> {
    Ok(ledger_entries::Entity::find_by_id(index as i64)
        .one(conn)
        .await?
        .map(EntryRow::from))
}

/// Entries `from..to` in index order (for the audit).
pub async fn entries(conn: &impl ConnectionTrait, from: u64, to: u64) -> StoreResult<Vec<EntryRow>> {
    let rows = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Idx.gte(from as i64))
        .filter(ledger_entries::Column::Idx.lt(to as i64))
        .order_by_asc(ledger_entries::Column::Idx)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(EntryRow::from).collect())
}

pub async fn latest_checkpoint(conn: &impl ConnectionTrait) -> StoreResult<Option<CheckpointRow>> {
    Ok(ledger_checkpoints::Entity::find()
        .order_by_desc(ledger_checkpoints::Column::TreeSize)
        .one(conn)
        .await?
        .map(CheckpointRow::from))
}

/// The checkpoint signed for a tree of `size` leaves, if a batch ended there.
pub async fn checkpoint_for(conn: &impl ConnectionTrait, size: u64) -> StoreResult<Option<CheckpointRow>> {
    let Ok(size) = i64::try_from(size) else {
        return Ok(None);
    };
    Ok(ledger_checkpoints::Entity::find_by_id(size)
        .one(conn)
        .await?
        .map(CheckpointRow::from))
}

/// Replaces the note of the checkpoint for `size` with the same checkpoint signed by more keys.
pub async fn cosign_checkpoint(conn: &impl ConnectionTrait, size: u64, note: &str) -> StoreResult<()> {
    ledger_checkpoints::Entity::update_many()
        .col_expr(ledger_checkpoints::Column::Note, sea_orm::sea_query::Expr::value(note))
        .filter(ledger_checkpoints::Column::TreeSize.eq(size as i64))
        .exec(conn)
        .await?;
    Ok(())
}

/// The latest checkpoint enough witnesses cosigned.
pub async fn latest_witnessed(conn: &impl ConnectionTrait) -> StoreResult<Option<CheckpointRow>> {
    Ok(ledger_checkpoints::Entity::find()
        .filter(ledger_checkpoints::Column::Witnessed.eq(true))
        .order_by_desc(ledger_checkpoints::Column::TreeSize)
        .one(conn)
        .await?
        .map(CheckpointRow::from))
}

/// Replaces the note of the checkpoint for `size` with `note` (the same checkpoint with more
/// witnesses' cosignatures) if it still reads `expected`, so that two servers adding
/// cosignatures at once never lose one; returns whether it did.
pub async fn witness_checkpoint(
    conn: &impl ConnectionTrait,
    size: u64,
    expected: &str,
    note: &str,
    witnessed: bool,
) -> StoreResult<bool> {
    let updated = ledger_checkpoints::Entity::update_many()
        .col_expr(ledger_checkpoints::Column::Note, sea_orm::sea_query::Expr::value(note))
        .col_expr(
            ledger_checkpoints::Column::Witnessed,
            sea_orm::sea_query::Expr::value(witnessed),
        )
        .filter(ledger_checkpoints::Column::TreeSize.eq(i64::try_from(size).unwrap_or(i64::MAX)))
        .filter(ledger_checkpoints::Column::Note.eq(expected))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// At most `limit` checkpoints for trees larger than `size`, smallest first.
pub async fn checkpoints_after(conn: &impl ConnectionTrait, size: u64, limit: u64) -> StoreResult<Vec<CheckpointRow>> {
    let rows = ledger_checkpoints::Entity::find()
        .filter(ledger_checkpoints::Column::TreeSize.gt(i64::try_from(size).unwrap_or(i64::MAX)))
        .order_by_asc(ledger_checkpoints::Column::TreeSize)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(CheckpointRow::from).collect())
}

/// Every checkpoint, smallest tree first.
pub async fn checkpoints(conn: &impl ConnectionTrait) -> StoreResult<Vec<CheckpointRow>> {
    let rows = ledger_checkpoints::Entity::find()
        .order_by_asc(ledger_checkpoints::Column::TreeSize)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(CheckpointRow::from).collect())
}
