//! Real-name identities (encrypted, with a blind index for one-person-one-account) and the
//! append-only audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    UserId,
    Status,
    /// AEAD ciphertexts (`v<key version>:<base64>`), bound to the user id.
    LegalNameEnc,
    IdNumberEnc,
    /// `1101**********002X`: the only form pages show.
    IdMasked,
    /// HMAC of the canonical ID number; NULL while rejected, so that a rejected claim to a
    /// number does not lock its real owner out. UNIQUE enforces one person, one account.
    BlindIndex,
    ProvinceKnown,
    Verifier,
    ProviderReference,
    RejectReason,
    SubmittedAt,
    DecidedAt,
    DecidedBy,
    ClaimedBy,
    ClaimedUntil,
    Version,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    Action,
    SubjectType,
    SubjectId,
    BeforeState,
    AfterState,
    Reason,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .col(big_integer(Identities::UserId).primary_key())
                    .col(string_len(Identities::Status, 16))
                    .col(text(Identities::LegalNameEnc))
                    .col(text(Identities::IdNumberEnc))
                    .col(string_len(Identities::IdMasked, 18))
                    .col(string_len_null(Identities::BlindIndex, 64).unique_key())
                    .col(boolean(Identities::ProvinceKnown))
                    .col(string_len(Identities::Verifier, 16))
                    .col(string_len_null(Identities::ProviderReference, 128))
                    .col(text_null(Identities::RejectReason))
                    .col(timestamp_with_time_zone(Identities::SubmittedAt))
                    .col(timestamp_with_time_zone_null(Identities::DecidedAt))
                    .col(big_integer_null(Identities::DecidedBy))
                    .col(big_integer_null(Identities::ClaimedBy))
                    .col(timestamp_with_time_zone_null(Identities::ClaimedUntil))
                    .col(integer(Identities::Version).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Identities::Table, Identities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_identities_queue")
                    .table(Identities::Table)
                    .col(Identities::Status)
                    .col(Identities::SubmittedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorUserId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::SubjectType, 32))
                    .col(string_len(AuditLog::SubjectId, 64))
                    .col(string_len_null(AuditLog::BeforeState, 32))
                    .col(string_len_null(AuditLog::AfterState, 32))
                    .col(text_null(AuditLog::Reason))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_subject")
                    .table(AuditLog::Table)
                    .col(AuditLog::SubjectType)
                    .col(AuditLog::SubjectId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Identities::Table).to_owned())
            .await
    }
}
