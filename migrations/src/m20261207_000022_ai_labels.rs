//! AI labels: whether a collection's artwork is generated or synthesised by AI, as its issuer
//! declared (`ai_declared`, with the other terms) and as a reviewer flagged it (`ai_flagged`).
//! Either one labels the artwork on every page and in its image files.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Collections {
    Table,
    AiDeclared,
    AiFlagged,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in [Collections::AiDeclared, Collections::AiFlagged] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Collections::Table)
                        .add_column(boolean(column).default(false))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Collections::AiDeclared, Collections::AiFlagged] {
            manager
                .alter_table(Table::alter().table(Collections::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
