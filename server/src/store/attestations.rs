//! Hash attestations: which issuer attested which hash, and where in the log the entry went.
//! Written in the same transaction as the entry's queue row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreResult;
use super::entities::{attestations, ledger_entries};
use super::ledger::EntryRow;
use crate::domain::issuer::IssuerId;
use crate::ledger::merkle::Hash;

pub use attestations::Model as AttestationRow;

pub async fn record(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    digest: &Hash,
    label: &str,
    queue_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    attestations::ActiveModel {
        issuer_id: Set(issuer.0),
        digest: Set(digest.to_vec()),
        label: Set(label.to_owned()),
        queue_id: Set(queue_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Pairs each attestation with its ledger entry, `None` while it waits to be sequenced.
async fn with_entries(
    conn: &impl ConnectionTrait,
    rows: Vec<AttestationRow>,
) -> StoreResult<Vec<(AttestationRow, Option<EntryRow>)>> {
    let mut entries: HashMap<i64, EntryRow> = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::SourceId.is_in(rows.iter().map(|r| r.queue_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.source_id, e))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let entry = entries.remove(&row.queue_id);
            (row, entry)
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

/// An issuer's most recent attestations, newest first.
pub async fn of_issuer(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    limit: u64,
) -> StoreResult<Vec<(AttestationRow, Option<EntryRow>)>> {
    let rows = attestations::Entity::find()
        .filter(attestations::Column::IssuerId.eq(issuer.0))
        .order_by_desc(attestations::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    with_entries(conn, rows).await
}
