//! Tokens: one row per claimed collectible. The holder columns are written once, when the token
//! is minted, and no code path updates them. `holder_index` is the holder's identity blind
//! index, which the per-person limit counts by; `salt` opens the holder commitment on the ledger.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    CollectionId,
    Serial,
    HolderUserId,
    HolderIndex,
    Salt,
    Commitment,
    Status,
    StatusReason,
    ClaimKey,
    LedgerQueueId,
    ClaimedAt,
}

#[derive(DeriveIden)]
enum Collections {
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
                    .table(Tokens::Table)
                    .col(big_pk_auto(Tokens::Id))
                    .col(big_integer(Tokens::CollectionId))
                    .col(integer(Tokens::Serial))
                    .col(big_integer(Tokens::HolderUserId))
                    .col(string_len(Tokens::HolderIndex, 128))
                    .col(blob(Tokens::Salt))
                    .col(blob(Tokens::Commitment))
                    .col(string_len(Tokens::Status, 16))
                    .col(text_null(Tokens::StatusReason))
                    .col(string_len(Tokens::ClaimKey, 64))
                    .col(big_integer(Tokens::LedgerQueueId))
                    .col(timestamp_with_time_zone(Tokens::ClaimedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tokens::Table, Tokens::CollectionId)
                            .to(Collections::Table, Collections::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tokens::Table, Tokens::HolderUserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_tokens_serial", vec![Tokens::CollectionId, Tokens::Serial]),
            ("idx_tokens_claim_key", vec![Tokens::HolderUserId, Tokens::ClaimKey]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Tokens::Table).unique();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_tokens_holder")
                    .table(Tokens::Table)
                    .col(Tokens::CollectionId)
                    .col(Tokens::HolderIndex)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Tokens::Table).to_owned()).await
    }
}
