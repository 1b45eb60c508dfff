//! `identity_reveals`: each time a regulator opened one person's identity, and why.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_reveals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub regulator_user_id: i64,
    pub subject_user_id: i64,
    pub reference: String,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
