//! Every list and aggregate query a page or export makes is backed by an index. The store's
//! own functions run against a freshly migrated database through a connection that records
//! each statement; each recorded statement is then explained by the database itself (SQLite's
//! `EXPLAIN QUERY PLAN`, PostgreSQL's `EXPLAIN` with sequential scans and sorts priced out), and
//! the test fails on a full scan or a whole-result sort of a table that grows to millions of
//! rows, which would turn a page into seconds.

use std::sync::Mutex;

use chrono::{Duration, Utc};
use keepsake::domain::audit::AuditFilter;
use keepsake::domain::claim_stats::ChartWindow;
use keepsake::domain::ids::{CollectionId, IssuerId, TokenId, UserId};
use keepsake::domain::page::TimeKey;
use keepsake::domain::review_queue::{ClaimShown, QueueView};
use keepsake::store;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement, TransactionTrait,
};

use crate::support::Db;

/// A connection that runs everything on the real database and keeps each statement.
struct Recording<'a> {
    inner: &'a DatabaseConnection,
    statements: Mutex<Vec<Statement>>,
}

impl Recording<'_> {
    fn keep(&self, stmt: &Statement) {
        self.statements.lock().unwrap().push(stmt.clone());
    }

    fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut self.statements.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Recording<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.keep(&stmt);
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.keep(&stmt);
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.keep(&stmt);
        self.inner.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}

/// The plan of `stmt`, one line per step.
async fn plan(conn: &DatabaseConnection, stmt: &Statement) -> Vec<String> {
    let backend = conn.get_database_backend();
    let values = stmt.values.clone().map(|v| v.0).unwrap_or_default();
    match backend {
        DbBackend::Sqlite => {
            let explain = Statement::from_sql_and_values(backend, format!("EXPLAIN QUERY PLAN {}", stmt.sql), values);
            let rows = conn.query_all_raw(explain).await.expect("SQLite explains");
            rows.iter()
                .map(|row| row.try_get::<String>("", "detail").expect("a plan step"))
                .collect()
        }
        DbBackend::Postgres => {
            // Priced out, a sequential scan or a sort appears only where no index can serve.
            let txn = conn.begin().await.expect("a transaction");
            txn.execute_unprepared("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
                .await
                .expect("planner settings");
            let explain = Statement::from_sql_and_values(backend, format!("EXPLAIN {}", stmt.sql), values);
            let rows = txn.query_all_raw(explain).await.expect("PostgreSQL explains");
            let lines = rows
                .iter()
                .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("a plan line"))
                .collect();
            txn.rollback().await.expect("rolled back");
            lines
        }
        other => panic!("no planner reader for {other:?}"),
    }
}

/// Tables that grow with collectors, claims and decisions: millions of rows at the market's
/// volume. Issuers and collections number in the thousands, where a scan costs nothing.
const LARGE_TABLES: &[&str] = &[
    "tokens",
    "audit_log",
    "users",
    "user_roles",
    "identities",
    "claim_codes",
    "claim_allowlist",
    "claim_minutes",
    "ledger_entries",
    "attestations",
];

/// The large table a statement reads, if it reads one.
fn large_table(sql: &str) -> Option<&'static str> {
    LARGE_TABLES
        .iter()
        .copied()
        .find(|table| sql.contains(&format!("FROM \"{table}\"")))
}

/// Why the plan of `sql` would not hold at a million rows, if it would not. SQLite calls a
/// walk of the table in primary-key order `SCAN` too: with no condition and a limit (a list's
/// first page) it stops after the page, so that one is no full scan.
fn full_scan<'a>(sql: &str, plan: &'a [String]) -> Option<&'a String> {
    let first_page = !sql.contains(" WHERE ") && sql.contains(" ORDER BY ") && sql.contains(" LIMIT ");
    plan.iter().find(|step| {
        let sqlite_scan = step.starts_with("SCAN ") && !step.contains(" USING ") && !first_page;
        let sqlite_sort = step.contains("TEMP B-TREE FOR ORDER BY");
        let postgres_scan = step.contains("Seq Scan on ");
        let postgres_sort = step
            .trim_start()
            .trim_start_matches("->")
            .trim_start()
            .starts_with("Sort  (");
        sqlite_scan || sqlite_sort || postgres_scan || postgres_sort
    })
}

on_both_databases!(list_and_aggregate_queries_use_indexes);

