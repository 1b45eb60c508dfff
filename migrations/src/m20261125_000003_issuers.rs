//! Issuers (KYB): registrations with their filings and documents, members and invitations,
//! and API keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Issuers {
    Table,
    Id,
    LegalName,
    CreditCode,
    IcpFiling,
    BlockchainFiling,
    ContactName,
    ContactEmail,
    ContactPhone,
    /// The organisation code inside the credit code failed its own check: a warning for the
    /// reviewer (some early codes are legitimate yet fail it).
    OrgCodeWarning,
    Status,
    StatusReason,
    CreatedBy,
    CreatedAt,
    SubmittedAt,
    DecidedAt,
    ClaimedBy,
    ClaimedUntil,
    Version,
}

#[derive(DeriveIden)]
enum IssuerDocuments {
    Table,
    Id,
    IssuerId,
    Kind,
    BlobKey,
    ContentType,
    Size,
    UploadedAt,
}

#[derive(DeriveIden)]
enum IssuerMembers {
    Table,
    IssuerId,
    UserId,
    IsAdmin,
    AddedAt,
}

#[derive(DeriveIden)]
enum IssuerInvitations {
    Table,
    Id,
    IssuerId,
    Email,
    TokenHash,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    IssuerId,
    Label,
    Prefix,
    KeyHash,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

fn cascade_to_issuer(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Issuers::Table, Issuers::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Issuers::Table)
                    .col(big_pk_auto(Issuers::Id))
                    .col(string_len(Issuers::LegalName, 200))
                    .col(string_len(Issuers::CreditCode, 18))
                    .col(string_len(Issuers::IcpFiling, 64))
                    .col(string_len(Issuers::BlockchainFiling, 64))
                    .col(string_len(Issuers::ContactName, 100))
                    .col(string_len(Issuers::ContactEmail, 254))
                    .col(string_len(Issuers::ContactPhone, 32))
                    .col(boolean(Issuers::OrgCodeWarning))
                    .col(string_len(Issuers::Status, 16))
                    .col(text_null(Issuers::StatusReason))
                    .col(big_integer(Issuers::CreatedBy))
                    .col(timestamp_with_time_zone(Issuers::CreatedAt))
                    .col(timestamp_with_time_zone_null(Issuers::SubmittedAt))
                    .col(timestamp_with_time_zone_null(Issuers::DecidedAt))
                    .col(big_integer_null(Issuers::ClaimedBy))
                    .col(timestamp_with_time_zone_null(Issuers::ClaimedUntil))
                    .col(integer(Issuers::Version).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Issuers::Table, Issuers::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_issuers_status")
                    .table(Issuers::Table)
                    .col(Issuers::Status)
                    .col(Issuers::SubmittedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IssuerDocuments::Table)
                    .col(big_pk_auto(IssuerDocuments::Id))
                    .col(big_integer(IssuerDocuments::IssuerId))
                    .col(string_len(IssuerDocuments::Kind, 32))
                    .col(string_len(IssuerDocuments::BlobKey, 100))
                    .col(string_len(IssuerDocuments::ContentType, 64))
                    .col(big_integer(IssuerDocuments::Size))
                    .col(timestamp_with_time_zone(IssuerDocuments::UploadedAt))
                    .foreign_key(&mut cascade_to_issuer(
                        IssuerDocuments::Table,
                        IssuerDocuments::IssuerId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IssuerMembers::Table)
                    .col(big_integer(IssuerMembers::IssuerId))
                    .col(big_integer(IssuerMembers::UserId))
                    .col(boolean(IssuerMembers::IsAdmin))
                    .col(timestamp_with_time_zone(IssuerMembers::AddedAt))
                    .primary_key(Index::create().col(IssuerMembers::IssuerId).col(IssuerMembers::UserId))
                    .foreign_key(&mut cascade_to_issuer(IssuerMembers::Table, IssuerMembers::IssuerId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IssuerMembers::Table, IssuerMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_issuer_members_user")
                    .table(IssuerMembers::Table)
                    .col(IssuerMembers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IssuerInvitations::Table)
                    .col(big_pk_auto(IssuerInvitations::Id))
                    .col(big_integer(IssuerInvitations::IssuerId))
                    .col(string_len(IssuerInvitations::Email, 254))
                    .col(string_len_uniq(IssuerInvitations::TokenHash, 64))
                    .col(big_integer(IssuerInvitations::InvitedBy))
                    .col(timestamp_with_time_zone(IssuerInvitations::CreatedAt))
                    .col(timestamp_with_time_zone(IssuerInvitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(IssuerInvitations::AcceptedAt))
                    .foreign_key(&mut cascade_to_issuer(
                        IssuerInvitations::Table,
                        IssuerInvitations::IssuerId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(big_integer(ApiKeys::IssuerId))
                    .col(string_len(ApiKeys::Label, 100))
                    .col(string_len(ApiKeys::Prefix, 16))
                    .col(string_len_uniq(ApiKeys::KeyHash, 64))
                    .col(big_integer(ApiKeys::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(&mut cascade_to_issuer(ApiKeys::Table, ApiKeys::IssuerId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiKeys::Table.into_iden(),
            IssuerInvitations::Table.into_iden(),
            IssuerMembers::Table.into_iden(),
            IssuerDocuments::Table.into_iden(),
            Issuers::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
