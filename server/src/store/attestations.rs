//! Hash attestations: which issuer attested which hash, and where in the log the entry went.
//! Written in the same transaction as the entry's queue row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::{attestations, ledger_entries};
use super::ledger::EntryRow;
use super::{StoreResult, insert_in_chunks};
use crate::domain::ids::IssuerId;
use crate::ledger::merkle::Hash;

/// An attestation as stored beside its ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationRow {
    pub id: i64,
    pub issuer_id: i64,
    pub digest: Vec<u8>,
    pub label: String,
    pub queue_id: i64,
    pub created_at: DateTime<Utc>,
}

impl From<attestations::Model> for AttestationRow {
    fn from(m: attestations::Model) -> Self {
        AttestationRow {
            id: m.id,
            issuer_id: m.issuer_id,
            digest: m.digest,
            label: m.label,
            queue_id: m.queue_id,
            created_at: m.created_at,
        }
    }
}

/// An attestation to keep beside its queued ledger entry.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub issuer: IssuerId,
    pub digest: Hash,
    pub label: String,
    pub queue_id: i64,
    pub created_at: DateTime<Utc>,
}

/// Records attestations in the caller's transaction, the one that queued their entries.
pub async fn record_many(conn: &impl ConnectionTrait, rows: Vec<NewRow>) -> StoreResult<()> {
    let rows = rows
        .into_iter()
        .map(|row| attestations::ActiveModel {
            issuer_id: Set(row.issuer.0),
            digest: Set(row.digest.to_vec()),
            label: Set(row.label),
            queue_id: Set(row.queue_id),
            created_at: Set(row.created_at),
            ..Default::default()
        })
        .collect();
    insert_in_chunks(conn, rows).await
}

/// Pairs each attestation with its ledger entry, `None` while it waits to be sequenced.
async fn with_entries(
    conn: &impl ConnectionTrait,
    rows: Vec<attestations::Model>,
) -> StoreResult<Vec<(AttestationRow, Option<EntryRow>)>> {
    let mut entries: HashMap<i64, EntryRow> = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::SourceId.is_in(rows.iter().map(|r| r.queue_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.source_id, EntryRow::from(e)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let entry = entries.remove(&row.queue_id);
            (AttestationRow::from(row), entry)
        })
        .collect())
}

/// Every sequenced attestation of `digest`, oldest first.
pub async fn of_digest(conn: &impl ConnectionTrait, digest: &Hash) -> StoreResult<Vec<(AttestationRow, EntryRow)>> {
    let rows = attestations::Entity::find()
        .filter(attestations::Column::Digest.eq(digest.to_vec()))
        .order_by_asc(attestations::Column::Id)
        .all(conn)
        .await?;
    Ok(with_entries(conn, rows)
        .await?
        .into_iter()
        .filter_map(|(row, entry)| Some((row, entry?)))
        .collect())
}

/// An issuer's attestations, newest first, older than attestation `before` if given.
pub async fn of_issuer(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    before: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<(AttestationRow, Option<EntryRow>)>> {
    let mut query = attestations::Entity::find().filter(attestations::Column::IssuerId.eq(issuer.0));
    if let Some(before) = before {
        query = query.filter(attestations::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(attestations::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    with_entries(conn, rows).await
}
