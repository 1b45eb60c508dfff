//! `attestations`: hash attestations by issuers, pointing at their ledger entries.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attestations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub issuer_id: i64,
    pub digest: Vec<u8>,
    pub label: String,
    #[sea_orm(unique)]
    pub queue_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
