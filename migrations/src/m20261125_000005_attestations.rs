//! Hash attestations (存证), indexed by hash and by issuer. The ledger entry is the record of
//! truth; this table finds it: `queue_id` is the entry's `ledger_entries.source_id` once
//! sequenced.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attestations {
    Table,
    Id,
    IssuerId,
    Digest,
    Label,
    QueueId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Issuers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attestations::Table)
                    .col(big_pk_auto(Attestations::Id))
                    .col(big_integer(Attestations::IssuerId))
                    .col(blob(Attestations::Digest))
                    .col(text(Attestations::Label))
                    .col(big_integer_uniq(Attestations::QueueId))
                    .col(timestamp_with_time_zone(Attestations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attestations::Table, Attestations::IssuerId)
                            .to(Issuers::Table, Issuers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attestations_hash")
                    .table(Attestations::Table)
                    .col(Attestations::Digest)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attestations_issuer")
                    .table(Attestations::Table)
                    .col(Attestations::IssuerId)
                    .col(Attestations::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Attestations::Table).to_owned())
            .await
    }
}
