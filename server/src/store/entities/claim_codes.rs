//! `claim_codes`: hashes of one-time claim codes, and which token each one minted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub collection_id: i64,
    pub code_hash: Vec<u8>,
    pub batch: i32,
    pub created_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub token_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
