//! `issuer_invitations`: emailed invitations to join an issuer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issuer_invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub issuer_id: i64,
    pub email: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub invited_by: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
