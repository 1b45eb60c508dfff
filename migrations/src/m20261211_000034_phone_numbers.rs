//! Mobile numbers on accounts and log-in by texted code. The number is sealed under its
//! person's key (so deleting the account shreds it) and found by a keyed blind index, unique
//! so that one number is one account. Each code texted is a row of `sms_messages`: queued in
//! the transaction that asked for it and delivered by a worker like mail (the row is its own
//! outbox entry); the code itself is kept sealed only until it is sent, then only its hash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    PhoneIndex,
    PhoneEnc,
    PhoneVerifiedAt,
}

#[derive(DeriveIden)]
enum SmsMessages {
    Table,
    Id,
    Purpose,
    PhoneIndex,
    PhoneEnc,
    UserId,
    Client,
    CodeHash,
    CodeEnc,
    Guesses,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedAt,
    LastError,
    CreatedAt,
    ExpiresAt,
    SentAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Users::PhoneIndex).string_len(64).null().to_owned(),
            ColumnDef::new(Users::PhoneEnc).text().null().to_owned(),
            ColumnDef::new(Users::PhoneVerifiedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("users_phone_index")
                    .table(Users::Table)
                    .col(Users::PhoneIndex)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SmsMessages::Table)
                    .col(big_pk_auto(SmsMessages::Id))
                    .col(string_len(SmsMessages::Purpose, 16))
                    .col(string_len(SmsMessages::PhoneIndex, 64))
                    .col(text(SmsMessages::PhoneEnc))
                    .col(big_integer_null(SmsMessages::UserId))
                    .col(string_len(SmsMessages::Client, 64))
                    .col(string_len(SmsMessages::CodeHash, 64))
                    .col(text_null(SmsMessages::CodeEnc))
                    .col(integer(SmsMessages::Guesses))
                    .col(string_len(SmsMessages::Status, 16))
                    .col(integer(SmsMessages::Attempts))
                    .col(timestamp_with_time_zone(SmsMessages::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(SmsMessages::ClaimedAt))
                    .col(text_null(SmsMessages::LastError))
                    .col(timestamp_with_time_zone(SmsMessages::CreatedAt))
                    .col(timestamp_with_time_zone(SmsMessages::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SmsMessages::SentAt))
                    .col(timestamp_with_time_zone_null(SmsMessages::UsedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("sms_messages_by_number", SmsMessages::PhoneIndex),
            ("sms_messages_by_client", SmsMessages::Client),
            ("sms_messages_by_status", SmsMessages::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SmsMessages::Table)
                        .col(column)
                        .col(SmsMessages::CreatedAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SmsMessages::Table).to_owned())
            .await?;
        manager
            .drop_index(Index::drop().name("users_phone_index").table(Users::Table).to_owned())
            .await?;
        for column in [Users::PhoneIndex, Users::PhoneEnc, Users::PhoneVerifiedAt] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
