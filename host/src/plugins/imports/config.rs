//! `host.config`, `host.has-secret` and `host.hmac-sha256`: a plugin reads only its own
//! non-secret values, and uses its own secrets only by name.

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::plugins::ctx::CallCtx;
use crate::plugins::types::SecretError;

/// The non-secret value `key` of the calling plugin.
pub fn value(ctx: &CallCtx, key: &str) -> Option<String> {
    ctx.grants.config(key).map(str::to_string)
}

/// Whether the calling plugin's secret `name` is configured.
pub fn has_secret(ctx: &CallCtx, name: &str) -> bool {
    ctx.grants.secret(name).is_some()
}

/// HMAC-SHA256 of `message` keyed with the calling plugin's secret `name`.
pub fn hmac_sha256(ctx: &CallCtx, name: &str, message: &[u8]) -> Result<Vec<u8>, SecretError> {
    let secret = ctx
        .grants
        .secret(name)
        .ok_or_else(|| SecretError::NotGranted(name.to_string()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(message);
    Ok(mac.finalize().into_bytes().to_vec())
}
