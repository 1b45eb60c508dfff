//! `image_blocklist`: perceptual hashes of images no collection may use (the images are not kept).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image_blocklist")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub perceptual_hash: i64,
    pub label: String,
    pub added_by: i64,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
