//! This plugin's key-value store: what must survive between calls (every call runs in a fresh
//! instance). Keys are 1 to 512 bytes and values at most 1 MiB; what one plugin keeps is
//! bounded by its [`Quota`] (by default 100,000 keys and 64 MiB, set per plugin by the
//! operator). A write over any of these is refused with [`StorageError::TooLarge`], whose
//! message names the limit; nothing is stored then.
//!
//! The rules below ([`check_key`], [`check_value`], [`Quota::admit`]) are the ones the host
//! applies, and the ones `testing::TestHost` applies natively.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{PluginError, StorageError, host_call};

/// The longest key, in bytes. Keys must not be empty.
pub const MAX_KEY_BYTES: usize = 512;
/// The largest value, in bytes (1 MiB).
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// How much one plugin may keep in its store: live keys, and bytes of those keys and their
/// values. The operator sets it per plugin in `ava.toml` (`limits.kv_max_keys`,
/// `limits.kv_max_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub max_keys: u64,
    pub max_bytes: u64,
}

impl Quota {
    /// The host's default: 100,000 keys, 64 MiB.
    pub const DEFAULT: Quota = Quota {
        max_keys: 100_000,
        max_bytes: 64 << 20,
    };
}

impl Default for Quota {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What one plugin keeps: its keys, and the bytes of those keys and their values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub keys: u64,
    pub bytes: u64,
}

/// The bytes an entry counts for against the quota: its key's and its value's.
pub fn entry_bytes(key: &str, value_len: usize) -> u64 {
    (key.len() + value_len) as u64
}

/// Refuses an empty key or one over [`MAX_KEY_BYTES`], saying why.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err(format!(
            "the key is empty: keys are 1 to {MAX_KEY_BYTES} bytes"
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "key of {} bytes, over the {MAX_KEY_BYTES}-byte limit",
            key.len()
        ));
    }
    Ok(())
}

/// Refuses a value over [`MAX_VALUE_BYTES`], saying why.
pub fn check_value(value: &[u8]) -> Result<(), String> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "value of {} bytes, over the {MAX_VALUE_BYTES}-byte (1 MiB) limit",
            value.len()
        ));
    }
    Ok(())
}

/// Which part of the quota a write would exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaLimit {
    Keys,
    Bytes,
}

impl QuotaLimit {
    /// The `limits` key in `ava.toml` that sets it.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Keys => "kv_max_keys",
            Self::Bytes => "kv_max_bytes",
        }
    }
}

/// A write refused because it would take the plugin's store past its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub limit: QuotaLimit,
    /// The quota: keys or bytes.
    pub quota: u64,
    /// What the plugin keeps now, in the same unit.
    pub usage: u64,
    /// What it would keep after the write.
    pub after: u64,
}

impl QuotaExceeded {
    /// Names the quota, the usage and the `limits` key to raise.
    pub fn message(&self) -> String {
        let setting = self.limit.setting();
        match self.limit {
            QuotaLimit::Keys => format!(
                "key-value quota exceeded: the plugin keeps {} keys, and its quota is {} \
                 (limits.{setting}); delete keys, give them a TTL, or raise limits.{setting} \
                 in ava.toml",
                self.usage, self.quota
            ),
            QuotaLimit::Bytes => format!(
                "key-value quota exceeded: the plugin keeps {} bytes, this write would make it \
                 {}, and its quota is {} bytes (limits.{setting}); delete or shrink values, \
                 or raise limits.{setting} in ava.toml",
                self.usage, self.after, self.quota
            ),
        }
    }
}

