//! Anchors: the transactions that put a checkpoint's hash on an EVM chain. A row is written
//! when the transaction is sent and gets its block number once the chain has included it, so
//! a server that stops in between finds it again and waits for it instead of sending another.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerAnchors {
    Table,
    /// The size of the checkpoint anchored.
    TreeSize,
    ChainId,
    /// `0x` and 64 hex digits.
    TransactionHash,
    BlockNumber,
    SentAt,
    IncludedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerAnchors::Table)
                    .col(big_integer(LedgerAnchors::TreeSize).primary_key())
                    .col(big_integer(LedgerAnchors::ChainId))
                    .col(string(LedgerAnchors::TransactionHash))
                    .col(big_integer_null(LedgerAnchors::BlockNumber))
                    .col(timestamp_with_time_zone(LedgerAnchors::SentAt))
                    .col(timestamp_with_time_zone_null(LedgerAnchors::IncludedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LedgerAnchors::Table).to_owned())
            .await
    }
}
