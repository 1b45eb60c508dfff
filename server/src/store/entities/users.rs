//! `users`: one row per account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub password_hash: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub locale: String,
    pub created_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub purged_at: Option<DateTimeUtc>,
    /// The keyed blind index of the account's mobile number (unique: one number, one account).
    #[sea_orm(unique)]
    pub phone_index: Option<String>,
    /// The number, sealed under the person's key.
    #[sea_orm(column_type = "Text", nullable)]
    pub phone_enc: Option<String>,
    pub phone_verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
