//! Policy acceptances: which version of the platform rules, the user agreement and the
//! privacy policy each person accepted, and when. Rows are only added: an acceptance is a
//! record of what was agreed, kept when a newer version is accepted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PolicyAcceptances {
    Table,
    UserId,
    Document,
    Version,
    AcceptedAt,
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
                    .table(PolicyAcceptances::Table)
                    .col(big_integer(PolicyAcceptances::UserId))
                    .col(string_len(PolicyAcceptances::Document, 16))
                    .col(integer(PolicyAcceptances::Version))
                    .col(timestamp_with_time_zone(PolicyAcceptances::AcceptedAt))
                    .primary_key(
                        Index::create()
                            .col(PolicyAcceptances::UserId)
                            .col(PolicyAcceptances::Document)
                            .col(PolicyAcceptances::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PolicyAcceptances::Table, PolicyAcceptances::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PolicyAcceptances::Table).to_owned())
            .await
    }
}
