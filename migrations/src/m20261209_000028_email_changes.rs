//! Changes of an account's email address: requested with the password, confirmed from the new
//! address, and undoable from the old one for a while. The links themselves are one-time
//! tokens in `email_tokens`; this keeps which address changed to which, and where it stands.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailChanges {
    Table,
    Id,
    UserId,
    OldEmail,
    NewEmail,
    /// `pending`, `confirmed`, `undone` or `superseded` (a newer request replaced it).
    Status,
    RequestedAt,
    ConfirmedAt,
    UndoneAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailChanges::Table)
                    .col(big_pk_auto(EmailChanges::Id))
                    .col(big_integer(EmailChanges::UserId))
                    .col(string_len(EmailChanges::OldEmail, 320))
                    .col(string_len(EmailChanges::NewEmail, 320))
                    .col(string_len(EmailChanges::Status, 16))
                    .col(timestamp_with_time_zone(EmailChanges::RequestedAt))
                    .col(timestamp_with_time_zone_null(EmailChanges::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(EmailChanges::UndoneAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("email_changes_by_user")
                    .table(EmailChanges::Table)
                    .col(EmailChanges::UserId)
                    .col(EmailChanges::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailChanges::Table).to_owned())
            .await
    }
}
