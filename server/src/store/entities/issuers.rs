//! `issuers`: organisations registered (or applying) to issue collectibles.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issuers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub legal_name: String,
    pub credit_code: String,
    pub icp_filing: String,
    pub blockchain_filing: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub org_code_warning: bool,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub claimed_by: Option<i64>,
    pub claimed_until: Option<DateTimeUtc>,
    pub version: i32,
    pub licence_valid_until: Option<Date>,
    pub icp_valid_until: Option<Date>,
    pub blockchain_valid_until: Option<Date>,
    pub filings_checked_on: Option<Date>,
    pub filings_lapsed_at: Option<DateTimeUtc>,
    pub renewal_licence_until: Option<Date>,
    pub renewal_icp_until: Option<Date>,
    pub renewal_blockchain_until: Option<Date>,
    pub renewal_submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
