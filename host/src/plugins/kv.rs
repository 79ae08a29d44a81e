//! Backends of the plugins' key-value store. The capability (`imports/kv.rs`) checks sizes and
//! scopes every key to its plugin; a backend only stores bytes.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

/// Largest key a plugin may use, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value a plugin may store, in bytes.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// A backend failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KvError(pub String);

/// Where plugin values live. `scope` is the plugin's name; `now_ms` is the current time, so
/// expiry is checked against the host clock.
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
    ) -> Result<(), KvError>;
    /// Stores `value` only when `key` has no live value; true when stored.
    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
    ) -> Result<bool, KvError>;
    /// Removes `key`; true when it had a live value.
    async fn delete(&self, scope: &str, key: &str, now_ms: u64) -> Result<bool, KvError>;
}

type Entry = (Vec<u8>, Option<u64>);

/// An in-process store, for tests and single-process tools. Entries per plugin are capped so
/// a plugin cannot grow the host's memory without bound.
#[derive(Debug)]
pub struct MemoryKv {
    entries: Mutex<HashMap<(String, String), Entry>>,
    max_entries_per_scope: usize,
}

impl Default for MemoryKv {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl MemoryKv {
    /// A store holding at most `max_entries_per_scope` live entries per plugin.
    pub fn new(max_entries_per_scope: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries_per_scope,
        }
    }

    fn insert(
        &self,
        map: &mut HashMap<(String, String), Entry>,
        scope: &str,
        key: &str,
        entry: Entry,
        now_ms: u64,
    ) -> Result<(), KvError> {
        let id = (scope.to_string(), key.to_string());
        if !map.contains_key(&id) {
            let live_in_scope = |map: &HashMap<(String, String), Entry>| {
                map.iter()
                    .filter(|((s, _), (_, exp))| s == scope && is_live(*exp, now_ms))
                    .count()
            };
            if live_in_scope(map) >= self.max_entries_per_scope {
                map.retain(|_, (_, exp)| is_live(*exp, now_ms));
                if live_in_scope(map) >= self.max_entries_per_scope {
                    return Err(KvError(format!(
                        "plugin `{scope}` already stores {} values",
                        self.max_entries_per_scope
                    )));
                }
            }
        }
        map.insert(id, entry);
        Ok(())
    }
}

fn is_live(expires_at_ms: Option<u64>, now_ms: u64) -> bool {
    expires_at_ms.is_none_or(|exp| exp > now_ms)
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, scope: &str, key: &str, now_ms: u64) -> Result<Option<Vec<u8>>, KvError> {
        let map = self.entries.lock().expect("kv lock");
        Ok(map
            .get(&(scope.to_string(), key.to_string()))
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
    ) -> Result<(), KvError> {
        let mut map = self.entries.lock().expect("kv lock");
        self.insert(
            &mut map,
            scope,
            key,
            (value.to_vec(), expires_at_ms),
            now_ms,
        )
    }

    async fn add(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        expires_at_ms: Option<u64>,
        now_ms: u64,
    ) -> Result<bool, KvError> {
        let mut map = self.entries.lock().expect("kv lock");
        let id = (scope.to_string(), key.to_string());
        if map.get(&id).is_some_and(|(_, exp)| is_live(*exp, now_ms)) {
            return Ok(false);
        }
        self.insert(
            &mut map,
            scope,
            key,
            (value.to_vec(), expires_at_ms),
            now_ms,
        )?;
        Ok(true)
    }

    async fn delete(&self, scope: &str, key: &str, now_ms: u64) -> Result<bool, KvError> {
        let mut map = self.entries.lock().expect("kv lock");
        Ok(map
            .remove(&(scope.to_string(), key.to_string()))
            .is_some_and(|(_, exp)| is_live(exp, now_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scopes_do_not_see_each_other() {
        let kv = MemoryKv::default();
        kv.set("a", "k", b"1", None, 0).await.unwrap();
        assert_eq!(kv.get("a", "k", 0).await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(kv.get("b", "k", 0).await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_values_are_gone_and_can_be_claimed_again() {
        let kv = MemoryKv::default();
        assert!(kv.add("a", "k", b"1", Some(100), 0).await.unwrap());
        assert!(!kv.add("a", "k", b"2", Some(100), 50).await.unwrap());
        assert_eq!(kv.get("a", "k", 100).await.unwrap(), None);
        assert!(kv.add("a", "k", b"3", None, 100).await.unwrap());
        assert!(kv.delete("a", "k", 100).await.unwrap());
        assert!(!kv.delete("a", "k", 100).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_scope_refuses_new_keys_but_accepts_updates() {
        let kv = MemoryKv::new(2);
        kv.set("a", "1", b"", None, 0).await.unwrap();
        kv.set("a", "2", b"", Some(10), 0).await.unwrap();
        assert!(kv.set("a", "3", b"", None, 5).await.is_err());
        kv.set("a", "1", b"x", None, 5).await.unwrap();
        // Once "2" expires, its place is free.
        kv.set("a", "3", b"", None, 10).await.unwrap();
        kv.set("b", "1", b"", None, 10).await.unwrap();
    }
}
