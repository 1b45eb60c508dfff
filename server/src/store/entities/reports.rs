//! `reports`: reports (投诉举报) with their tickets, review lock and decision.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ticket: String,
    pub target_type: String,
    pub target_id: i64,
    pub category: String,
    pub description: String,
    pub contact_email: Option<String>,
    pub reporter_user_id: Option<i64>,
    pub locale: String,
    pub status: String,
    pub reason_code: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub claimed_by: Option<i64>,
    pub claimed_until: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
