//! `sms_messages`: each code texted (to add a number, or to log in with it), its delivery as
//! an outbox entry, and its use.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub purpose: String,
    pub phone_index: String,
    #[sea_orm(column_type = "Text")]
    pub phone_enc: String,
    pub user_id: Option<i64>,
    pub client: String,
    pub code_hash: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub code_enc: Option<String>,
    pub guesses: i32,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
