//! `plugin_kv`: the plugins' key-value store in the database, so what a plugin keeps
//! survives restarts and is shared by the server and the workers. `plugin_kv_usage` keeps
//! each plugin's keys and bytes in step with it, for the quota.
//!
//! Every write of a plugin's entries first locks its usage row (an upsert on PostgreSQL, the
//! write lock on SQLite), so the writes of one plugin take turns across replicas: a quota
//! check and the write it admits are one step, and the quota is never overshot.

use async_trait::async_trait;

use super::{Db, DbError, WriteTx};
use crate::plugins::kv::{Refusals, Write};
use crate::plugins::{KvError, KvFigures, KvStore, KvUsage, entry_bytes};

/// [`KvStore`] over the database.
pub struct SqlKv {
    db: Db,
    refusals: Refusals,
}

/// An entry's expiry and its value's length, in bytes.
type Existing = (Option<i64>, i64);

impl SqlKv {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            refusals: Refusals::default(),
        }
    }

    /// Deletes expired entries; returns how many.
    pub async fn purge_expired(&self, now_ms: u64) -> Result<u64, DbError> {
        let plugins: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT plugin FROM plugin_kv
             WHERE expires_at IS NOT NULL AND expires_at <= $1",
        )
        .bind(now_ms as i64)
        .fetch_all(self.db.pool())
        .await?;
        let mut purged = 0;
        for plugin in plugins {
            let mut tx = self.db.write().await?;
            let Some(usage) = lock_usage(&mut tx, &plugin).await? else {
                continue;
            };
            let (usage, swept) = sweep(&mut tx, &plugin, usage, now_ms).await?;
            save_usage(&mut tx, &plugin, usage).await?;
            tx.commit().await?;
            purged += swept;
        }
        Ok(purged)
    }

    /// Writes unless `only_if_absent` and a live value exists, or the quota refuses it.
    async fn put(&self, w: Write<'_>) -> Result<Put, DbError> {
        let now = w.now_ms as i64;
        let mut tx = self.db.write().await?;
        // First, so that every writer of this plugin waits here for the one before.
        let usage = claim_usage(&mut tx, w.scope).await?;
        let existing: Option<Existing> = sqlx::query_as(
            "SELECT expires_at, CAST(octet_length(value) AS BIGINT) FROM plugin_kv
             WHERE plugin = $1 AND key = $2",
        )
        .bind(w.scope)
        .bind(w.key)
        .fetch_optional(&mut **tx)
        .await?;
        let live = |e: &Existing| e.0.is_none_or(|exp| exp > now);
        if w.only_if_absent && existing.as_ref().is_some_and(live) {
            return Ok(Put::Present);
        }
        let old_bytes = |e: Option<&Existing>| e.map(|(_, len)| entry_bytes(w.key, *len as usize));
        let new_bytes = entry_bytes(w.key, w.value.len());
        let after = match w
            .quota
            .admit(usage, old_bytes(existing.as_ref()), new_bytes)
        {
            Ok(after) => after,
            Err(_) => {
                // Expired entries must not cost a refusal: sweep them and look again.
                let (usage, swept) = sweep(&mut tx, w.scope, usage, w.now_ms).await?;
                let existing = existing.filter(live);
                match w
                    .quota
                    .admit(usage, old_bytes(existing.as_ref()), new_bytes)
                {
                    Ok(after) => after,
                    Err(exceeded) => {
                        if swept > 0 {
                            save_usage(&mut tx, w.scope, usage).await?;
                            tx.commit().await?;
                        }
                        return Ok(Put::Refused(exceeded));
                    }
                }
            }
        };
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, key, value, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (plugin, key) DO UPDATE
             SET value = excluded.value, expires_at = excluded.expires_at",
        )
        .bind(w.scope)
        .bind(w.key)
        .bind(w.value.to_vec())
        .bind(w.expires_at_ms.map(|e| e as i64))
        .execute(&mut **tx)
        .await?;
        save_usage(&mut tx, w.scope, after).await?;
        tx.commit().await?;
        Ok(Put::Stored)
    }

    fn stored(&self, result: Result<Put, DbError>, scope: &str) -> Result<bool, KvError> {
        match result.map_err(kv_error)? {
            Put::Stored => Ok(true),
            Put::Present => Ok(false),
            Put::Refused(exceeded) => Err(self.refusals.refuse(scope, exceeded)),
        }
    }
}

