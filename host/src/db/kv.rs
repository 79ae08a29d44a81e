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
    max_entries: i64,
}

impl SqlKv {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            max_entries: MAX_ENTRIES_PER_PLUGIN,
        }
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

    /// Writes `value` unless `only_if_absent` and a live value exists.
    async fn put(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        only_if_absent: bool,
    ) -> Result<Put, DbError> {
        let now = now_ms as i64;
        let mut tx = self.db.write().await?;
        let existing: Option<Option<i64>> =
            sqlx::query_scalar("SELECT expires_at FROM plugin_kv WHERE plugin = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
        match existing {
            Some(expiry) if only_if_absent && expiry.is_none_or(|e| e > now) => {
                return Ok(Put::Present);
            }
            Some(_) => {}
            // Only a new key counts against the quota.
            None => {
                let live: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM plugin_kv
                     WHERE plugin = $1 AND (expires_at IS NULL OR expires_at > $2)",
                )
                .bind(scope)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                if live >= self.max_entries {
                    return Ok(Put::Full);
                }
            }
        }
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, key, value, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (plugin, key) DO UPDATE
             SET value = excluded.value, expires_at = excluded.expires_at",
        )
        .bind(scope)
        .bind(key)
        .bind(value.to_vec())
        .bind(expires_at_ms.map(|e| e as i64))
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(Put::Stored)
    }

    fn stored(&self, result: Result<Put, DbError>, scope: &str) -> Result<bool, KvError> {
        match result.map_err(kv_error)? {
            Put::Stored => Ok(true),
            Put::Present => Ok(false),
            Put::Full => Err(KvError(format!(
                "plugin `{scope}` already stores {} values",
                self.max_entries
            ))),
        }
    }
}

/// What [`SqlKv::put`] did.
enum Put {
    Stored,
    /// `only_if_absent`, and a live value was there.
    Present,
    /// The key is new and the plugin already keeps its quota of live values.
    Full,
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
        let put = self.put(scope, key, value, expires_at_ms, now_ms, false);
        self.stored(put.await, scope).map(|_| ())
    }

    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
    ) -> Result<bool, KvError> {
        let put = self.put(scope, key, value, expires_at_ms, now_ms, true);
        self.stored(put.await, scope)
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn kv(dir: &tempfile::TempDir) -> SqlKv {
        let db = Db::connect_embedded(dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        SqlKv::new(db)
    }

    #[tokio::test]
    async fn values_are_scoped_expire_and_add_only_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let kv = kv(&dir).await;
        kv.set("a", "k", b"one", None, 0).await.unwrap();
        assert_eq!(
            kv.get("a", "k", 0).await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            kv.get("b", "k", 0).await.unwrap(),
            None,
            "scopes are separate"
        );

        assert!(!kv.add("a", "k", b"two", None, 0).await.unwrap());
        kv.set("a", "k", b"three", Some(100), 0).await.unwrap();
        assert_eq!(
            kv.get("a", "k", 99).await.unwrap().as_deref(),
            Some(&b"three"[..])
        );
        assert_eq!(kv.get("a", "k", 100).await.unwrap(), None, "expired");
        assert!(
            kv.add("a", "k", b"four", None, 100).await.unwrap(),
            "an expired value is absent"
        );
        assert_eq!(
            kv.get("a", "k", 200).await.unwrap().as_deref(),
            Some(&b"four"[..])
        );

        assert!(kv.delete("a", "k", 200).await.unwrap());
        assert!(!kv.delete("a", "k", 200).await.unwrap());
        kv.set("a", "gone", b"x", Some(10), 0).await.unwrap();
        assert!(
            !kv.delete("a", "gone", 10).await.unwrap(),
            "an expired value was not live"
        );
    }

    #[tokio::test]
    async fn a_full_scope_refuses_new_keys_but_updates_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut kv = kv(&dir).await;
        kv.max_entries = 2;
        kv.set("a", "1", b"x", None, 0).await.unwrap();
        kv.set("a", "2", b"x", Some(50), 0).await.unwrap();
        let err = kv.set("a", "3", b"x", None, 0).await.unwrap_err();
        assert!(err.0.contains("already stores 2 values"), "{}", err.0);
        kv.set("a", "1", b"y", None, 0).await.unwrap();
        kv.set("b", "1", b"x", None, 0).await.unwrap();
        // Once one expires there is room again.
        kv.set("a", "3", b"x", None, 50).await.unwrap();
        assert_eq!(kv.purge_expired(60).await.unwrap(), 1);
    }
}
