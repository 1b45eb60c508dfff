//! Correcting a verified identity: the correction is a new check, and the verified identity
//! it would replace is kept beside it (`previous_*`) until the check is decided, so that a
//! refused correction leaves the person verified as before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    PreviousNameEnc,
    PreviousIdNumberEnc,
    PreviousMasked,
    PreviousBlindIndex,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [
            text_null(Identities::PreviousNameEnc),
            text_null(Identities::PreviousIdNumberEnc),
            string_len_null(Identities::PreviousMasked, 18),
            string_len_null(Identities::PreviousBlindIndex, 64),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Identities::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Identities::PreviousBlindIndex,
            Identities::PreviousMasked,
            Identities::PreviousIdNumberEnc,
            Identities::PreviousNameEnc,
        ] {
            manager
                .alter_table(Table::alter().table(Identities::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
