//! `host.kv-*`: the calling plugin's own key-value store. Keys are scoped to the plugin's
//! name, so a plugin can never read or overwrite another's values; writes are bounded by the
//! plugin's quota (`limits.kv_max_keys`, `limits.kv_max_bytes`).
//!
//! Every refusal is `too-large` with a message saying which limit and what to do: the key,
//! the value or the quota is the plugin's to change, and retrying would not help (the SDK
//! treats `unavailable` as worth retrying, so only a failing backend answers that).

use super::clock::now_ms;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::kv::KvError;
use crate::plugins::types::StorageError;

fn check_key(key: &str) -> Result<(), StorageError> {
    ava_sdk::kv::check_key(key).map_err(StorageError::TooLarge)
}

fn check_value(value: &[u8]) -> Result<(), StorageError> {
    ava_sdk::kv::check_value(value).map_err(StorageError::TooLarge)
}

fn refused(err: KvError) -> StorageError {
    match err {
        KvError::Quota(exceeded) => StorageError::TooLarge(exceeded.message()),
        KvError::Backend(message) => StorageError::Unavailable(message),
    }
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
            .map_err(refused)
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
        let quota = ctx.grants.limits.kv_quota;
        ctx.services
            .kv
            .set(
                &ctx.grants.name,
                key,
                value,
                expiry(now, ttl_ms),
                now,
                quota,
            )
            .await
            .map_err(refused)
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
        let quota = ctx.grants.limits.kv_quota;
        ctx.services
            .kv
            .add(
                &ctx.grants.name,
                key,
                value,
                expiry(now, ttl_ms),
                now,
                quota,
            )
            .await
            .map_err(refused)
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
            .map_err(refused)
    }
    .await;
    record(ctx, "delete", key, &result, |deleted| {
        if *deleted { "deleted" } else { "not found" }.into()
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LimitsConfig;
    use crate::plugins::kv::QuotaExceeded;
    use crate::plugins::{KvQuota, Limits};
    use ava_sdk::kv::QuotaLimit;

    #[test]
    fn an_empty_key_is_refused_saying_so() {
        let refused = check_key("").unwrap_err();
        assert!(
            matches!(&refused, StorageError::TooLarge(m) if m == "the key is empty: keys are 1 to 512 bytes"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_quota_refusal_is_too_large_not_unavailable() {
        let exceeded = QuotaExceeded {
            limit: QuotaLimit::Bytes,
            quota: 1024,
            usage: 1000,
            after: 1100,
        };
        let StorageError::TooLarge(message) = refused(KvError::Quota(exceeded)) else {
            panic!("a full store is not worth retrying");
        };
        assert!(message.contains("keeps 1000 bytes"), "{message}");
        assert!(message.contains("quota is 1024 bytes"), "{message}");
        assert!(message.contains("limits.kv_max_bytes"), "{message}");
        assert!(matches!(
            refused(KvError::Backend("disk I/O error".into())),
            StorageError::Unavailable(m) if m == "disk I/O error"
        ));
    }

    #[test]
    fn the_quota_comes_from_the_plugins_limits() {
        let config: LimitsConfig = toml::from_str("kv_max_keys = 10\nkv_max_bytes = 4096").unwrap();
        assert_eq!(
            Limits::from(&config).kv_quota,
            KvQuota {
                max_keys: 10,
                max_bytes: 4096
            }
        );
        assert_eq!(
            Limits::from(&LimitsConfig::default()).kv_quota,
            KvQuota::DEFAULT
        );
    }
}
