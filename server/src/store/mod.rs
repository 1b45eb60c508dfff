//! Persistence: the only module that talks SQL.
//!
//! Repositories are plain async functions over any `ConnectionTrait`, so a handler can run
//! several of them (and the mail outbox insert) inside one transaction. The same code serves
//! SQLite and PostgreSQL; where they differ (connection set-up) it is handled here.

pub mod account_erasure;
pub mod allowlists;
pub mod anchors;
pub mod api_keys;
pub mod appeals;
pub mod attestations;
pub mod audit;
pub mod claim_codes;
pub mod claim_minutes;
pub mod collections;
pub mod data_exports;
pub mod email_changes;
pub mod email_tokens;
pub mod entities;
pub mod form_results;
pub mod governance;
pub mod id_consents;
pub mod identities;
pub mod installation;
pub mod issuer_filings;
pub mod issuers;
mod keyset;
pub mod ledger;
pub mod login_failures;
pub mod moderation;
pub mod outbox;
pub mod oversight;
pub mod person_keys;
pub mod personal_data;
pub mod phones;
pub mod policies;
pub mod reports;
mod review_lock;
pub mod second_factors;
pub mod sessions;
pub mod sms;
pub mod tokens;
pub mod transfer_attempts;
pub mod users;
pub mod witness;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    RuntimeErr, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the payload names what was duplicated.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A stored row does not decode into its domain type: a bug or a damaged database, never
    /// silently read as something else.
    #[error("{table} row {id} does not decode: {what}")]
    Corrupt {
        table: &'static str,
        id: String,
        what: &'static str,
    },
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`], anything else to `Db`.
    pub(crate) fn unique(what: &'static str) -> impl FnOnce(DbErr) -> StoreError {
        move |err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what),
            _ => StoreError::Db(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Decodes one column of a stored row: `Err(Corrupt)` naming the table, row and column when
/// `value` is `None`.
pub(crate) fn decoded<T>(
    value: Option<T>,
    table: &'static str,
    id: impl ToString,
    what: &'static str,
) -> StoreResult<T> {
    value.ok_or_else(|| StoreError::Corrupt {
        table,
        id: id.to_string(),
        what,
    })
}

/// The database: a pool of connections, cheap to clone. Code outside `store` names it only by
/// this alias and hands it to the repository functions; it never speaks sea-orm itself.
pub type Database = DatabaseConnection;

/// The database or a transaction: what a function takes that runs its queries in either, so
/// that its caller decides whether they join a larger transaction.
pub trait Connection: ConnectionTrait {}

impl<C: ConnectionTrait> Connection for C {}

/// A transaction that writes, from [`begin`]: repository functions take it where they take the
/// database, and [`commit`] ends it (dropped, it rolls back).
pub type Transaction = DatabaseTransaction;

/// Values per `IN` list in the batch lookups, well below both databases' parameter limits.
pub(crate) const LOOKUP_CHUNK: usize = 1_000;

/// The rows `query` finds for the distinct `values`, asked a chunk at a time so that no `IN`
/// list outgrows the databases' parameter limits. Callers pass one value per row they show.
pub(crate) async fn in_chunks<T: Ord + Copy, R, Found: Future<Output = Result<Vec<R>, DbErr>>>(
    values: &[T],
    mut query: impl FnMut(&[T]) -> Found,
) -> StoreResult<Vec<R>> {
    let mut distinct = values.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut rows = Vec::new();
    for chunk in distinct.chunks(LOOKUP_CHUNK) {
        rows.extend(query(chunk).await?);
    }
    Ok(rows)
}

/// Rows per multi-row `INSERT`. No table has more than a dozen columns, so a statement stays
/// well below SQLite's 32 766 and PostgreSQL's 65 535 parameters.
pub(crate) const INSERT_CHUNK: usize = 1_000;

/// Inserts `rows` in order, one multi-row statement per [`INSERT_CHUNK`].
pub(crate) async fn insert_in_chunks<Row: ActiveModelTrait>(
    conn: &impl ConnectionTrait,
    rows: Vec<Row>,
) -> StoreResult<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        Row::Entity::insert_many(rows.by_ref().take(INSERT_CHUNK))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// How long a SQLite connection waits for another one's lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the database. SQLite files (and their directory) are created on first use, switched
/// to WAL once, and every SQLite connection gets foreign keys and a busy timeout.
///
/// Pooled connections are never retired for age or idleness. With either limit set, sqlx 0.9
/// runs a periodic reaper that can spin forever at 100% CPU and wedge a runtime worker after a
/// race on its idle count (sqlx issue #3645, unfixed in any release so far); it hung a test
/// process here once. Both databases cope with connections that stay open.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(None)
        .max_lifetime(None);
    if url.starts_with("sqlite:") {
        if let Some(path) = sqlite_path(url)
            && let Some(dir) = std::path::Path::new(path).parent()
        {
            std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        switch_to_wal(url).await?;
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
            });
    } else {
        options.max_connections(16).min_connections(1);
    }
    sea_orm::Database::connect(options).await
}

/// Puts a SQLite database (created if missing) in WAL mode, on one connection of its own
/// before the pool opens. The mode stays with the file. Switching takes an exclusive lock that
/// no busy timeout waits for, so pooled connections opening together on a new file, each
/// switching, could fail with "database is locked"; one did once at a test server's start.
async fn switch_to_wal(url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let failed = |e: sea_orm::sqlx::Error| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)));
    let options = SqliteConnectOptions::from_str(url)
        .map_err(failed)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    options.connect().await.map_err(failed)?.close().await.map_err(failed)
}

/// Starts a transaction that writes. On SQLite it takes the write lock at `BEGIN` (`BEGIN
/// IMMEDIATE`, waiting out the busy timeout): a deferred transaction that reads first and
/// writes later fails at once with "database is locked" when another connection committed in
/// between, because SQLite cannot upgrade its stale read snapshot. PostgreSQL ignores the mode.
pub async fn begin(db: &Database) -> StoreResult<Transaction> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?)
}

/// Commits a transaction from [`begin`].
pub async fn commit(txn: Transaction) -> StoreResult<()> {
    Ok(txn.commit().await?)
}

/// Rolls a transaction from [`begin`] back, for a caller that wants it said rather than dropped.
pub async fn rollback(txn: Transaction) -> StoreResult<()> {
    Ok(txn.rollback().await?)
}

/// A migrated SQLite database in a fresh temporary directory, for unit tests; the directory
/// (which the database lives in) must outlive the connection.
#[cfg(test)]
pub(crate) async fn scratch_database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("keepsake.db").display());
    let db = connect(&url).await.expect("SQLite opens");
    migrate(&db).await.expect("migrations apply");
    (dir, db)
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://./data/k.db?mode=rwc"), Some("./data/k.db"));
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }

    /// Pooled connections no longer switch the journal mode themselves: the switch made before
    /// the pool opens must hold for every one of them, opened at once on a new file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_connection_to_a_new_sqlite_file_finds_it_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..50 {
            let url = format!("sqlite://{}?mode=rwc", dir.path().join(format!("{n}.db")).display());
            let db = connect(&url).await.expect("the pool opens");
            let queries = (0..8).map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Sqlite,
                        "PRAGMA journal_mode",
                    ))
                    .await
                })
            });
            for query in queries.collect::<Vec<_>>() {
                let row = query.await.unwrap().expect("every connection opens").unwrap();
                assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "wal");
            }
        }
    }
}
