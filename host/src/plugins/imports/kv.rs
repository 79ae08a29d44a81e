//! `host.kv-*`: the calling plugin's own key-value store. Keys are scoped to the plugin's
//! name, so a plugin can never read or overwrite another's values.

use super::clock::now_ms;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::kv::{KvError, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use crate::plugins::types::StorageError;

fn check_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() {
        return Err(StorageError::TooLarge("keys must not be empty".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(StorageError::TooLarge(format!(
            "key of {} bytes, over the {MAX_KEY_BYTES}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), StorageError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StorageError::TooLarge(format!(
            "value of {} bytes, over the {MAX_VALUE_BYTES}-byte limit",
            value.len()
        )));
    }
    Ok(())
}

fn unavailable(err: KvError) -> StorageError {
    StorageError::Unavailable(err.0)
}

fn expiry(now: u64, ttl_ms: Option<u64>) -> Option<u64> {
    ttl_ms.map(|ttl| now.saturating_add(ttl))
}

/// Records a key-value operation and what came of it.
fn record<T>(
    ctx: &CallCtx,
    op: &'static str,
    key: &str,
    result: &Result<T, StorageError>,
    describe: impl FnOnce(&T) -> String,
) {
    ctx.record(|| HostCall::Kv {
        op,
        key: key.to_string(),
        outcome: match result {
            Ok(value) => describe(value),
            Err(StorageError::TooLarge(m)) => format!("error: too large: {m}"),
            Err(StorageError::Unavailable(m)) => format!("error: unavailable: {m}"),
        },
    });
}

pub async fn get(ctx: &mut CallCtx, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
    let result = async {
        check_key(key)?;
        ctx.services
            .kv
            .get(&ctx.grants.name, key, now_ms())
            .await
            .map_err(unavailable)
    }
    .await;
    record(ctx, "get", key, &result, |v| match v {
        Some(bytes) => format!("{} bytes", bytes.len()),
        None => "not found".into(),
    });
    result
}

pub async fn set(
    ctx: &mut CallCtx,
    key: &str,
    value: &[u8],
    ttl_ms: Option<u64>,
) -> Result<(), StorageError> {
    let result = async {
        check_key(key)?;
        check_value(value)?;
        let now = now_ms();
        ctx.services
            .kv
            .set(&ctx.grants.name, key, value, expiry(now, ttl_ms), now)
            .await
            .map_err(unavailable)
    }
    .await;
    record(ctx, "set", key, &result, |()| {
        format!("{} bytes stored", value.len())
    });
    result
}

pub async fn add(
    ctx: &mut CallCtx,
    key: &str,
    value: &[u8],
    ttl_ms: Option<u64>,
) -> Result<bool, StorageError> {
    let result = async {
        check_key(key)?;
        check_value(value)?;
        let now = now_ms();
        ctx.services
            .kv
            .add(&ctx.grants.name, key, value, expiry(now, ttl_ms), now)
            .await
            .map_err(unavailable)
    }
    .await;
    record(ctx, "add", key, &result, |added| {
        if *added {
            format!("{} bytes stored", value.len())
        } else {
            "already present, unchanged".into()
        }
    });
    result
}

pub async fn delete(ctx: &mut CallCtx, key: &str) -> Result<bool, StorageError> {
    let result = async {
        check_key(key)?;
        ctx.services
            .kv
            .delete(&ctx.grants.name, key, now_ms())
            .await
            .map_err(unavailable)
    }
    .await;
    record(ctx, "delete", key, &result, |deleted| {
        if *deleted { "deleted" } else { "not found" }.into()
    });
    result
}
