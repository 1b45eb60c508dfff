//! A person's archives of their own data (PIPL Art. 45): requested with the password, built in
//! the background, stored sealed in the blob store and offered until they expire.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataExports {
    Table,
    Id,
    UserId,
    /// `pending`, `ready`, `failed` or `expired`.
    Status,
    RequestedAt,
    /// The server building it, and until when; another server takes it over afterwards.
    BuildingUntil,
    ReadyAt,
    ExpiresAt,
    BlobKey,
    Bytes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataExports::Table)
                    .col(big_pk_auto(DataExports::Id))
                    .col(big_integer(DataExports::UserId))
                    .col(string_len(DataExports::Status, 16))
                    .col(timestamp_with_time_zone(DataExports::RequestedAt))
                    .col(timestamp_with_time_zone_null(DataExports::BuildingUntil))
                    .col(timestamp_with_time_zone_null(DataExports::ReadyAt))
                    .col(timestamp_with_time_zone_null(DataExports::ExpiresAt))
                    .col(string_len_null(DataExports::BlobKey, 128))
                    .col(big_integer_null(DataExports::Bytes))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("data_exports_by_user")
                    .table(DataExports::Table)
                    .col(DataExports::UserId)
                    .col(DataExports::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("data_exports_by_status")
                    .table(DataExports::Table)
                    .col(DataExports::Status)
                    .col(DataExports::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DataExports::Table).to_owned())
            .await
    }
}
