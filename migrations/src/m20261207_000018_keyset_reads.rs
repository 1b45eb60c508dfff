//! Reads that stay flat at a million rows. `claim_minutes` counts each collection's claims per
//! clock minute (UTC), kept by the claim that mints, so the issuer's chart reads a few hundred
//! counts instead of every token; existing tokens are counted into it here. Indexes back the
//! keyset pages: a holder's tokens newest first, the audit log newest first (by time, then id)
//! overall, by action and by subject, and the review queues in the order reviewers read them.

use std::collections::BTreeMap;

use sea_orm::prelude::ChronoDateTimeUtc;
use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClaimMinutes {
    Table,
    CollectionId,
    /// Minutes since the Unix epoch (UTC).
    Minute,
    Claims,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    Status,
    RiskScore,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    CollectionId,
    HolderUserId,
    ClaimedAt,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    UserId,
    Status,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum Issuers {
    Table,
    Id,
    Status,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Action,
    SubjectType,
    SubjectId,
}

/// Tokens read per statement while counting existing claims.
const BACKFILL_PAGE: u64 = 10_000;
/// Counts written per statement.
const INSERT_CHUNK: usize = 1_000;

/// Counts every existing token into `claim_minutes`, reading the tokens a page at a time.
async fn count_existing_claims(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut counts: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut after = 0_i64;
    loop {
        let page = Query::select()
            .columns([Tokens::Id, Tokens::CollectionId, Tokens::ClaimedAt])
            .from(Tokens::Table)
            .and_where(Expr::col(Tokens::Id).gt(after))
            .order_by(Tokens::Id, Order::Asc)
            .limit(BACKFILL_PAGE)
            .to_owned();
        let rows = conn.query_all(&page).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get_by_index(0)?;
        for row in &rows {
            let collection: i64 = row.try_get_by_index(1)?;
            let at: ChronoDateTimeUtc = row.try_get_by_index(2)?;
            *counts.entry((collection, at.timestamp().div_euclid(60))).or_default() += 1;
        }
    }
    let counts: Vec<_> = counts.into_iter().collect();
    for chunk in counts.chunks(INSERT_CHUNK) {
        let mut insert = Query::insert()
            .into_table(ClaimMinutes::Table)
            .columns([ClaimMinutes::CollectionId, ClaimMinutes::Minute, ClaimMinutes::Claims])
            .to_owned();
        for ((collection, minute), claims) in chunk {
            insert.values_panic([(*collection).into(), (*minute).into(), (*claims).into()]);
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}

fn index(name: &str, table: impl IntoIden, columns: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClaimMinutes::Table)
                    .col(big_integer(ClaimMinutes::CollectionId))
                    .col(big_integer(ClaimMinutes::Minute))
                    .col(big_integer(ClaimMinutes::Claims))
                    .primary_key(
                        Index::create()
                            .col(ClaimMinutes::CollectionId)
                            .col(ClaimMinutes::Minute),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClaimMinutes::Table, ClaimMinutes::CollectionId)
                            .to(Collections::Table, Collections::Id),
                    )
                    .to_owned(),
            )
            .await?;
        count_existing_claims(manager.get_connection()).await?;
        manager
            .create_index(index(
                "idx_tokens_holder_newest",
                Tokens::Table,
                vec![Tokens::HolderUserId.into_iden(), Tokens::Id.into_iden()],
            ))
            .await?;
        for (name, columns) in [
            (
                "idx_audit_log_at_id",
                vec![AuditLog::At.into_iden(), AuditLog::Id.into_iden()],
            ),
            (
                "idx_audit_log_action_at_id",
                vec![
                    AuditLog::Action.into_iden(),
                    AuditLog::At.into_iden(),
                    AuditLog::Id.into_iden(),
                ],
            ),
            (
                "idx_audit_log_subject_at_id",
                vec![
                    AuditLog::SubjectType.into_iden(),
                    AuditLog::SubjectId.into_iden(),
                    AuditLog::At.into_iden(),
                    AuditLog::Id.into_iden(),
                ],
            ),
        ] {
            manager.create_index(index(name, AuditLog::Table, columns)).await?;
        }
        for superseded in ["idx_audit_log_at", "idx_audit_log_subject"] {
            manager
                .drop_index(Index::drop().name(superseded).table(AuditLog::Table).to_owned())
                .await?;
        }
        manager
            .create_index(index(
                "idx_identities_queue_order",
                Identities::Table,
                vec![
                    Identities::Status.into_iden(),
                    Identities::SubmittedAt.into_iden(),
                    Identities::UserId.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_issuers_queue_order",
                Issuers::Table,
                vec![
                    Issuers::Status.into_iden(),
                    Issuers::SubmittedAt.into_iden(),
                    Issuers::Id.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collections_queue_order")
                    .table(Collections::Table)
                    .col(Collections::Status)
                    .col((Collections::RiskScore, IndexOrder::Desc))
                    .col(Collections::SubmittedAt)
                    .to_owned(),
            )
            .await?;
        for (superseded, table) in [
            ("idx_identities_queue", Identities::Table.into_iden()),
            ("idx_issuers_status", Issuers::Table.into_iden()),
            ("idx_collections_queue", Collections::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(superseded).table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in [
            (
                "idx_identities_queue",
                Identities::Table.into_iden(),
                vec![Identities::Status.into_iden(), Identities::SubmittedAt.into_iden()],
            ),
            (
                "idx_issuers_status",
                Issuers::Table.into_iden(),
                vec![Issuers::Status.into_iden(), Issuers::SubmittedAt.into_iden()],
            ),
            (
                "idx_collections_queue",
                Collections::Table.into_iden(),
                vec![Collections::Status.into_iden(), Collections::RiskScore.into_iden()],
            ),
        ] {
            manager.create_index(index(name, table, columns)).await?;
        }
        for (name, table) in [
            ("idx_identities_queue_order", Identities::Table.into_iden()),
            ("idx_issuers_queue_order", Issuers::Table.into_iden()),
            ("idx_collections_queue_order", Collections::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .create_index(index(
                "idx_audit_log_at",
                AuditLog::Table,
                vec![AuditLog::At.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_audit_log_subject",
                AuditLog::Table,
                vec![AuditLog::SubjectType.into_iden(), AuditLog::SubjectId.into_iden()],
            ))
            .await?;
        for name in [
            "idx_audit_log_at_id",
            "idx_audit_log_action_at_id",
            "idx_audit_log_subject_at_id",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(AuditLog::Table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tokens_holder_newest")
                    .table(Tokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ClaimMinutes::Table).to_owned())
            .await
    }
}
