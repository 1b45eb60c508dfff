//! The anchoring transactions of the ledger's checkpoints (`ledger_anchors`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreResult;
use super::entities::ledger_anchors;

/// One anchoring transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorRow {
    pub tree_size: u64,
    pub chain_id: u64,
    pub transaction_hash: String,
    /// `None` until the chain included the transaction.
    pub block_number: Option<u64>,
    pub sent_at: DateTime<Utc>,
    pub included_at: Option<DateTime<Utc>>,
}

impl From<ledger_anchors::Model> for AnchorRow {
    fn from(m: ledger_anchors::Model) -> Self {
        AnchorRow {
            tree_size: m.tree_size as u64,
            chain_id: m.chain_id as u64,
            transaction_hash: m.transaction_hash,
            block_number: m.block_number.map(|n| n as u64),
            sent_at: m.sent_at,
            included_at: m.included_at,
        }
    }
}

/// Records a transaction sent to anchor the checkpoint of `size`.
pub async fn sent(
    conn: &impl ConnectionTrait,
    size: u64,
    chain_id: u64,
    transaction_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    ledger_anchors::ActiveModel {
        tree_size: Set(size as i64),
        chain_id: Set(chain_id as i64),
        transaction_hash: Set(transaction_hash.to_owned()),
        block_number: Set(None),
        sent_at: Set(now),
        included_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Records that the anchor of `size` was included in block `block`.
pub async fn included(conn: &impl ConnectionTrait, size: u64, block: u64, now: DateTime<Utc>) -> StoreResult<()> {
    ledger_anchors::Entity::update_many()
        .col_expr(ledger_anchors::Column::BlockNumber, Expr::value(block as i64))
        .col_expr(ledger_anchors::Column::IncludedAt, Expr::value(now))
        .filter(ledger_anchors::Column::TreeSize.eq(size as i64))
        .exec(conn)
        .await?;
    Ok(())
}

/// The latest anchor sent, included or not.
pub async fn latest(conn: &impl ConnectionTrait) -> StoreResult<Option<AnchorRow>> {
    Ok(ledger_anchors::Entity::find()
        .order_by_desc(ledger_anchors::Column::TreeSize)
        .one(conn)
        .await?
        .map(AnchorRow::from))
}

/// Anchors sent that the chain has not included yet, oldest first.
pub async fn waiting(conn: &impl ConnectionTrait) -> StoreResult<Vec<AnchorRow>> {
    let rows = ledger_anchors::Entity::find()
        .filter(ledger_anchors::Column::BlockNumber.is_null())
        .order_by_asc(ledger_anchors::Column::TreeSize)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(AnchorRow::from).collect())
}

/// The first included anchor of a tree that holds entry `index`: the earliest proof on the
/// chain that the entry existed.
pub async fn first_covering(conn: &impl ConnectionTrait, index: u64) -> StoreResult<Option<AnchorRow>> {
    Ok(ledger_anchors::Entity::find()
        .filter(ledger_anchors::Column::TreeSize.gt(index as i64))
        .filter(ledger_anchors::Column::BlockNumber.is_not_null())
        .order_by_asc(ledger_anchors::Column::TreeSize)
        .one(conn)
        .await?
        .map(AnchorRow::from))
}

/// At most `limit` included anchors of trees smaller than `before` (all, without it), the
/// latest first.
pub async fn included_before(
    conn: &impl ConnectionTrait,
    before: Option<u64>,
    limit: u64,
) -> StoreResult<Vec<AnchorRow>> {
    let mut query = ledger_anchors::Entity::find().filter(ledger_anchors::Column::BlockNumber.is_not_null());
    if let Some(before) = before {
        query = query.filter(ledger_anchors::Column::TreeSize.lt(i64::try_from(before).unwrap_or(i64::MAX)));
    }
    let rows = query
        .order_by_desc(ledger_anchors::Column::TreeSize)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(AnchorRow::from).collect())
}
