//! Backends of the plugins' key-value store. The capability (`imports/kv.rs`) checks sizes and
//! scopes every key to its plugin; a backend stores bytes and enforces the plugin's quota
//! ([`KvQuota`]) in the same step as the write, so concurrent calls cannot overshoot it.
//!
//! The rules (sizes, what counts against the quota, what is refused) are the SDK's
//! (`ava_sdk::kv`), so the SDK's native test harness answers as the host does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use async_trait::async_trait;

pub use ava_sdk::kv::{
    MAX_KEY_BYTES, MAX_VALUE_BYTES, Quota as KvQuota, QuotaExceeded, Usage as KvUsage, entry_bytes,
};

/// Why a backend did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The write would take the plugin past its quota; nothing was stored.
    #[error("{}", .0.message())]
    Quota(QuotaExceeded),
    /// The backend failed; retrying may work.
    #[error("{0}")]
    Backend(String),
}

/// What a plugin keeps, and how often this process refused it a write for its quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvFigures {
    /// Keys and bytes, in the store (every process sees the same). Expired values count until
    /// they are swept: at the latest before a write would be refused, and hourly.
    pub usage: KvUsage,
    /// Writes refused for the quota by this process since it started.
    pub refusals: u64,
}

/// Where plugin values live. `scope` is the plugin's name; `now_ms` is the current time, so
/// expiry is checked against the host clock. Writes are checked against `quota`.
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// The live value of `key`.
    async fn get(&self, scope: &str, key: &str, now_ms: u64) -> Result<Option<Vec<u8>>, KvError>;
    /// Stores `value`, expiring at `expires_at_ms` when given.
    async fn set(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        quota: KvQuota,
    ) -> Result<(), KvError>;
    /// Stores `value` only when `key` has no live value; true when stored.
    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        quota: KvQuota,
    ) -> Result<bool, KvError>;
    /// Removes `key`; true when it had a live value.
    async fn delete(&self, scope: &str, key: &str, now_ms: u64) -> Result<bool, KvError>;
    /// What `scope` keeps, and its refusals.
    async fn figures(&self, scope: &str) -> Result<KvFigures, KvError>;
}

/// Quota refusals by plugin, counted by a backend when it refuses (and in
/// `ava_plugin_kv_refusals_total{plugin, limit}`).
#[derive(Debug, Default)]
pub struct Refusals(RwLock<HashMap<String, AtomicU64>>);

impl Refusals {
    /// Counts one refusal of `scope`'s write; returns the error to answer.
    pub fn refuse(&self, scope: &str, exceeded: QuotaExceeded) -> KvError {
        metrics::counter!(
            "ava_plugin_kv_refusals_total",
            "plugin" => scope.to_string(),
            "limit" => exceeded.limit.setting()
        )
        .increment(1);
        let counted = self
            .0
            .read()
            .expect("refusals lock")
            .get(scope)
            .map(|n| n.fetch_add(1, Ordering::Relaxed))
            .is_some();
        if !counted {
            let mut all = self.0.write().expect("refusals lock");
            all.entry(scope.to_string())
                .or_default()
                .fetch_add(1, Ordering::Relaxed);
        }
        KvError::Quota(exceeded)
    }

    /// The refusals of `scope` so far.
    pub fn of(&self, scope: &str) -> u64 {
        self.0
            .read()
            .expect("refusals lock")
            .get(scope)
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }
}

/// One `set` or `add`, as a backend carries it out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Write<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub value: &'a [u8],
    pub expires_at_ms: Option<u64>,
    pub now_ms: u64,
    pub quota: KvQuota,
    /// `add`: store only when the key has no live value.
    pub only_if_absent: bool,
}

type Entry = (Vec<u8>, Option<u64>);

/// One plugin's entries, with their usage kept up to date.
#[derive(Debug, Default)]
struct Scope {
    entries: HashMap<String, Entry>,
    usage: KvUsage,
}