async fn list_and_aggregate_queries_use_indexes(db: Db) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("keepsake.db").display()),
        Db::Postgres(url) => url,
    };
    let conn = store::connect(&url).await.expect("the database opens");
    store::migrate(&conn).await.expect("the migrations apply");
    let recording = Recording {
        inner: &conn,
        statements: Mutex::new(Vec::new()),
    };
    let rec = &recording;
    let now = Utc::now();
    let collection = CollectionId(1);
    let key = TimeKey { at: now, id: 10 };
    let month = AuditFilter {
        from: Some(now - Duration::days(30)),
        until: Some(now),
        ..AuditFilter::default()
    };
    let by_action = AuditFilter {
        action: Some("token_frozen".to_owned()),
        ..AuditFilter::default()
    };
    let by_subject = AuditFilter {
        subject_type: Some("collection".to_owned()),
        subject_id: Some("1".to_owned()),
        ..AuditFilter::default()
    };
    let window = ChartWindow::new(now - Duration::days(1), now, 48).expect("a window");

    let mut checked: Vec<(&str, Vec<Statement>)> = Vec::new();
    store::tokens::of_collection(rec, collection, None, Some(101))
        .await
        .unwrap();
    store::tokens::of_collection(rec, collection, Some(500), Some(101))
        .await
        .unwrap();
    checked.push(("a collection's claims, a page", rec.take()));
    store::tokens::of_holder(rec, UserId(1), None, 61).await.unwrap();
    store::tokens::of_holder(rec, UserId(1), Some(TokenId(900)), 61)
        .await
        .unwrap();
    checked.push(("a collector's tokens, a page", rec.take()));
    for filter in [&AuditFilter::default(), &month, &by_action, &by_subject] {
        store::audit::newest_first(rec, filter, None, Some(201)).await.unwrap();
        store::audit::newest_first(rec, filter, Some(key), Some(201))
            .await
            .unwrap();
    }
    checked.push(("the audit log, newest first", rec.take()));
    store::audit::oldest_first(rec, &month, None, 1001).await.unwrap();
    store::audit::oldest_first(rec, &month, Some(key), 1001).await.unwrap();
    checked.push(("the audit export, a month", rec.take()));
    store::claim_minutes::in_buckets(rec, collection, &window)
        .await
        .unwrap();
    checked.push(("claims over time", rec.take()));
    store::claim_codes::counts(rec, collection).await.unwrap();
    checked.push(("codes generated and used", rec.take()));
    for claim in [ClaimShown::Any, ClaimShown::Mine, ClaimShown::Unclaimed] {
        let view = QueueView {
            claim,
            reviewer: UserId(2),
            now,
        };
        store::identities::queue(rec, &view, None, 51).await.unwrap();
        store::identities::queue(rec, &view, Some(key), 51).await.unwrap();
        store::issuers::queue(rec, &view, None, 51).await.unwrap();
        store::issuers::queue(rec, &view, Some(key), 51).await.unwrap();
        store::collections::queue(rec, &view, None, 100).await.unwrap();
        store::collections::queue(rec, &view, Some(IssuerId(1)), 100)
            .await
            .unwrap();
    }
    store::identities::waiting(rec).await.unwrap();
    store::issuers::waiting(rec).await.unwrap();
    store::collections::waiting(rec).await.unwrap();
    store::issuers::decided(rec, None, 51).await.unwrap();
    store::issuers::decided(rec, Some(IssuerId(40)), 51).await.unwrap();
    checked.push(("the review queues", rec.take()));
    store::users::list_with_roles(rec, None, 51).await.unwrap();
    store::users::list_with_roles(rec, Some(UserId(400)), 51).await.unwrap();
    checked.push(("the accounts, a page", rec.take()));

    let mut findings = Vec::new();
    for (what, statements) in &checked {
        assert!(
            statements.iter().any(|stmt| large_table(&stmt.sql).is_some()),
            "{what}: no statement on a large table recorded"
        );
        for stmt in statements.iter().filter(|stmt| large_table(&stmt.sql).is_some()) {
            let plan = plan(&conn, stmt).await;
            if let Some(step) = full_scan(&stmt.sql, &plan) {
                findings.push(format!(
                    "{what}: `{step}` in\n    {}\n    {}",
                    stmt.sql,
                    plan.join("\n    ")
                ));
            }
        }
    }
    assert!(
        findings.is_empty(),
        "queries that would not hold at scale:\n{}",
        findings.join("\n")
    );
}

/// The checker itself: it recognises the plans it must refuse.
#[test]
fn full_scans_and_sorts_are_recognised() {
    let refused = [
        "SCAN tokens",
        "USE TEMP B-TREE FOR ORDER BY",
        "Seq Scan on audit_log  (cost=0.00..1.00 rows=1 width=8)",
        "  ->  Sort  (cost=1.0..1.1 rows=1 width=8)",
    ];
    let filtered = "SELECT * FROM \"tokens\" WHERE \"status\" = ? ORDER BY \"id\" DESC LIMIT ?";
    for step in refused {
        assert!(full_scan(filtered, &[step.to_owned()]).is_some(), "{step}");
    }
    let first_page = "SELECT * FROM \"users\" ORDER BY \"id\" DESC LIMIT ?";
    assert!(full_scan(first_page, &["SCAN users".to_owned()]).is_none());
    assert_eq!(large_table(filtered), Some("tokens"));
    assert_eq!(large_table("SELECT * FROM \"issuers\""), None);
    let accepted = [
        "SEARCH tokens USING INDEX idx_tokens_serial (collection_id=? AND serial>?)",
        "SCAN audit_log USING INDEX idx_audit_log_at_id",
        "Index Scan Backward using idx_audit_log_at_id on audit_log  (cost=0.15..8.17 rows=1 width=8)",
        "USE TEMP B-TREE FOR GROUP BY",
        "        Sort Key: at",
    ];
    for step in accepted {
        assert!(full_scan(filtered, &[step.to_owned()]).is_none(), "{step}");
    }
}
