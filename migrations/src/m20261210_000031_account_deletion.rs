//! Deleting an account without breaking the ledger. Each person's identity is sealed under a
//! data key of their own (`person_keys`, the key itself sealed under the installation's key);
//! deleting the key shreds every copy of what it sealed. A deleted account keeps its row, with
//! nothing that names anyone, so the records a law requires to be kept still point somewhere
//! until they are purged (`purged_at`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonKeys {
    Table,
    UserId,
    WrappedKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    DeletedAt,
    PurgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonKeys::Table)
                    .col(big_integer(PersonKeys::UserId).primary_key())
                    .col(string_len(PersonKeys::WrappedKey, 128))
                    .col(timestamp_with_time_zone(PersonKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite adds one at a time.
        for column in [Users::DeletedAt, Users::PurgedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Users::PurgedAt, Users::DeletedAt] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(PersonKeys::Table).to_owned())
            .await
    }
}
