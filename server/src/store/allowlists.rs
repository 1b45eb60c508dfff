//! Collection allowlists: who, by email address, may claim.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};

use super::entities::claim_allowlist;
use super::{StoreResult, insert_in_chunks};
use crate::domain::account::Email;
use crate::domain::ids::CollectionId;

/// Adds the addresses not yet listed; returns how many were new.
pub async fn add(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    emails: &[Email],
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let existing: Vec<String> = claim_allowlist::Entity::find()
        .select_only()
        .column(claim_allowlist::Column::Email)
        .filter(claim_allowlist::Column::CollectionId.eq(collection.0))
        .into_tuple()
        .all(conn)
        .await?;
    let fresh: Vec<&Email> = emails
        .iter()
        .filter(|e| !existing.iter().any(|x| x == e.as_str()))
        .collect();
    let rows = fresh
        .iter()
        .map(|email| claim_allowlist::ActiveModel {
            collection_id: Set(collection.0),
            email: Set(email.as_str().to_owned()),
            added_at: Set(now),
            ..Default::default()
        })
        .collect();
    insert_in_chunks(conn, rows).await?;
    Ok(fresh.len())
}

pub async fn contains(conn: &impl ConnectionTrait, collection: CollectionId, email: &str) -> StoreResult<bool> {
    Ok(claim_allowlist::Entity::find()
        .filter(claim_allowlist::Column::CollectionId.eq(collection.0))
        .filter(claim_allowlist::Column::Email.eq(email))
        .count(conn)
        .await?
        > 0)
}

pub async fn count(conn: &impl ConnectionTrait, collection: CollectionId) -> StoreResult<u64> {
    Ok(claim_allowlist::Entity::find()
        .filter(claim_allowlist::Column::CollectionId.eq(collection.0))
        .count(conn)
        .await?)
}
