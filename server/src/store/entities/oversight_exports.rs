//! `oversight_exports`: the export bundles regulators made, with their days and issuer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oversight_exports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub regulator_user_id: i64,
    pub from_day: Date,
    pub to_day: Date,
    pub issuer_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
