//! Ledger format v2: the tree state says which hash its tree is built with (1: the SHA3-256
//! tree of format v1, 2: RFC 6962's SHA-256), and, once a v1 log has been closed and carried
//! over into v2, the size it was closed at. Existing rows are format 1: the server upgrades
//! them at its next start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerState {
    Table,
    Format,
    ClosedV1Size,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerState::Table)
                    .add_column(small_integer(LedgerState::Format).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerState::Table)
                    .add_column(big_integer_null(LedgerState::ClosedV1Size))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [LedgerState::ClosedV1Size, LedgerState::Format] {
            manager
                .alter_table(Table::alter().table(LedgerState::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
