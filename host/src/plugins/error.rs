//! The runtime's errors: why a plugin could not be loaded, and why a call failed.

use std::time::Duration;

use super::types::{HttpError, PluginError};
use crate::text::cut_in_place;

/// Why a plugin, or a whole plugin set, could not be loaded. Every message names the plugin.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("plugin `{plugin}`: {message}")]
    Plugin { plugin: String, message: String },
    #[error("{0}")]
    Config(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<LoadError>),
}

impl LoadError {
    pub(crate) fn plugin(plugin: &str, message: impl Into<String>) -> Self {
        Self::Plugin {
            plugin: plugin.to_string(),
            message: message.into(),
        }
    }
}

/// The longest message a plugin's own error keeps, in characters. It is shown to the user
/// (`detail`) and logged, so it must not carry what the output limit allows (16 MiB): an
/// error says what went wrong in a sentence or two, and an upstream's quoted answer fits.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 2_000;
/// The longest machine-readable `code` of an upstream failure (`rate_limit_exceeded`).
pub const MAX_ERROR_CODE_CHARS: usize = 100;

/// `error` as the host passes it on: its message and code cut to
/// [`MAX_ERROR_MESSAGE_CHARS`] and [`MAX_ERROR_CODE_CHARS`], ending with `…` when cut.
pub fn bounded(mut error: PluginError) -> PluginError {
    let message = match &mut error {
        PluginError::Upstream(u) => {
            if let Some(code) = u.code.as_mut() {
                cut_in_place(code, MAX_ERROR_CODE_CHARS);
            }
            &mut u.message
        }
        PluginError::Unavailable(u) => &mut u.message,
        PluginError::InvalidInput(m)
        | PluginError::Unauthorized(m)
        | PluginError::Unsupported(m)
        | PluginError::Internal(m) => m,
    };
    cut_in_place(message, MAX_ERROR_MESSAGE_CHARS);
    error
}

/// Why a call of a plugin failed. A plugin can never crash or hang the host: each of its
/// misdeeds ends the call with one of these.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The plugin returned an error of its own.
    #[error("plugin `{plugin}`: {}", error.describe())]
    Plugin { plugin: String, error: PluginError },
    /// No plugin serves this slot, or the named plugin is not loaded.
    #[error("{0}")]
    NotAvailable(String),
    /// The call ran past the plugin's wall-clock limit.
    #[error("plugin `{plugin}` did not finish within its {} ms limit", limit.as_millis())]
    Timeout { plugin: String, limit: Duration },
    /// The plugin asked for more memory than its limit.
    #[error("plugin `{plugin}` exceeded its memory limit of {} MiB", limit_bytes >> 20)]
    MemoryLimit { plugin: String, limit_bytes: usize },
    /// The plugin spent its instruction budget.
    #[error("plugin `{plugin}` used up its fuel budget of {fuel} units")]
    FuelExhausted { plugin: String, fuel: u64 },
    /// The plugin recursed too deep.
    #[error("plugin `{plugin}` overflowed its stack")]
    StackOverflow { plugin: String },
    /// The plugin panicked; `message` is what it printed.
    #[error("plugin `{plugin}` panicked: {message}")]
    Panic { plugin: String, message: String },
    /// Any other trap: an out-of-bounds access, an `unreachable`, a bad conversion.
    #[error("plugin `{plugin}` crashed: {message}")]
    Trap { plugin: String, message: String },
    /// The plugin returned more than its output limit.
    #[error("plugin `{plugin}` returned {size} bytes, over its limit of {limit}")]
    OutputTooLarge {
        plugin: String,
        size: u64,
        limit: u64,
    },
    /// Every instance the plugin may run is busy and none freed up before the deadline.
    #[error("plugin `{plugin}` is busy: all {concurrency} of its instances are in use")]
    Busy { plugin: String, concurrency: u32 },
    /// The host failed while serving the plugin (instantiation, an internal error).
    #[error("plugin `{plugin}`: host error: {message}")]
    Host { plugin: String, message: String },
}

impl CallError {
    /// The plugin this error is about, when there is one.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Self::NotAvailable(_) => None,
            Self::Plugin { plugin, .. }
            | Self::Timeout { plugin, .. }
            | Self::MemoryLimit { plugin, .. }
            | Self::FuelExhausted { plugin, .. }
            | Self::StackOverflow { plugin }
            | Self::Panic { plugin, .. }
            | Self::Trap { plugin, .. }
            | Self::OutputTooLarge { plugin, .. }
            | Self::Busy { plugin, .. }
            | Self::Host { plugin, .. } => Some(plugin),
        }
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Plugin { .. } => "plugin_error",
            Self::NotAvailable(_) => "not_available",
            Self::Timeout { .. } => "timeout",
            Self::MemoryLimit { .. } => "memory_limit",
            Self::FuelExhausted { .. } => "fuel_exhausted",
            Self::StackOverflow { .. } => "stack_overflow",
            Self::Panic { .. } => "panic",
            Self::Trap { .. } => "trap",
            Self::OutputTooLarge { .. } => "output_too_large",
            Self::Busy { .. } => "busy",
            Self::Host { .. } => "host_error",
        }
    }

    /// Whether the plugin misbehaved (a trap or a limit), as opposed to answering an error.
    pub fn is_fault(&self) -> bool {
        !matches!(
            self,
            Self::Plugin { .. } | Self::NotAvailable(_) | Self::Busy { .. }
        )
    }
}

impl HttpError {
    /// A readable description.
    pub fn message(&self) -> String {
        match self {
            Self::Denied(m) => format!("request denied: {m}"),
            Self::InvalidRequest(m) => format!("invalid request: {m}"),
            Self::SecretNotGranted(name) => format!("secret `{name}` is not granted"),
            Self::Timeout => "request timed out".into(),
            Self::Connection(m) => format!("connection failed: {m}"),
            Self::TooLarge(limit) => format!("response larger than {limit} bytes"),
            Self::Protocol(m) => format!("HTTP protocol error: {m}"),
        }
    }
}

impl PluginError {
    /// A readable description.
    pub fn describe(&self) -> String {
        match self {
            Self::InvalidInput(m) => format!("invalid input: {m}"),
            Self::Unauthorized(m) => format!("unauthorized: {m}"),
            Self::Upstream(u) => {
                let status = u.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                let code = u
                    .code
                    .as_ref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default();
                format!("upstream error{status}{code}: {}", u.message)
            }
            Self::Unavailable(u) => format!("unavailable: {}", u.message),
            Self::Unsupported(m) => format!("unsupported: {m}"),
            Self::Internal(m) => format!("internal error: {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::types::UpstreamFailure;

    #[test]
    fn a_plugins_error_text_is_cut_and_short_text_is_kept() {
        let long = "é".repeat(MAX_ERROR_MESSAGE_CHARS + 10);
        let PluginError::Upstream(u) = bounded(PluginError::Upstream(UpstreamFailure {
            status: Some(500),
            code: Some("c".repeat(10_000)),
            message: long,
        })) else {
            panic!("the variant changed");
        };
        assert_eq!(u.message.chars().count(), MAX_ERROR_MESSAGE_CHARS);
        assert!(u.message.ends_with('…'));
        assert_eq!(u.code.unwrap().chars().count(), MAX_ERROR_CODE_CHARS);
        assert_eq!(u.status, Some(500));

        let short = PluginError::Internal("x".repeat(MAX_ERROR_MESSAGE_CHARS));
        assert!(matches!(bounded(short), PluginError::Internal(m) if !m.ends_with('…')));
    }
}