impl Scope {
    /// Drops the expired entries.
    fn sweep(&mut self, now_ms: u64) {
        let usage = &mut self.usage;
        self.entries.retain(|key, (value, exp)| {
            let live = is_live(*exp, now_ms);
            if !live {
                usage.keys -= 1;
                usage.bytes -= entry_bytes(key, value.len());
            }
            live
        });
    }

    /// The usage after storing `value` under `key`, swept of expired entries if that
    /// avoids a refusal.
    fn admit(
        &mut self,
        key: &str,
        value: &[u8],
        now_ms: u64,
        quota: KvQuota,
    ) -> Result<KvUsage, QuotaExceeded> {
        let old = |s: &Self| s.entries.get(key).map(|(v, _)| entry_bytes(key, v.len()));
        let new = entry_bytes(key, value.len());
        quota.admit(self.usage, old(self), new).or_else(|_| {
            self.sweep(now_ms);
            quota.admit(self.usage, old(self), new)
        })
    }
}

/// An in-process store, for tests and single-process tools (`ava plugin call`).
#[derive(Debug, Default)]
pub struct MemoryKv {
    scopes: Mutex<HashMap<String, Scope>>,
    refusals: Refusals,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    fn put(&self, w: Write<'_>) -> Result<bool, KvError> {
        let mut scopes = self.scopes.lock().expect("kv lock");
        let entries = scopes.entry(w.scope.to_string()).or_default();
        let present = entries
            .entries
            .get(w.key)
            .is_some_and(|(_, exp)| is_live(*exp, w.now_ms));
        if w.only_if_absent && present {
            return Ok(false);
        }
        let usage = entries
            .admit(w.key, w.value, w.now_ms, w.quota)
            .map_err(|exceeded| self.refusals.refuse(w.scope, exceeded))?;
        entries
            .entries
            .insert(w.key.to_string(), (w.value.to_vec(), w.expires_at_ms));
        entries.usage = usage;
        Ok(true)
    }
}

