//! `issuer_documents`: business licence and filing certificates, stored as blobs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issuer_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub issuer_id: i64,
    pub kind: String,
    pub blob_key: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
