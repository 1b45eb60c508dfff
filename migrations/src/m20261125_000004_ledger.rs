//! The ledger: queued entries, sequenced entries, stored Merkle nodes, the tree state and the
//! signed checkpoints.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerPending {
    Table,
    Id,
    Entry,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    /// The entry's index in the log: assigned from the tree size, never from a sequence.
    Idx,
    Entry,
    LeafHash,
    /// The queue row it came from, so a waiting request can find its index.
    SourceId,
    SequencedAt,
}

#[derive(DeriveIden)]
enum LedgerNodes {
    Table,
    Level,
    Idx,
    Hash,
}

#[derive(DeriveIden)]
enum LedgerState {
    Table,
    Id,
    TreeSize,
    RootHash,
}

#[derive(DeriveIden)]
enum LedgerCheckpoints {
    Table,
    TreeSize,
    RootHash,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerPending::Table)
                    .col(big_pk_auto(LedgerPending::Id))
                    .col(blob(LedgerPending::Entry))
                    .col(timestamp_with_time_zone(LedgerPending::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntries::Table)
                    .col(big_integer(LedgerEntries::Idx).primary_key())
                    .col(blob(LedgerEntries::Entry))
                    .col(blob(LedgerEntries::LeafHash))
                    .col(big_integer_uniq(LedgerEntries::SourceId))
                    .col(timestamp_with_time_zone(LedgerEntries::SequencedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerNodes::Table)
                    .col(integer(LedgerNodes::Level))
                    .col(big_integer(LedgerNodes::Idx))
                    .col(blob(LedgerNodes::Hash))
                    .primary_key(Index::create().col(LedgerNodes::Level).col(LedgerNodes::Idx))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerState::Table)
                    .col(integer(LedgerState::Id).primary_key())
                    .col(big_integer(LedgerState::TreeSize))
                    .col(blob(LedgerState::RootHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerCheckpoints::Table)
                    .col(big_integer(LedgerCheckpoints::TreeSize).primary_key())
                    .col(blob(LedgerCheckpoints::RootHash))
                    .col(text(LedgerCheckpoints::Note))
                    .col(timestamp_with_time_zone(LedgerCheckpoints::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LedgerCheckpoints::Table.into_iden(),
            LedgerState::Table.into_iden(),
            LedgerNodes::Table.into_iden(),
            LedgerEntries::Table.into_iden(),
            LedgerPending::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