impl Quota {
    /// The usage after writing an entry of `new_bytes` (see [`entry_bytes`]) over one of
    /// `old_bytes`, or `None` for a new key. A write that grows the keys or the bytes past the
    /// quota is refused; one that grows neither is always admitted, so a plugin at (or, after
    /// the operator lowered its quota, over) its quota can still replace a value with a
    /// smaller one.
    pub fn admit(
        &self,
        usage: Usage,
        old_bytes: Option<u64>,
        new_bytes: u64,
    ) -> Result<Usage, QuotaExceeded> {
        let keys = usage.keys + u64::from(old_bytes.is_none());
        let bytes = (usage.bytes - old_bytes.unwrap_or(0).min(usage.bytes)) + new_bytes;
        if keys > usage.keys && keys > self.max_keys {
            return Err(QuotaExceeded {
                limit: QuotaLimit::Keys,
                quota: self.max_keys,
                usage: usage.keys,
                after: keys,
            });
        }
        if bytes > usage.bytes && bytes > self.max_bytes {
            return Err(QuotaExceeded {
                limit: QuotaLimit::Bytes,
                quota: self.max_bytes,
                usage: usage.bytes,
                after: bytes,
            });
        }
        Ok(Usage { keys, bytes })
    }
}

/// The bytes stored under `key`, if any and not expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, StorageError> {
    host_call::kv_get(key)
}

/// Stores `value` under `key`; it expires after `ttl_ms` when given.
pub fn set(key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<(), StorageError> {
    host_call::kv_set(key, value, ttl_ms)
}

/// Stores `value` only when `key` holds no live value; true when stored (an atomic claim).
pub fn add(key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<bool, StorageError> {
    host_call::kv_add(key, value, ttl_ms)
}

/// Removes `key`; true when there was a live value.
pub fn delete(key: &str) -> Result<bool, StorageError> {
    host_call::kv_delete(key)
}

/// The JSON value stored under `key`. A stored value that does not parse is an internal error.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    match get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|err| {
            PluginError::internal(format!("stored value `{key}` is corrupt: {err}"))
        }),
    }
}

/// Stores `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl_ms: Option<u64>,
) -> Result<(), PluginError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|err| PluginError::internal(format!("cannot encode `{key}`: {err}")))?;
    Ok(set(key, &bytes, ttl_ms)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: Quota = Quota {
        max_keys: 2,
        max_bytes: 100,
    };

    fn usage(keys: u64, bytes: u64) -> Usage {
        Usage { keys, bytes }
    }

    #[test]
    fn a_new_key_counts_one_key_and_its_bytes() {
        assert_eq!(QUOTA.admit(usage(0, 0), None, 10), Ok(usage(1, 10)));
    }

    #[test]
    fn replacing_counts_only_the_difference() {
        assert_eq!(QUOTA.admit(usage(2, 100), Some(40), 30), Ok(usage(2, 90)));
        assert_eq!(QUOTA.admit(usage(2, 90), Some(30), 40), Ok(usage(2, 100)));
    }

    #[test]
    fn a_new_key_past_the_key_quota_is_refused() {
        let err = QUOTA.admit(usage(2, 10), None, 1).unwrap_err();
        assert_eq!(
            (err.limit, err.quota, err.usage, err.after),
            (QuotaLimit::Keys, 2, 2, 3)
        );
        assert!(err.message().contains("keeps 2 keys"), "{}", err.message());
        assert!(
            err.message().contains("limits.kv_max_keys"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn growing_past_the_byte_quota_is_refused() {
        let err = QUOTA.admit(usage(1, 90), Some(10), 21).unwrap_err();
        assert_eq!(
            (err.limit, err.quota, err.usage, err.after),
            (QuotaLimit::Bytes, 100, 90, 101)
        );
        assert!(
            err.message().contains("limits.kv_max_bytes"),
            "{}",
            err.message()
        );
        assert_eq!(
            QUOTA.admit(usage(1, 90), Some(10), 20),
            Ok(usage(1, 100)),
            "exactly at quota"
        );
    }

    #[test]
    fn shrinking_is_admitted_even_over_quota() {
        // The operator lowered the quota below what the plugin keeps.
        assert_eq!(QUOTA.admit(usage(5, 500), Some(100), 1), Ok(usage(5, 401)));
    }

    #[test]
    fn keys_are_one_to_512_bytes_and_values_at_most_1_mib() {
        assert!(check_key("").unwrap_err().contains("the key is empty"));
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(
            check_key(&"k".repeat(MAX_KEY_BYTES + 1))
                .unwrap_err()
                .contains("513 bytes")
        );
        assert!(check_value(&vec![0; MAX_VALUE_BYTES]).is_ok());
        assert!(check_value(&vec![0; MAX_VALUE_BYTES + 1]).is_err());
    }
}
