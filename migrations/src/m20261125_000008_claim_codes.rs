//! Claim codes: only a hash of each code is kept. `token_id` is set when the code is redeemed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClaimCodes {
    Table,
    Id,
    CollectionId,
    CodeHash,
    Batch,
    CreatedAt,
    UsedAt,
    TokenId,
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
                    .table(ClaimCodes::Table)
                    .col(big_pk_auto(ClaimCodes::Id))
                    .col(big_integer(ClaimCodes::CollectionId))
                    .col(blob(ClaimCodes::CodeHash))
                    .col(integer(ClaimCodes::Batch))
                    .col(timestamp_with_time_zone(ClaimCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(ClaimCodes::UsedAt))
                    .col(big_integer_null(ClaimCodes::TokenId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClaimCodes::Table, ClaimCodes::CollectionId)
                            .to(Collections::Table, Collections::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_claim_codes_hash")
                    .table(ClaimCodes::Table)
                    .col(ClaimCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_claim_codes_collection")
                    .table(ClaimCodes::Table)
                    .col(ClaimCodes::CollectionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClaimCodes::Table).to_owned())
            .await
    }
}
