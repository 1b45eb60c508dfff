//! Form results: what a form submission produced, kept for the person who sent it. A repeated
//! submission of the same form (a reload, a double click) finds its result instead of doing the
//! work twice, and a result that exists only once (a new API key, a batch of claim codes) can be
//! shown again for a short while, sealed at rest.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FormResults {
    Table,
    /// The session (or, signed out, a hash of the browser's CSRF cookie) that sent the form.
    Owner,
    /// The random key the form carried.
    FormKey,
    /// Where the result is shown.
    Location,
    /// The result itself, sealed with AES-256-GCM, while it may still be shown.
    Payload,
    CreatedAt,
    /// After this the payload is no longer shown.
    ShowUntil,
    /// After this the row is removed; until then the form key cannot be used twice.
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FormResults::Table)
                    .col(string_len(FormResults::Owner, 64))
                    .col(string_len(FormResults::FormKey, 64))
                    .col(string_len(FormResults::Location, 512))
                    .col(text_null(FormResults::Payload))
                    .col(timestamp_with_time_zone(FormResults::CreatedAt))
                    .col(timestamp_with_time_zone(FormResults::ShowUntil))
                    .col(timestamp_with_time_zone(FormResults::ExpiresAt))
                    .primary_key(Index::create().col(FormResults::Owner).col(FormResults::FormKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_form_results_expires_at")
                    .table(FormResults::Table)
                    .col(FormResults::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FormResults::Table).to_owned())
            .await
    }
}
