//! A witness's own state (`keepsake witness`), in a SQLite file of its own: for each log it
//! follows, the latest checkpoint it cosigned. A cosignature is handed out only after its
//! checkpoint is recorded here and synced, so a witness that crashes never forgets a
//! checkpoint it cosigned and never cosigns a second history after a restart.

use std::path::Path;
use std::sync::Arc;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::sqlx::{self, Row, SqlitePool};
use sea_orm::{DbErr, RuntimeErr};

use super::{StoreError, StoreResult};
use crate::ledger::add_checkpoint::Cosigned;

fn failed(err: sqlx::Error) -> StoreError {
    StoreError::Db(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(err))))
}

/// The witness's state file.
#[derive(Debug, Clone)]
pub struct WitnessState {
    pool: SqlitePool,
}

impl WitnessState {
    /// Opens the state at `path`, creating it on first start.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        // One connection: requests are decided one at a time anyway.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(failed)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS cosigned (origin TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL, \
             root BLOB NOT NULL, checkpoint TEXT NOT NULL, cosigned_at TEXT NOT NULL)",
        )
        .execute(&pool)
        .await
        .map_err(failed)?;
        Ok(Self { pool })
    }

    /// The latest checkpoint cosigned for the log `origin`.
    pub async fn latest(&self, origin: &str) -> StoreResult<Option<Cosigned>> {
        let row = sqlx::query("SELECT size, root FROM cosigned WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        row.map(|row| {
            let size: i64 = row.try_get("size").map_err(failed)?;
            let root: Vec<u8> = row.try_get("root").map_err(failed)?;
            let corrupt = |what| StoreError::Corrupt {
                table: "cosigned",
                id: origin.to_owned(),
                what,
            };
            Ok(Cosigned {
                size: u64::try_from(size).map_err(|_| corrupt("a negative size"))?,
                root: root.try_into().map_err(|_| corrupt("a root that is not 32 bytes"))?,
            })
        })
        .transpose()
    }

    /// Records `new` (signed as `checkpoint`) as the latest for `origin` if the latest is still
    /// `known`; returns whether it did.
    pub async fn advance(
        &self,
        origin: &str,
        known: Option<Cosigned>,
        new: Cosigned,
        checkpoint: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<bool> {
        let size = i64::try_from(new.size).unwrap_or(i64::MAX);
        let at = now.to_rfc3339();
        let done = match known {
            None => sqlx::query(
                "INSERT INTO cosigned (origin, size, root, checkpoint, cosigned_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (origin) DO NOTHING",
            )
            .bind(origin)
            .bind(size)
            .bind(new.root.as_slice())
            .bind(checkpoint)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(failed)?,
            Some(known) => sqlx::query(
                "UPDATE cosigned SET size = ?, root = ?, checkpoint = ?, cosigned_at = ? \
                 WHERE origin = ? AND size = ? AND root = ?",
            )
            .bind(size)
            .bind(new.root.as_slice())
            .bind(checkpoint)
            .bind(at)
            .bind(origin)
            .bind(i64::try_from(known.size).unwrap_or(i64::MAX))
            .bind(known.root.as_slice())
            .execute(&self.pool)
            .await
            .map_err(failed)?,
        };
        Ok(done.rows_affected() == 1)
    }
}
