//! `filing_reminders`: the latest reminder sent to each organisation about its filings
//! running out, so that each goes out once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "filing_reminders")]
pub struct Model {
    /// `issuer:<id>` or `operator`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    pub last_day: Date,
    pub days_before: i32,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
