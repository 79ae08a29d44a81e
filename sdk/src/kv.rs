//! This plugin's key-value store: what must survive between calls (every call runs in a fresh
//! instance). Keys are at most 512 bytes and values at most 1 MiB.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{PluginError, StorageError, host_call};

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
