//! Claim codes, by hash. Redeeming one is a compare-and-set on `used_at`, inside the claim's
//! transaction, so a code mints at most one token however many people type it at once.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};

use super::entities::claim_codes;
use super::{StoreResult, insert_in_chunks};
use crate::domain::claim::CodeState;
use crate::domain::ids::{CollectionId, TokenId};

/// Stores a batch of code hashes; returns the batch number.
pub async fn add_batch(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> StoreResult<i32> {
    let last: Option<Option<i32>> = claim_codes::Entity::find()
        .select_only()
        .column_as(claim_codes::Column::Batch.max(), "batch")
        .filter(claim_codes::Column::CollectionId.eq(collection.0))
        .into_tuple()
        .one(conn)
        .await?;
    let batch = last.flatten().unwrap_or(0) + 1;
    let rows = hashes
        .iter()
        .map(|hash| claim_codes::ActiveModel {
            collection_id: Set(collection.0),
            code_hash: Set(hash.to_vec()),
            batch: Set(batch),
            created_at: Set(now),
            used_at: Set(None),
            token_id: Set(None),
            ..Default::default()
        })
        .collect();
    insert_in_chunks(conn, rows).await?;
    Ok(batch)
}

/// A stored code: its row and whether it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCode {
    pub id: i64,
    pub collection: CollectionId,
    pub state: CodeState,
    /// The token a used code minted.
    pub token: Option<TokenId>,
}

pub async fn find(conn: &impl ConnectionTrait, hash: &[u8; 32]) -> StoreResult<Option<StoredCode>> {
    Ok(claim_codes::Entity::find()
        .filter(claim_codes::Column::CodeHash.eq(hash.to_vec()))
        .one(conn)
        .await?
        .map(|m| StoredCode {
            id: m.id,
            collection: CollectionId(m.collection_id),
            state: if m.used_at.is_some() {
                CodeState::Used
            } else {
                CodeState::Unused
            },
            token: m.token_id.map(TokenId),
        }))
}

/// Marks a code used by `token`; false if someone used it first.
pub async fn redeem(conn: &impl ConnectionTrait, id: i64, token: TokenId, now: DateTime<Utc>) -> StoreResult<bool> {
    let result = claim_codes::Entity::update_many()
        .col_expr(claim_codes::Column::UsedAt, Expr::value(now))
        .col_expr(claim_codes::Column::TokenId, Expr::value(token.0))
        .filter(claim_codes::Column::Id.eq(id))
        .filter(claim_codes::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// (generated, used) codes of a collection.
pub async fn counts(conn: &impl ConnectionTrait, collection: CollectionId) -> StoreResult<(u64, u64)> {
    let of_collection = || claim_codes::Entity::find().filter(claim_codes::Column::CollectionId.eq(collection.0));
    let total = of_collection().count(conn).await?;
    let used = of_collection()
        .filter(claim_codes::Column::UsedAt.is_not_null())
        .count(conn)
        .await?;
    Ok((total, used))
}
