//! `ledger_anchors`: the transactions that anchored checkpoints on an EVM chain, by the size of
//! the checkpoint; `block_number` once the chain included it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_anchors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tree_size: i64,
    pub chain_id: i64,
    pub transaction_hash: String,
    pub block_number: Option<i64>,
    pub sent_at: DateTimeUtc,
    pub included_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
