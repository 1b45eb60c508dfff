//! `identities`: one real-name identity per account, encrypted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub status: String,
    pub legal_name_enc: String,
    pub id_number_enc: String,
    pub id_masked: String,
    #[sea_orm(unique)]
    pub blind_index: Option<String>,
    pub province_known: bool,
    pub verifier: String,
    pub provider_reference: Option<String>,
    pub reject_reason: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<i64>,
    pub claimed_by: Option<i64>,
    pub claimed_until: Option<DateTimeUtc>,
    pub version: i32,
    /// Where the person was going when they submitted; the decision mail leads back there.
    pub return_path: Option<String>,
    /// The verified identity a pending correction would replace, kept until it is decided.
    pub previous_name_enc: Option<String>,
    pub previous_id_number_enc: Option<String>,
    pub previous_masked: Option<String>,
    pub previous_blind_index: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
