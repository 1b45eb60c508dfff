//! `ledger_pending`: entries queued with the change that caused them, not yet sequenced.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_pending")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entry: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
