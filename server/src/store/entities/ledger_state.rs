//! `ledger_state`: the single row holding the current tree size, root and format, and the size
//! the v1 log was closed at if this installation had one.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub format: i16,
    pub closed_v1_size: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
