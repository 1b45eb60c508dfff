//! `transfer_allowances`: when each client address's allowance of refused transfer attempts
//! is full again; an address at its full allowance has no row.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfer_allowances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client: String,
    pub full_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
