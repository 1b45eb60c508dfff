//! Email addresses are stored in one normal form (NFKC, lower case), as `Email::parse` in the
//! server makes them: earlier rows were only lower-cased, so a full-width `ｃ` and a `c` could
//! be two accounts. This brings every stored address to the normal form. An account whose
//! normal form another account already holds keeps its address as it is (merging accounts is
//! an operator's decision, not a migration's); a duplicate allowlist row is dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use unicode_normalization::UnicodeNormalization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
}

#[derive(DeriveIden)]
enum IssuerInvitations {
    Table,
    Id,
    Email,
}

#[derive(DeriveIden)]
enum ClaimAllowlist {
    Table,
    Id,
    CollectionId,
    Email,
}

/// The normal form, as of this migration (a copy: a migration must not change with the server).
fn normalise(raw: &str) -> String {
    let nfkc: String = raw.trim().nfkc().collect();
    nfkc.to_lowercase().nfkc().collect::<String>().trim().to_owned()
}

/// (id, email, scope) of every row `select` gives: id, email and, optionally, the column
/// uniqueness is scoped by (0 without one).
async fn rows(conn: &impl ConnectionTrait, select: SelectStatement) -> Result<Vec<(i64, String, i64)>, DbErr> {
    let mut out = Vec::new();
    for row in conn.query_all(&select).await? {
        let scope = row.try_get_by_index::<i64>(2).unwrap_or(0);
        out.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?, scope));
    }
    Ok(out)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();

        // Accounts: unique addresses; one already in normal form wins a collision.
        let users = rows(
            conn,
            Query::select()
                .columns([Users::Id, Users::Email])
                .from(Users::Table)
                .to_owned(),
        )
        .await?;
        let mut taken: std::collections::HashSet<String> = users.iter().map(|(_, e, _)| e.clone()).collect();
        for (id, email, _) in &users {
            let normal = normalise(email);
            if normal == *email || taken.contains(&normal) {
                continue;
            }
            taken.remove(email);
            taken.insert(normal.clone());
            let update = Query::update()
                .table(Users::Table)
                .value(Users::Email, normal)
                .and_where(Expr::col(Users::Id).eq(*id))
                .to_owned();
            conn.execute(&update).await?;
        }

        // Invitations: not unique, so every address takes its normal form.
        let invitations = rows(
            conn,
            Query::select()
                .columns([IssuerInvitations::Id, IssuerInvitations::Email])
                .from(IssuerInvitations::Table)
                .to_owned(),
        )
        .await?;
        for (id, email, _) in invitations {
            let normal = normalise(&email);
            if normal != email {
                let update = Query::update()
                    .table(IssuerInvitations::Table)
                    .value(IssuerInvitations::Email, normal)
                    .and_where(Expr::col(IssuerInvitations::Id).eq(id))
                    .to_owned();
                conn.execute(&update).await?;
            }
        }

        // Allowlists: unique per collection; a row that becomes a duplicate is dropped.
        let listed = rows(
            conn,
            Query::select()
                .columns([ClaimAllowlist::Id, ClaimAllowlist::Email, ClaimAllowlist::CollectionId])
                .from(ClaimAllowlist::Table)
                .to_owned(),
        )
        .await?;
        let mut seen: std::collections::HashSet<(i64, String)> =
            listed.iter().map(|(_, e, c)| (*c, e.clone())).collect();
        for (id, email, collection) in &listed {
            let normal = normalise(email);
            if normal == *email {
                continue;
            }
            if seen.contains(&(*collection, normal.clone())) {
                let delete = Query::delete()
                    .from_table(ClaimAllowlist::Table)
                    .and_where(Expr::col(ClaimAllowlist::Id).eq(*id))
                    .to_owned();
                conn.execute(&delete).await?;
            } else {
                let update = Query::update()
                    .table(ClaimAllowlist::Table)
                    .value(ClaimAllowlist::Email, normal.clone())
                    .and_where(Expr::col(ClaimAllowlist::Id).eq(*id))
                    .to_owned();
                conn.execute(&update).await?;
                seen.insert((*collection, normal));
            }
            seen.remove(&(*collection, email.clone()));
        }
        Ok(())
    }

    /// The earlier spellings are not kept, and the normal form is a valid address too.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn full_width_and_case_fold_to_one_form() {
        assert_eq!(normalise(" ＣＡＴ＠ｅｘａｍｐｌｅ．ｃｏｍ "), "cat@example.com");
        assert_eq!(normalise("cat@example.com"), "cat@example.com");
    }
}
