//! Separate consent to processing the ID number (sensitive personal information, PIPL Art. 29):
//! one row each time it is given, with the privacy policy version it was given under, and the
//! time it was withdrawn. Identities verified before this table existed have no row, so their
//! holders give it before their next claim.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdNumberConsents {
    Table,
    Id,
    UserId,
    PolicyVersion,
    GivenAt,
    WithdrawnAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdNumberConsents::Table)
                    .col(big_pk_auto(IdNumberConsents::Id))
                    .col(big_integer(IdNumberConsents::UserId))
                    .col(integer(IdNumberConsents::PolicyVersion))
                    .col(timestamp_with_time_zone(IdNumberConsents::GivenAt))
                    .col(timestamp_with_time_zone_null(IdNumberConsents::WithdrawnAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("id_number_consents_by_user")
                    .table(IdNumberConsents::Table)
                    .col(IdNumberConsents::UserId)
                    .col(IdNumberConsents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdNumberConsents::Table).to_owned())
            .await
    }
}
