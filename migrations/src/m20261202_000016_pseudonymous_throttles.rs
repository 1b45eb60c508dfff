//! The throttles now count log-in failures and refused transfer attempts under keyed
//! pseudonyms of the account and the client address, never the values themselves. Rows
//! written before held both in clear; they only ever matter for an hour or less, so they are
//! deleted rather than converted (the key is outside the database, out of a migration's
//! reach). Nothing can restore them on the way down.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
}

#[derive(DeriveIden)]
enum TransferAllowances {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for table in [
            Query::delete().from_table(LoginFailures::Table).to_owned(),
            Query::delete().from_table(TransferAllowances::Table).to_owned(),
        ] {
            conn.execute(&table).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
