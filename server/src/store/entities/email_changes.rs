//! `email_changes`: an account's address changed from one to another, and where the change
//! stands (pending, confirmed, undone, superseded).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub old_email: String,
    pub new_email: String,
    pub status: String,
    pub requested_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub undone_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
