//! Refused transfer attempts, stored in bounded form: a counter per (token, clock hour)
//! instead of an audit row per attempt, and each client address's remaining allowance of
//! refused attempts (one row per address, removed once the allowance is full again).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TransferAttempts {
    Table,
    TokenId,
    /// The clock hour (UTC) the count covers.
    PeriodStart,
    /// Refused attempts on the token in that hour.
    Attempts,
    LastAt,
}

#[derive(DeriveIden)]
enum TransferAllowances {
    Table,
    /// The client address (an IPv6 client by its /64 network).
    Client,
    /// When the address's allowance is full again, in milliseconds since the Unix epoch.
    FullAtMs,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TransferAttempts::Table)
                    .col(big_integer(TransferAttempts::TokenId))
                    .col(timestamp_with_time_zone(TransferAttempts::PeriodStart))
                    .col(big_integer(TransferAttempts::Attempts))
                    .col(timestamp_with_time_zone(TransferAttempts::LastAt))
                    .primary_key(
                        Index::create()
                            .col(TransferAttempts::TokenId)
                            .col(TransferAttempts::PeriodStart),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TransferAttempts::Table, TransferAttempts::TokenId)
                            .to(Tokens::Table, Tokens::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TransferAllowances::Table)
                    .col(string_len(TransferAllowances::Client, 64).primary_key())
                    .col(big_integer(TransferAllowances::FullAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transfer_allowances_full_at_ms")
                    .table(TransferAllowances::Table)
                    .col(TransferAllowances::FullAtMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TransferAllowances::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TransferAttempts::Table).to_owned())
            .await
    }
}