/// What [`SqlKv::put`] did.
enum Put {
    Stored,
    /// `only_if_absent`, and a live value was there.
    Present,
    /// The quota refused it, expired entries swept.
    Refused(crate::plugins::kv::QuotaExceeded),
}

fn usage_of(keys: i64, bytes: i64) -> KvUsage {
    KvUsage {
        keys: keys.max(0) as u64,
        bytes: bytes.max(0) as u64,
    }
}

/// Locks `plugin`'s usage row, creating it for a first write; returns the usage. On
/// PostgreSQL another transaction writing this plugin waits until this one ends, then sees
/// what it wrote.
async fn claim_usage(tx: &mut WriteTx, plugin: &str) -> Result<KvUsage, DbError> {
    let (keys, bytes): (i64, i64) = sqlx::query_as(
        "INSERT INTO plugin_kv_usage (plugin, keys, bytes) VALUES ($1, 0, 0)
         ON CONFLICT (plugin) DO UPDATE SET keys = plugin_kv_usage.keys
         RETURNING keys, bytes",
    )
    .bind(plugin)
    .fetch_one(&mut ***tx)
    .await?;
    Ok(usage_of(keys, bytes))
}

/// Locks `plugin`'s usage row if it has one (a plugin without one has no entries).
async fn lock_usage(tx: &mut WriteTx, plugin: &str) -> Result<Option<KvUsage>, DbError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE plugin_kv_usage SET keys = keys WHERE plugin = $1 RETURNING keys, bytes",
    )
    .bind(plugin)
    .fetch_optional(&mut ***tx)
    .await?;
    Ok(row.map(|(keys, bytes)| usage_of(keys, bytes)))
}

async fn save_usage(tx: &mut WriteTx, plugin: &str, usage: KvUsage) -> Result<(), DbError> {
    sqlx::query("UPDATE plugin_kv_usage SET keys = $2, bytes = $3 WHERE plugin = $1")
        .bind(plugin)
        .bind(usage.keys as i64)
        .bind(usage.bytes as i64)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Deletes `plugin`'s expired entries (its usage row locked); returns the usage without them
/// and how many there were. The caller saves the usage.
async fn sweep(
    tx: &mut WriteTx,
    plugin: &str,
    usage: KvUsage,
    now_ms: u64,
) -> Result<(KvUsage, u64), DbError> {
    let freed: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM plugin_kv
         WHERE plugin = $1 AND expires_at IS NOT NULL AND expires_at <= $2
         RETURNING CAST(octet_length(key) + octet_length(value) AS BIGINT)",
    )
    .bind(plugin)
    .bind(now_ms as i64)
    .fetch_all(&mut ***tx)
    .await?;
    let keys = freed.len() as u64;
    let bytes = freed.iter().map(|b| b.max(&0).unsigned_abs()).sum::<u64>();
    let usage = KvUsage {
        keys: usage.keys.saturating_sub(keys),
        bytes: usage.bytes.saturating_sub(bytes),
    };
    Ok((usage, keys))
}

/// Every plugin's usage, for the scrape-time gauges.
pub async fn usage_by_plugin(db: &Db) -> Result<Vec<(String, KvUsage)>, DbError> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT plugin, keys, bytes FROM plugin_kv_usage ORDER BY plugin")
            .fetch_all(db.pool())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(plugin, keys, bytes)| (plugin, usage_of(keys, bytes)))
        .collect())
}

