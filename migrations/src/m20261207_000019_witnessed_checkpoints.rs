//! Witnessed checkpoints: a checkpoint's note gains the cosignature lines of the witnesses
//! that checked it, and `witnessed` says that enough of them did (the quorum configured when
//! they answered). The index finds the latest witnessed checkpoint without reading the ones
//! still waiting for witnesses.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerCheckpoints {
    Table,
    Witnessed,
    TreeSize,
}

const INDEX: &str = "ledger_checkpoints_witnessed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerCheckpoints::Table)
                    .add_column(boolean(LedgerCheckpoints::Witnessed).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(LedgerCheckpoints::Table)
                    .col(LedgerCheckpoints::Witnessed)
                    .col(LedgerCheckpoints::TreeSize)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(LedgerCheckpoints::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerCheckpoints::Table)
                    .drop_column(LedgerCheckpoints::Witnessed)
                    .to_owned(),
            )
            .await
    }
}
