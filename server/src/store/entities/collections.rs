//! `collections`: what issuers offer for claiming, with artwork, screening and review state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub issuer_id: i64,
    pub status: String,
    pub status_reason: Option<String>,
    pub reason_code: Option<String>,
    pub title: String,
    pub description: String,
    pub edition_size: i32,
    pub per_person_limit: i32,
    pub claim_starts_at: DateTimeUtc,
    pub claim_ends_at: DateTimeUtc,
    pub claim_mode: String,
    /// The youngest age that may claim, where higher than the platform's minimum.
    pub minimum_age: Option<i16>,
    pub content_hash: Vec<u8>,
    pub artwork_type: String,
    pub artwork_width: i32,
    pub artwork_height: i32,
    pub artwork_bytes: i64,
    pub original_key: String,
    pub full_key: String,
    pub large_key: String,
    pub small_key: String,
    pub perceptual_hash: i64,
    pub risk_score: i32,
    pub findings: String,
    pub list_versions: String,
    pub first_approved_by: Option<i64>,
    pub claimed_by: Option<i64>,
    pub claimed_until: Option<DateTimeUtc>,
    pub claimed_count: i64,
    pub ledger_queue_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
