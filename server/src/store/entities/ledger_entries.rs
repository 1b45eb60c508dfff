//! `ledger_entries`: the log itself, one row per index.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub idx: i64,
    pub entry: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    #[sea_orm(unique)]
    pub source_id: i64,
    pub sequenced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
