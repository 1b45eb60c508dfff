//! Refusals counted per day (Beijing time) and kind, naming no one: what the annual governance
//! report says of minors turned away, without keeping who they were.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefusalCounts {
    Table,
    Day,
    /// What was refused: `minor_identity`, `age_restricted_claim`, `too_young_member` (an issuer
    /// application).
    Kind,
    Refusals,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefusalCounts::Table)
                    .col(date(RefusalCounts::Day))
                    .col(string_len(RefusalCounts::Kind, 32))
                    .col(big_integer(RefusalCounts::Refusals))
                    .primary_key(Index::create().col(RefusalCounts::Day).col(RefusalCounts::Kind))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefusalCounts::Table).to_owned())
            .await
    }
}
