//! `host.config`, `host.has-secret` and `host.hmac-sha256`: a plugin reads only its own
//! non-secret values, and uses its own secrets only by name, on messages of bounded size.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::offload;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::grants::Grants;
use crate::plugins::plugin::DeadlineExceeded;
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
pub async fn hmac_sha256(
    ctx: &mut CallCtx,
    name: String,
    message: Vec<u8>,
) -> wasmtime::Result<Result<Vec<u8>, SecretError>> {
    if let Err(err) = check_hmac(ctx, &name, message.len()) {
        return Ok(Err(err));
    }
    Ok(Ok(sign(ctx, name, message).await?))
}

/// Whether the calling plugin may sign a message of `len` bytes with its secret `name`: the
/// secret is granted, and the message at most [`ava_sdk::crypto::MAX_HMAC_MESSAGE_BYTES`].
pub fn check_hmac(ctx: &CallCtx, name: &str, len: usize) -> Result<(), SecretError> {
    let granted = ctx.grants.secret(name).is_some();
    ctx.record(|| HostCall::Hmac {
        secret: name.to_string(),
        granted,
    });
    if !granted {
        return Err(SecretError::NotGranted(name.to_string()));
    }
    ava_sdk::crypto::check_message(name, len).map_err(|refusal| {
        tracing::debug!(plugin = %ctx.grants.name, len, "hmac-sha256 refused: {refusal}");
        SecretError::NotGranted(refusal)
    })
}

/// Signs `message` with the calling plugin's secret `name`, once [`check_hmac`] allowed it:
/// in place when it is small, off the async workers ([`offload`]) when it is not, ending the
/// call ([`DeadlineExceeded`]) if its deadline passes first.
pub async fn sign(
    ctx: &mut CallCtx,
    name: String,
    message: Vec<u8>,
) -> Result<Vec<u8>, DeadlineExceeded> {
    let grants: Arc<Grants> = ctx.grants.clone();
    let len = message.len();
    let work = move || {
        let secret = grants.secret(&name).expect("check_hmac found the secret");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(&message);
        mac.finalize().into_bytes().to_vec()
    };
    if len <= offload::INLINE_MAX_BYTES {
        Ok(work())
    } else {
        offload::run(ctx.deadline, work).await
    }
}
