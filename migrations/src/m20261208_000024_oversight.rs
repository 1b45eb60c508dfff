//! The regulator's records: each reveal of one person's identity (who asked, the legal request
//! it answers, why) and each export bundle (who made it, for which days and issuer). Rows are
//! only added: they are the record that oversight itself was used as the law allows.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityReveals {
    Table,
    Id,
    RegulatorUserId,
    SubjectUserId,
    /// The legal request's reference (a case or document number).
    Reference,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OversightExports {
    Table,
    Id,
    RegulatorUserId,
    /// The first day and the last day (included), Beijing time.
    FromDay,
    ToDay,
    IssuerId,
    CreatedAt,
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
                    .table(IdentityReveals::Table)
                    .col(big_pk_auto(IdentityReveals::Id))
                    .col(big_integer(IdentityReveals::RegulatorUserId))
                    .col(big_integer(IdentityReveals::SubjectUserId))
                    .col(string_len(IdentityReveals::Reference, 100))
                    .col(text(IdentityReveals::Reason))
                    .col(timestamp_with_time_zone(IdentityReveals::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdentityReveals::Table, IdentityReveals::RegulatorUserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("identity_reveals_by_regulator")
                    .table(IdentityReveals::Table)
                    .col(IdentityReveals::RegulatorUserId)
                    .col(IdentityReveals::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OversightExports::Table)
                    .col(big_pk_auto(OversightExports::Id))
                    .col(big_integer(OversightExports::RegulatorUserId))
                    .col(date(OversightExports::FromDay))
                    .col(date(OversightExports::ToDay))
                    .col(big_integer_null(OversightExports::IssuerId))
                    .col(timestamp_with_time_zone(OversightExports::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OversightExports::Table, OversightExports::RegulatorUserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("oversight_exports_by_regulator")
                    .table(OversightExports::Table)
                    .col(OversightExports::RegulatorUserId)
                    .col(OversightExports::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OversightExports::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(IdentityReveals::Table).to_owned())
            .await
    }
}
