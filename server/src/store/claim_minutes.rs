//! Claims counted per collection and clock minute, written by the claim that mints and read by
//! the issuer's chart, which folds them into buckets in SQL and so never reads the tokens.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::StoreResult;
use super::entities::claim_minutes::{self, Column, Entity};
use crate::domain::claim_stats::{ChartWindow, claim_minute};
use crate::domain::ids::CollectionId;

/// Counts `claims` more claims of `collection` at `at`.
pub async fn add(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    at: DateTime<Utc>,
    claims: u64,
) -> StoreResult<()> {
    let claims = i64::try_from(claims).unwrap_or(i64::MAX);
    Entity::insert(claim_minutes::ActiveModel {
        collection_id: Set(collection.0),
        minute: Set(claim_minute(at)),
        claims: Set(claims),
    })
    .on_conflict(
        OnConflict::columns([Column::CollectionId, Column::Minute])
            .value(Column::Claims, Expr::col((Entity, Column::Claims)).add(claims))
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The collection's claims summed per raw bucket of `window` (see [`ChartWindow::raw_bucket`]):
/// at most a few rows per bucket, computed by the database.
pub async fn in_buckets(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    window: &ChartWindow,
) -> StoreResult<Vec<(i64, u64)>> {
    let bucket = Expr::col(Column::Minute)
        .mul(60)
        .sub(window.from_seconds())
        .mul(i64::from(window.buckets()))
        .div(window.span_seconds());
    let sums: Vec<(i64, i64)> = Entity::find()
        .select_only()
        .column_as(bucket, "bucket")
        .column_as(Expr::col(Column::Claims).sum().cast_as("BIGINT"), "claims")
        .filter(Column::CollectionId.eq(collection.0))
        // By the output column's name: PostgreSQL would not match the expression repeated
        // with its own parameters.
        .group_by(Expr::col("bucket"))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(sums
        .into_iter()
        .map(|(bucket, claims)| (bucket, u64::try_from(claims).unwrap_or(0)))
        .collect())
}
