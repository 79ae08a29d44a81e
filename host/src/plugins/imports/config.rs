//! `host.config`, `host.has-secret` and `host.hmac-sha256`: a plugin reads only its own
//! non-secret values, and uses its own secrets only by name.

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::types::SecretError;

/// The non-secret value `key` of the calling plugin.
pub fn value(ctx: &CallCtx, key: &str) -> Option<String> {
    let value = ctx.grants.config(key).map(str::to_string);
    ctx.record(|| HostCall::Config {
        key: key.to_string(),
        found: value.is_some(),
    });
    value
}

/// Whether the calling plugin's secret `name` is configured.
pub fn has_secret(ctx: &CallCtx, name: &str) -> bool {
    let granted = ctx.grants.secret(name).is_some();
    ctx.record(|| HostCall::HasSecret {
        name: name.to_string(),
        granted,
    });
    granted
}

/// HMAC-SHA256 of `message` keyed with the calling plugin's secret `name`.
pub fn hmac_sha256(ctx: &CallCtx, name: &str, message: &[u8]) -> Result<Vec<u8>, SecretError> {
    ctx.record(|| HostCall::Hmac {
        secret: name.to_string(),
        granted: ctx.grants.secret(name).is_some(),
    });
    let secret = ctx
        .grants
        .secret(name)
        .ok_or_else(|| SecretError::NotGranted(name.to_string()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(message);
    Ok(mac.finalize().into_bytes().to_vec())
}
