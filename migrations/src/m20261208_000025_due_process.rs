//! Due process: reports (投诉举报) that anyone files and a reviewer decides, and appeals against
//! decisions, each decided by another reviewer than the one who made the decision.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    /// The canonical ticket (16 Crockford base-32 characters): the reporter's handle.
    Ticket,
    /// `collection`, `token` or `issuer`.
    TargetType,
    TargetId,
    Category,
    Description,
    /// Where the decision is mailed, if the reporter left an address.
    ContactEmail,
    ReporterUserId,
    Locale,
    Status,
    ReasonCode,
    DecisionReason,
    DecidedBy,
    DecidedAt,
    ClaimedBy,
    ClaimedUntil,
    Version,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Id,
    /// `issuer`, `collection` or `token`.
    SubjectType,
    SubjectId,
    /// Which decision: `issuer_suspended`, `collection_frozen`, `collection_rejected`,
    /// `token_frozen`.
    Decision,
    /// The audit row of the decision appealed: one appeal per decision.
    DecisionAuditId,
    /// The reviewer who decided, who may not decide the appeal.
    DecidedBy,
    AppellantUserId,
    Statement,
    Status,
    OutcomeReason,
    ReviewedBy,
    ReviewedAt,
    ClaimedBy,
    ClaimedUntil,
    Version,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(big_pk_auto(Reports::Id))
                    .col(string_len(Reports::Ticket, 16).unique_key())
                    .col(string_len(Reports::TargetType, 16))
                    .col(big_integer(Reports::TargetId))
                    .col(string_len(Reports::Category, 32))
                    .col(text(Reports::Description))
                    .col(string_null(Reports::ContactEmail))
                    .col(big_integer_null(Reports::ReporterUserId))
                    .col(string_len(Reports::Locale, 8))
                    .col(string_len(Reports::Status, 16))
                    .col(string_len_null(Reports::ReasonCode, 32))
                    .col(text_null(Reports::DecisionReason))
                    .col(big_integer_null(Reports::DecidedBy))
                    .col(timestamp_with_time_zone_null(Reports::DecidedAt))
                    .col(big_integer_null(Reports::ClaimedBy))
                    .col(timestamp_with_time_zone_null(Reports::ClaimedUntil))
                    .col(integer(Reports::Version).default(0))
                    .col(timestamp_with_time_zone(Reports::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reports_by_status")
                    .table(Reports::Table)
                    .col(Reports::Status)
                    .col(Reports::CreatedAt)
                    .col(Reports::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Appeals::Table)
                    .col(big_pk_auto(Appeals::Id))
                    .col(string_len(Appeals::SubjectType, 16))
                    .col(big_integer(Appeals::SubjectId))
                    .col(string_len(Appeals::Decision, 32))
                    .col(big_integer(Appeals::DecisionAuditId).unique_key())
                    .col(big_integer_null(Appeals::DecidedBy))
                    .col(big_integer(Appeals::AppellantUserId))
                    .col(text(Appeals::Statement))
                    .col(string_len(Appeals::Status, 16))
                    .col(text_null(Appeals::OutcomeReason))
                    .col(big_integer_null(Appeals::ReviewedBy))
                    .col(timestamp_with_time_zone_null(Appeals::ReviewedAt))
                    .col(big_integer_null(Appeals::ClaimedBy))
                    .col(timestamp_with_time_zone_null(Appeals::ClaimedUntil))
                    .col(integer(Appeals::Version).default(0))
                    .col(timestamp_with_time_zone(Appeals::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("appeals_by_subject")
                    .table(Appeals::Table)
                    .col(Appeals::SubjectType)
                    .col(Appeals::SubjectId)
                    .col(Appeals::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("appeals_by_status")
                    .table(Appeals::Table)
                    .col(Appeals::Status)
                    .col(Appeals::CreatedAt)
                    .col(Appeals::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Appeals::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Reports::Table).to_owned()).await
    }
}
