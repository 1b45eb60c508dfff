//! Allowlists: the email addresses that may claim an allowlist collection.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClaimAllowlist {
    Table,
    Id,
    CollectionId,
    Email,
    AddedAt,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClaimAllowlist::Table)
                    .col(big_pk_auto(ClaimAllowlist::Id))
                    .col(big_integer(ClaimAllowlist::CollectionId))
                    .col(string_len(ClaimAllowlist::Email, 254))
                    .col(timestamp_with_time_zone(ClaimAllowlist::AddedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClaimAllowlist::Table, ClaimAllowlist::CollectionId)
                            .to(Collections::Table, Collections::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_claim_allowlist_email")
                    .table(ClaimAllowlist::Table)
                    .col(ClaimAllowlist::CollectionId)
                    .col(ClaimAllowlist::Email)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClaimAllowlist::Table).to_owned())
            .await
    }
}