fn is_live(expires_at_ms: Option<u64>, now_ms: u64) -> bool {
    expires_at_ms.is_none_or(|exp| exp > now_ms)
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, scope: &str, key: &str, now_ms: u64) -> Result<Option<Vec<u8>>, KvError> {
        let scopes = self.scopes.lock().expect("kv lock");
        Ok(scopes
            .get(scope)
            .and_then(|s| s.entries.get(key))
            .filter(|(_, exp)| is_live(*exp, now_ms))
            .map(|(v, _)| v.clone()))
    }

    async fn set(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        quota: KvQuota,
    ) -> Result<(), KvError> {
        self.put(Write {
            scope,
            key,
            value,
            expires_at_ms,
            now_ms,
            quota,
            only_if_absent: false,
        })
        .map(|_| ())
    }

    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
        quota: KvQuota,
    ) -> Result<bool, KvError> {
        self.put(Write {
            scope,
            key,
            value,
            expires_at_ms,
            now_ms,
            quota,
            only_if_absent: true,
        })
    }

    async fn delete(&self, scope: &str, key: &str, now_ms: u64) -> Result<bool, KvError> {
        let mut scopes = self.scopes.lock().expect("kv lock");
        let Some(entries) = scopes.get_mut(scope) else {
            return Ok(false);
        };
        let Some((value, exp)) = entries.entries.remove(key) else {
            return Ok(false);
        };
        entries.usage.keys -= 1;
        entries.usage.bytes -= entry_bytes(key, value.len());
        Ok(is_live(exp, now_ms))
    }

    async fn figures(&self, scope: &str) -> Result<KvFigures, KvError> {
        let scopes = self.scopes.lock().expect("kv lock");
        Ok(KvFigures {
            usage: scopes.get(scope).map(|s| s.usage).unwrap_or_default(),
            refusals: self.refusals.of(scope),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ava_sdk::kv::QuotaLimit;

    const ROOMY: KvQuota = KvQuota::DEFAULT;

    fn quota(max_keys: u64, max_bytes: u64) -> KvQuota {
        KvQuota {
            max_keys,
            max_bytes,
        }
    }

    async fn usage(kv: &MemoryKv, scope: &str) -> (u64, u64) {
        let f = kv.figures(scope).await.unwrap();
        (f.usage.keys, f.usage.bytes)
    }

    #[tokio::test]
    async fn scopes_do_not_see_each_other() {
        let kv = MemoryKv::new();
        kv.set("a", "k", b"1", None, 0, ROOMY).await.unwrap();
        assert_eq!(kv.get("a", "k", 0).await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(kv.get("b", "k", 0).await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_values_are_gone_and_can_be_claimed_again() {
        let kv = MemoryKv::new();
        assert!(kv.add("a", "k", b"1", Some(100), 0, ROOMY).await.unwrap());
        assert!(!kv.add("a", "k", b"2", Some(100), 50, ROOMY).await.unwrap());
        assert_eq!(kv.get("a", "k", 100).await.unwrap(), None);
        assert!(kv.add("a", "k", b"3", None, 100, ROOMY).await.unwrap());
        assert!(kv.delete("a", "k", 100).await.unwrap());
        assert!(!kv.delete("a", "k", 100).await.unwrap());
    }

    #[tokio::test]
    async fn usage_counts_keys_and_the_bytes_of_keys_and_values() {
        let kv = MemoryKv::new();
        kv.set("a", "k1", b"123", None, 0, ROOMY).await.unwrap();
        kv.set("a", "k2", b"12345", None, 0, ROOMY).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 5 + 7));
        kv.set("a", "k2", b"1", None, 0, ROOMY).await.unwrap();
        assert_eq!(
            usage(&kv, "a").await,
            (2, 5 + 3),
            "a replaced value counts once"
        );
        kv.delete("a", "k1", 0).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (1, 3), "deleting frees");
        assert_eq!(usage(&kv, "b").await, (0, 0));
    }

    #[tokio::test]
    async fn a_full_scope_refuses_new_keys_but_accepts_updates() {
        let kv = MemoryKv::new();
        let two = quota(2, 1000);
        kv.set("a", "1", b"", None, 0, two).await.unwrap();
        kv.set("a", "2", b"", Some(10), 0, two).await.unwrap();
        let err = kv.set("a", "3", b"", None, 5, two).await.unwrap_err();
        assert!(
            matches!(&err, KvError::Quota(e) if e.limit == QuotaLimit::Keys),
            "{err:?}"
        );
        kv.set("a", "1", b"x", None, 5, two).await.unwrap();
        // Once "2" expires, its place is free.
        kv.set("a", "3", b"", None, 10, two).await.unwrap();
        kv.set("b", "1", b"", None, 10, two).await.unwrap();
        assert_eq!(kv.figures("a").await.unwrap().refusals, 1);
        assert_eq!(kv.figures("b").await.unwrap().refusals, 0);
    }

    #[tokio::test]
    async fn bytes_past_the_quota_are_refused_and_smaller_values_accepted() {
        let kv = MemoryKv::new();
        let small = quota(100, 20);
        kv.set("a", "k", &[0; 15], None, 0, small).await.unwrap();
        let err = kv.set("a", "j", &[0; 4], None, 0, small).await.unwrap_err();
        assert!(
            matches!(&err, KvError::Quota(e) if e.limit == QuotaLimit::Bytes && e.after == 21),
            "{err:?}"
        );
        assert!(err.to_string().contains("limits.kv_max_bytes"), "{err}");
        kv.set("a", "k", &[0; 19], None, 0, small).await.unwrap();
        kv.set("a", "k", &[0; 1], None, 0, small).await.unwrap();
        kv.set("a", "j", &[0; 4], None, 0, small).await.unwrap();
        assert_eq!(usage(&kv, "a").await, (2, 2 + 5));
    }

    #[tokio::test]
    async fn add_on_a_live_key_is_not_a_refusal() {
        let kv = MemoryKv::new();
        let one = quota(1, 100);
        assert!(kv.add("a", "k", b"1", None, 0, one).await.unwrap());
        assert!(!kv.add("a", "k", b"2", None, 0, one).await.unwrap());
        assert_eq!(kv.figures("a").await.unwrap().refusals, 0);
    }
}
