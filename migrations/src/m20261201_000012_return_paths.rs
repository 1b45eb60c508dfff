//! Where a person was going when an account or identity step interrupted them (a claim-code
//! link, say): kept with the email-verification link and with the identity submission, so that
//! the mail that ends the step leads back there.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    NextPath,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    ReturnPath,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailTokens::Table)
                    .add_column(string_len_null(EmailTokens::NextPath, 512))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .add_column(string_len_null(Identities::ReturnPath, 512))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .drop_column(Identities::ReturnPath)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailTokens::Table)
                    .drop_column(EmailTokens::NextPath)
                    .to_owned(),
            )
            .await
    }
}