fn kv_error(err: DbError) -> KvError {
    KvError::Backend(err.to_string())
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
        quota: crate::plugins::KvQuota,
    ) -> Result<(), KvError> {
        let put = self.put(Write {
            scope,
            key,
            value,
            expires_at_ms,
            now_ms,
            quota,
            only_if_absent: false,
        });
        self.stored(put.await, scope).map(|_| ())
    }

    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        quota: crate::plugins::KvQuota,
    ) -> Result<bool, KvError> {
        let put = self.put(Write {
            scope,
            key,
            value,
            expires_at_ms,
            now_ms,
            quota,
            only_if_absent: true,
        });
        self.stored(put.await, scope)
    }

    async fn delete(&self, scope: &str, key: &str, now_ms: u64) -> Result<bool, KvError> {
        let deleted = async {
            let mut tx = self.db.write().await?;
            let Some(usage) = lock_usage(&mut tx, scope).await? else {
                return Ok(None);
            };
            let gone: Option<Existing> = sqlx::query_as(
                "DELETE FROM plugin_kv WHERE plugin = $1 AND key = $2
                 RETURNING expires_at, CAST(octet_length(value) AS BIGINT)",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some((_, len)) = gone {
                let usage = KvUsage {
                    keys: usage.keys.saturating_sub(1),
                    bytes: usage
                        .bytes
                        .saturating_sub(entry_bytes(key, len.max(0) as usize)),
                };
                save_usage(&mut tx, scope, usage).await?;
                tx.commit().await?;
            }
            Ok::<_, DbError>(gone.map(|(expiry, _)| expiry))
        }
        .await
        .map_err(kv_error)?;
        Ok(deleted.is_some_and(|e| e.is_none_or(|e| e > now_ms as i64)))
    }

    async fn figures(&self, scope: &str) -> Result<KvFigures, KvError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT keys, bytes FROM plugin_kv_usage WHERE plugin = $1")
                .bind(scope)
                .fetch_optional(self.db.pool())
                .await
                .map_err(|e| kv_error(e.into()))?;
        Ok(KvFigures {
            usage: row.map_or_else(KvUsage::default, |(k, b)| usage_of(k, b)),
            refusals: self.refusals.of(scope),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::entry_bytes;
    use crate::plugins::{KvQuota, KvStore};
    use ava_sdk::kv::QuotaLimit;

    const ROOMY: KvQuota = KvQuota::DEFAULT;

    fn quota(max_keys: u64, max_bytes: u64) -> KvQuota {
        KvQuota {
            max_keys,
            max_bytes,
        }
    }

    async fn kv(dir: &tempfile::TempDir) -> SqlKv {
        let db = Db::connect_embedded(dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        SqlKv::new(db)
    }

    /// The usage row, and what the entries really add up to: they must agree.
    async fn usage(kv: &SqlKv, scope: &str) -> (u64, u64) {
        let counted = kv.figures(scope).await.unwrap().usage;
        let (keys, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(octet_length(key) + octet_length(value)), 0)
             AS BIGINT) FROM plugin_kv WHERE plugin = $1",
        )
        .bind(scope)
        .fetch_one(kv.db.pool())
        .await
        .unwrap();
        assert_eq!(
            (counted.keys, counted.bytes),
            (keys as u64, bytes as u64),
            "plugin_kv_usage is out of step with plugin_kv"
        );
        (counted.keys, counted.bytes)
    }

    #[tokio::test]
    async fn values_are_scoped_expire_and_add_only_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let kv = kv(&dir).await;
        kv.set("a", "k", b"one", None, 0, ROOMY).await.unwrap();
        assert_eq!(
            kv.get("a", "k", 0).await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            kv.get("b", "k", 0).await.unwrap(),
            None,
            "scopes are separate"
        );

        assert!(!kv.add("a", "k", b"two", None, 0, ROOMY).await.unwrap());
        kv.set("a", "k", b"three", Some(100), 0, ROOMY)
            .await
            .unwrap();
        assert_eq!(
            kv.get("a", "k", 99).await.unwrap().as_deref(),
            Some(&b"three"[..])
        );
        assert_eq!(kv.get("a", "k", 100).await.unwrap(), None, "expired");
        assert!(
            kv.add("a", "k", b"four", None, 100, ROOMY).await.unwrap(),
            "an expired value is absent"
        );
        assert_eq!(
            kv.get("a", "k", 200).await.unwrap().as_deref(),
            Some(&b"four"[..])
        );

        assert!(kv.delete("a", "k", 200).await.unwrap());
        assert!(!kv.delete("a", "k", 200).await.unwrap());
        kv.set("a", "gone", b"x", Some(10), 0, ROOMY).await.unwrap();
        assert!(
            !kv.delete("a", "gone", 10).await.unwrap(),
            "an expired value was not live"
        );
        assert!(!kv.delete("never-wrote", "k", 0).await.unwrap());
        assert_eq!(usage(&kv, "a").await, (0, 0));
    }

    #[tokio::test]
    async fn usage_follows_every_write_replace_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let kv = kv(&dir).await;
        kv.set("a", "k1", b"123", None, 0, ROOMY).await.unwrap();
        kv.set("a", "k2", b"12345", Some(50), 0, ROOMY)
            .await
            .unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 5 + 7));
        kv.set("a", "k2", b"1", None, 0, ROOMY).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 5 + 3));
        assert!(kv.add("a", "k3", b"", None, 0, ROOMY).await.unwrap());
        assert!(!kv.add("a", "k3", b"xxxx", None, 0, ROOMY).await.unwrap());
        assert_eq!(usage(&kv, "a").await, (3, 5 + 3 + 2));
        kv.delete("a", "k1", 0).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 3 + 2));
        // A key of multi-byte characters counts its bytes, not its characters.
        kv.set("a", "clé", b"", None, 0, ROOMY).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (3, 3 + 2 + 4));
        assert_eq!(usage(&kv, "b").await, (0, 0));
    }

    #[tokio::test]
    async fn a_full_scope_refuses_new_keys_but_updates_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let kv = kv(&dir).await;
        let two = quota(2, 1000);
        kv.set("a", "1", b"x", None, 0, two).await.unwrap();
        kv.set("a", "2", b"x", Some(50), 0, two).await.unwrap();
        let err = kv.set("a", "3", b"x", None, 0, two).await.unwrap_err();
        assert!(
            matches!(&err, KvError::Quota(e) if e.limit == QuotaLimit::Keys && e.usage == 2),
            "{err:?}"
        );
        assert!(err.to_string().contains("limits.kv_max_keys"), "{err}");
        kv.set("a", "1", b"y", None, 0, two).await.unwrap();
        kv.set("b", "1", b"x", None, 0, two).await.unwrap();
        assert_eq!(kv.figures("a").await.unwrap().refusals, 1);
        // Once one expires there is room again: it is swept to make room.
        kv.set("a", "3", b"x", None, 50, two).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 4));
        assert_eq!(kv.purge_expired(60).await.unwrap(), 0, "already swept");
    }

    #[tokio::test]
    async fn bytes_past_the_quota_are_refused_but_smaller_values_and_deletes_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let kv = kv(&dir).await;
        let small = quota(100, 20);
        kv.set("a", "k", &[0; 19], None, 0, small).await.unwrap();
        let err = kv.set("a", "j", b"", None, 0, small).await.unwrap_err();
        assert!(
            matches!(&err, KvError::Quota(e) if e.limit == QuotaLimit::Bytes
                && (e.quota, e.usage, e.after) == (20, 20, 21)),
            "{err:?}"
        );
        assert_eq!(kv.get("a", "j", 0).await.unwrap(), None, "nothing stored");
        kv.set("a", "k", &[1; 5], None, 0, small).await.unwrap();
        kv.set("a", "j", &[1; 13], None, 0, small).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 6 + 14));
        // The operator lowers the quota under the usage: shrinking and deleting still work.
        let lower = quota(100, 10);
        kv.set("a", "j", &[1; 12], None, 0, lower).await.unwrap();
        assert!(kv.set("a", "j", &[1; 13], None, 0, lower).await.is_err());
        assert!(kv.delete("a", "j", 0).await.unwrap());
        assert_eq!(usage(&kv, "a").await, (1, 6));
    }

    #[tokio::test]
    async fn purging_expired_entries_frees_their_usage() {
        let dir = tempfile::tempdir().unwrap();
        let kv = kv(&dir).await;
        kv.set("a", "old", b"123", Some(10), 0, ROOMY)
            .await
            .unwrap();
        kv.set("a", "new", b"123", None, 0, ROOMY).await.unwrap();
        kv.set("b", "old", b"1", Some(10), 0, ROOMY).await.unwrap();
        assert_eq!(kv.purge_expired(10).await.unwrap(), 2);
        assert_eq!(usage(&kv, "a").await, (1, entry_bytes("new", 3)));
        assert_eq!(usage(&kv, "b").await, (0, 0));
    }

    /// A database from before the quota: the migration counts what each plugin kept.
    #[tokio::test]
    async fn the_migration_counts_what_plugins_already_keep() {
        let dir = tempfile::tempdir().unwrap();
        let earlier = dir.path().join("earlier");
        std::fs::create_dir(&earlier).unwrap();
        let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        for file in std::fs::read_dir(&migrations).unwrap().flatten() {
            let name = file.file_name().into_string().unwrap();
            if name.as_str() < "20261207000001" {
                std::fs::copy(file.path(), earlier.join(&name)).unwrap();
            }
        }
        let db = Db::connect_embedded(dir.path()).await.unwrap();
        let before = sqlx::migrate::Migrator::new(earlier.as_path())
            .await
            .unwrap();
        before.run(db.pool()).await.unwrap();
        for (plugin, key, value) in [("a", "k1", &b"123"[..]), ("a", "k2", b""), ("b", "é", b"1")]
        {
            sqlx::query("INSERT INTO plugin_kv (plugin, key, value) VALUES ($1, $2, $3)")
                .bind(plugin)
                .bind(key)
                .bind(value.to_vec())
                .execute(db.pool())
                .await
                .unwrap();
        }
        db.migrate().await.unwrap();
        let kv = SqlKv::new(db);
        assert_eq!(usage(&kv, "a").await, (2, 5 + 2));
        assert_eq!(usage(&kv, "b").await, (1, 3));
    }

    /// Many concurrent writers of one plugin, each adding keys, never take it past its
    /// quota, and the usage row stays equal to the entries.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_never_overshoot_the_quota() {
        let dir = tempfile::tempdir().unwrap();
        let kv = std::sync::Arc::new(kv(&dir).await);
        let quota = quota(25, 25 * 10);
        let writers = (0..8).map(|w| {
            let kv = kv.clone();
            tokio::spawn(async move {
                let mut stored = 0;
                for i in 0..10 {
                    let key = format!("w{w}-{i}");
                    if kv.set("a", &key, &[0; 5], None, 0, quota).await.is_ok() {
                        stored += 1;
                    }
                    // The same key from every writer: replaces, never a second key.
                    let _ = kv.set("a", "shared", &[0; 8], None, 0, quota).await;
                }
                stored
            })
        });
        let mut stored = 0;
        for writer in writers {
            stored += writer.await.unwrap();
        }
        let (keys, _) = usage(&kv, "a").await;
        assert_eq!(keys, 25, "the quota is reached exactly");
        assert_eq!(stored, 24, "24 keys and `shared`");
    }
}
