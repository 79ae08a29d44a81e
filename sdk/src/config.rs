//! This plugin's configuration from `ava.toml`. Only non-secret values are readable; secrets
//! are used by name (see [`crate::http::Request::bearer_secret`] and [`crate::crypto`]).

use core::str::FromStr;

use crate::{PluginError, host_call};

/// The value of `key`, or `None` when it is unset (or is a secret).
pub fn get(key: &str) -> Option<String> {
    host_call::config(key)
}

/// The value of `key`, or `default` when it is unset.
pub fn get_or(key: &str, default: &str) -> String {
    get(key).unwrap_or_else(|| default.to_string())
}

/// The value of `key`, which must be set. The host checks required keys declared in
/// `plugin-info` at load time, so this fails only for keys the plugin forgot to declare.
pub fn require(key: &str) -> Result<String, PluginError> {
    get(key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PluginError::internal(format!("configuration key `{key}` is not set")))
}

/// The value of `key` parsed as `T`, or `None` when unset. A value that does not parse is an
/// error naming the key.
pub fn parse<T: FromStr>(key: &str) -> Result<Option<T>, PluginError>
where
    T::Err: core::fmt::Display,
{
    match get(key) {
        None => Ok(None),
        Some(raw) => raw.trim().parse().map(Some).map_err(|err| {
            PluginError::internal(format!("configuration key `{key}` = {raw:?}: {err}"))
        }),
    }
}

/// Whether the secret `name` is configured. Its value never enters the plugin.
pub fn has_secret(name: &str) -> bool {
    host_call::has_secret(name)
}
