//! Collections with their artwork and screening results, and the moderation policy the
//! operator edits at run time: extra term lists, the image blocklist (perceptual hashes only)
//! and the review thresholds (one row).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    IssuerId,
    Status,
    StatusReason,
    ReasonCode,
    Title,
    Description,
    EditionSize,
    PerPersonLimit,
    ClaimStartsAt,
    ClaimEndsAt,
    ClaimMode,
    ContentHash,
    ArtworkType,
    ArtworkWidth,
    ArtworkHeight,
    ArtworkBytes,
    OriginalKey,
    FullKey,
    LargeKey,
    SmallKey,
    PerceptualHash,
    RiskScore,
    Findings,
    ListVersions,
    FirstApprovedBy,
    ClaimedBy,
    ClaimedUntil,
    ClaimedCount,
    LedgerQueueId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    DecidedAt,
    PublishedAt,
    Version,
}

#[derive(DeriveIden)]
enum ModerationTerms {
    Table,
    Id,
    Category,
    Severity,
    Term,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum ImageBlocklist {
    Table,
    Id,
    PerceptualHash,
    Label,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum ModerationSettings {
    Table,
    Id,
    FourEyesScore,
    MaxDistance,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Issuers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Collections::Table)
                    .col(big_pk_auto(Collections::Id))
                    .col(big_integer(Collections::IssuerId))
                    .col(string_len(Collections::Status, 32))
                    .col(text_null(Collections::StatusReason))
                    .col(string_len_null(Collections::ReasonCode, 32))
                    .col(text(Collections::Title))
                    .col(text(Collections::Description))
                    .col(integer(Collections::EditionSize))
                    .col(integer(Collections::PerPersonLimit))
                    .col(timestamp_with_time_zone(Collections::ClaimStartsAt))
                    .col(timestamp_with_time_zone(Collections::ClaimEndsAt))
                    .col(string_len(Collections::ClaimMode, 16))
                    .col(blob(Collections::ContentHash))
                    .col(string_len(Collections::ArtworkType, 32))
                    .col(integer(Collections::ArtworkWidth))
                    .col(integer(Collections::ArtworkHeight))
                    .col(big_integer(Collections::ArtworkBytes))
                    .col(text(Collections::OriginalKey))
                    .col(text(Collections::FullKey))
                    .col(text(Collections::LargeKey))
                    .col(text(Collections::SmallKey))
                    .col(big_integer(Collections::PerceptualHash))
                    .col(integer(Collections::RiskScore).default(0))
                    .col(text(Collections::Findings))
                    .col(text(Collections::ListVersions))
                    .col(big_integer_null(Collections::FirstApprovedBy))
                    .col(big_integer_null(Collections::ClaimedBy))
                    .col(timestamp_with_time_zone_null(Collections::ClaimedUntil))
                    .col(big_integer(Collections::ClaimedCount).default(0))
                    .col(big_integer_null(Collections::LedgerQueueId))
                    .col(big_integer(Collections::CreatedBy))
                    .col(timestamp_with_time_zone(Collections::CreatedAt))
                    .col(timestamp_with_time_zone(Collections::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Collections::SubmittedAt))
                    .col(timestamp_with_time_zone_null(Collections::DecidedAt))
                    .col(timestamp_with_time_zone_null(Collections::PublishedAt))
                    .col(integer(Collections::Version).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Collections::Table, Collections::IssuerId)
                            .to(Issuers::Table, Issuers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Collections::Table, Collections::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collections_issuer")
                    .table(Collections::Table)
                    .col(Collections::IssuerId)
                    .col(Collections::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collections_queue")
                    .table(Collections::Table)
                    .col(Collections::Status)
                    .col(Collections::RiskScore)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModerationTerms::Table)
                    .col(big_pk_auto(ModerationTerms::Id))
                    .col(string_len(ModerationTerms::Category, 32))
                    .col(string_len(ModerationTerms::Severity, 16))
                    .col(text(ModerationTerms::Term))
                    .col(big_integer(ModerationTerms::AddedBy))
                    .col(timestamp_with_time_zone(ModerationTerms::AddedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moderation_terms_unique")
                    .table(ModerationTerms::Table)
                    .col(ModerationTerms::Category)
                    .col(ModerationTerms::Severity)
                    .col(ModerationTerms::Term)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImageBlocklist::Table)
                    .col(big_pk_auto(ImageBlocklist::Id))
                    .col(big_integer(ImageBlocklist::PerceptualHash))
                    .col(text(ImageBlocklist::Label))
                    .col(big_integer(ImageBlocklist::AddedBy))
                    .col(timestamp_with_time_zone(ImageBlocklist::AddedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModerationSettings::Table)
                    .col(integer(ModerationSettings::Id).primary_key())
                    .col(integer(ModerationSettings::FourEyesScore))
                    .col(integer(ModerationSettings::MaxDistance))
                    .col(big_integer_null(ModerationSettings::UpdatedBy))
                    .col(timestamp_with_time_zone_null(ModerationSettings::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ModerationSettings::Table.into_iden(),
            ImageBlocklist::Table.into_iden(),
            ModerationTerms::Table.into_iden(),
            Collections::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
