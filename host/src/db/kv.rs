//! `plugin_kv`: the plugins' key-value store in the database, so what a plugin keeps
//! survives restarts and is shared by the server and the workers.

use async_trait::async_trait;

use super::{Db, DbError};
use crate::plugins::{KvError, KvStore};

/// Live entries one plugin may keep.
const MAX_ENTRIES_PER_PLUGIN: i64 = 100_000;

/// [`KvStore`] over the database.
pub struct SqlKv {
    db: Db,
}

impl SqlKv {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Deletes expired entries; returns how many.
    pub async fn purge_expired(&self, now_ms: u64) -> Result<u64, DbError> {
        let mut tx = self.db.write().await?;
        let done =
            sqlx::query("DELETE FROM plugin_kv WHERE expires_at IS NOT NULL AND expires_at <= $1")
                .bind(now_ms as i64)
                .execute(&mut **tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Writes `value` unless `only_if_absent` and a live value exists; true when written.
    async fn put(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        only_if_absent: bool,
    ) -> Result<bool, DbError> {
        let now = now_ms as i64;
        let expires = expires_at_ms.map(|e| e as i64);
        let mut tx = self.db.write().await?;
        let existing: Option<Option<i64>> =
            sqlx::query_scalar("SELECT expires_at FROM plugin_kv WHERE plugin = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
        match existing {
            Some(expiry) => {
                let live = expiry.is_none_or(|e| e > now);
                if only_if_absent && live {
                    return Ok(false);
                }
                sqlx::query("UPDATE plugin_kv SET value = $3, expires_at = $4 WHERE plugin = $1 AND key = $2")
                    .bind(scope)
                    .bind(key)
                    .bind(value.to_vec())
                    .bind(expires)
                    .execute(&mut **tx)
                    .await?;
            }
            None => {
                let live: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM plugin_kv
                     WHERE plugin = $1 AND (expires_at IS NULL OR expires_at > $2)",
                )
                .bind(scope)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                if live >= MAX_ENTRIES_PER_PLUGIN {
                    return Err(DbError::Corrupt(format!(
                        "plugin `{scope}` already stores {MAX_ENTRIES_PER_PLUGIN} values"
                    )));
                }
                sqlx::query("INSERT INTO plugin_kv (plugin, key, value, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(scope)
                    .bind(key)
                    .bind(value.to_vec())
                    .bind(expires)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}

fn kv_error(err: DbError) -> KvError {
    KvError(err.to_string())
}

#[async_trait]
impl KvStore for SqlKv {
    async fn get(&self, scope: &str, key: &str, now_ms: u64) -> Result<Option<Vec<u8>>, KvError> {
        sqlx::query_scalar(
            "SELECT value FROM plugin_kv
             WHERE plugin = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(scope)
        .bind(key)
        .bind(now_ms as i64)
        .fetch_optional(self.db.pool())
        .await
        .map_err(|e| kv_error(e.into()))
    }

    async fn set(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
    ) -> Result<(), KvError> {
        self.put(scope, key, value, expires_at_ms, now_ms, false)
            .await
            .map(|_| ())
            .map_err(kv_error)
    }

    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
    ) -> Result<bool, KvError> {
        self.put(scope, key, value, expires_at_ms, now_ms, true)
            .await
            .map_err(kv_error)
    }

    async fn delete(&self, scope: &str, key: &str, now_ms: u64) -> Result<bool, KvError> {
        let deleted = async {
            let mut tx = self.db.write().await?;
            let expiry: Option<Option<i64>> = sqlx::query_scalar(
                "DELETE FROM plugin_kv WHERE plugin = $1 AND key = $2 RETURNING expires_at",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
            tx.commit().await?;
            Ok::<_, DbError>(expiry)
        }
        .await
        .map_err(kv_error)?;
        Ok(deleted.is_some_and(|e| e.is_none_or(|e| e > now_ms as i64)))
    }
}
