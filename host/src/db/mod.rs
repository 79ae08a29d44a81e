//! The database: one pool over SQLite (the embedded default) or PostgreSQL, chosen by URL,
//! and one module of queries per table. Every query is written once and runs on both:
//! the schema uses TEXT ids, BIGINT millisecond times and INTEGER flags (see `migrations/`).
//!
//! Query functions take any executor. Reads go to the pool; every write goes through
//! [`Db::write`], so that on SQLite writers queue in the process instead of retrying in
//! SQLite's busy handler.

pub mod billing_events;
mod checkpoint;
pub mod group_commit;
pub mod jobs;
pub mod kv;
pub mod memories;
pub mod messages;
pub mod personas;
pub mod photos;
pub mod preferences;
pub mod sessions;
pub mod subscriptions;
#[cfg(test)]
pub(crate) mod testing;
pub mod users;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The migrations, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://... or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot create the data folder {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("a stored value is corrupt: {0}")]
    Corrupt(String),
}

impl DbError {
    /// Whether the failure is a unique-constraint violation (a duplicate).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// The pool, and for SQLite the lock that serializes write transactions.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; queueing writers here, in order, beats having
    /// them sleep and retry in SQLite's busy handler.
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite's background checkpoints, stopped when the last handle is dropped (the task
    /// holds a pool handle, which would otherwise keep the database open).
    _checkpoints: Option<Arc<checkpoint::Checkpoints>>,
}

/// A write transaction. For SQLite it holds the process's write lock until it ends.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    _lock: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits.
    pub async fn commit(self) -> DbResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://...`).
    pub async fn connect(url: &str) -> DbResult<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    // WAL: readers do not block the writer; NORMAL is durable in WAL mode
                    // except for the last transactions on power loss, never corrupt.
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            // `checkpoint` copies the WAL back in the background; a commit
                            // checkpoints only as a backstop, once ~40 MiB of WAL have not
                            // been (it stalls the writer), and restarts the WAL.
                            conn.execute("PRAGMA wal_autocheckpoint = 10000").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.max_connections(32).connect(url).await?,
        };
        let sqlite = backend == Backend::Sqlite;
        Ok(Self {
            _checkpoints: sqlite.then(|| Arc::new(checkpoint::Checkpoints::start(pool.clone()))),
            pool,
            backend,
            write_lock: sqlite.then(|| Arc::new(Mutex::new(()))),
        })
    }

    /// The SQLite database in `data_dir`, created if missing.
    pub async fn connect_embedded(data_dir: &Path) -> DbResult<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| DbError::DataDir(data_dir.display().to_string(), e))?;
        let url = format!("sqlite://{}?mode=rwc", data_dir.join("ava.db").display());
        Self::connect(&url).await
    }

    /// Applies the migrations that have not run yet.
    pub async fn migrate(&self) -> DbResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock first, then the
    /// database's (`BEGIN IMMEDIATE`), so a transaction never fails to upgrade from reading.
    pub async fn write(&self) -> DbResult<WriteTx> {
        let lock = self.statement_lock().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _lock: lock })
    }

    /// Waits for the turn to write outside a transaction: one statement is atomic on its
    /// own, and skipping `BEGIN`/`COMMIT` saves two round trips. Hold the guard (on SQLite,
    /// the process's write lock; nothing on PostgreSQL) while the statement runs.
    pub async fn statement_lock(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `rows` tuples of `cols` parameters for a multi-row statement, numbered from `first` on
/// PostgreSQL: `($1,$2),($3,$4)`. SQLite gets anonymous `?`: it looks a numbered one up by a
/// linear scan, which makes binding thousands of `$n` quadratic.
pub fn tuples(backend: Backend, rows: usize, cols: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * (cols * 5 + 3));
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for col in 0..cols {
            if col > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(first + row * cols + col).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Parameter `n` (1-based) of a statement that also uses [`tuples`]: `$n` on PostgreSQL,
/// an anonymous `?` on SQLite (anonymous parameters are numbered in order of appearance).
pub fn param(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// A flag as stored (INTEGER 0/1 works on both databases; booleans do not).
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_are_numbered_on_postgres_only() {
        assert_eq!(tuples(Backend::Sqlite, 2, 2, 1), "(?,?),(?,?)");
        assert_eq!(tuples(Backend::Postgres, 2, 3, 2), "($2,$3,$4),($5,$6,$7)");
        assert_eq!(tuples(Backend::Postgres, 0, 3, 1), "");
    }
}
