//! `tokens`: claimed collectibles. Holder columns are written once, at minting.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub collection_id: i64,
    pub serial: i32,
    pub holder_user_id: i64,
    pub holder_index: String,
    pub salt: Vec<u8>,
    pub commitment: Vec<u8>,
    pub status: String,
    pub status_reason: Option<String>,
    pub claim_key: String,
    pub ledger_queue_id: i64,
    pub claimed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
