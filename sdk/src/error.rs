//! Constructors and conversions for [`PluginError`], so plugin code can use `?` on every
//! host call and build errors without spelling out the WIT records.
//!
//! The generated `Display` of these types is their debug form; `message()` reads better.

use crate::{HttpError, PluginError, SecretError, StorageError, Unavailable, UpstreamFailure};

impl PluginError {
    /// The input was rejected (422).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// Credentials or a signature were rejected.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    /// The upstream answered `status` with an optional machine-readable `code`.
    pub fn upstream(status: Option<u16>, code: Option<String>, message: impl Into<String>) -> Self {
        Self::Upstream(UpstreamFailure {
            status,
            code,
            message: message.into(),
        })
    }

    /// Temporarily unavailable; retry after `retry_after_ms` when known.
    pub fn unavailable(message: impl Into<String>, retry_after_ms: Option<u64>) -> Self {
        Self::Unavailable(Unavailable {
            message: message.into(),
            retry_after_ms,
        })
    }

    /// This plugin does not support the operation.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::Unsupported(message.into())
    }

    /// A bug or an unexpected state.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Upstream(failure) => failure.status.is_none_or(|s| s >= 500),
            _ => false,
        }
    }

    /// A readable description.
    pub fn message(&self) -> String {
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
            Self::Unavailable(u) => match u.retry_after_ms {
                Some(ms) => format!("unavailable: {} (retry after {ms} ms)", u.message),
                None => format!("unavailable: {}", u.message),
            },
            Self::Unsupported(m) => format!("unsupported: {m}"),
            Self::Internal(m) => format!("internal error: {m}"),
        }
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
            Self::TooLarge(limit) => format!(
                "response larger than {limit} bytes (the plugin's limits.max_http_response_bytes)"
            ),
            Self::Protocol(m) => format!("HTTP protocol error: {m}"),
        }
    }
}

/// Transport failures are temporary (retry); refusals are configuration bugs (internal). A
/// response over the plugin's size limit is one too: it will be over it again, so retrying it
/// (a job's next attempt) only spends the upstream's quota; the operator raises the limit.
impl From<HttpError> for PluginError {
    fn from(err: HttpError) -> Self {
        let message = err.message();
        match err {
            HttpError::Timeout | HttpError::Connection(_) | HttpError::Protocol(_) => {
                Self::unavailable(message, None)
            }
            HttpError::TooLarge(_)
            | HttpError::Denied(_)
            | HttpError::InvalidRequest(_)
            | HttpError::SecretNotGranted(_) => Self::internal(message),
        }
    }
}

impl StorageError {
    /// A readable description.
    pub fn message(&self) -> String {
        match self {
            Self::TooLarge(m) => format!("storage refused: {m}"),
            Self::Unavailable(m) => format!("storage unavailable: {m}"),
        }
    }
}

impl From<StorageError> for PluginError {
    fn from(err: StorageError) -> Self {
        match &err {
            StorageError::Unavailable(_) => Self::unavailable(err.message(), None),
            StorageError::TooLarge(_) => Self::internal(err.message()),
        }
    }
}

impl SecretError {
    /// A readable description.
    pub fn message(&self) -> String {
        match self {
            Self::NotGranted(what) => match what.split_once(": ") {
                // The host names the secret and why it would not use it here (an input
                // over a limit, `crypto::check_message`).
                Some((name, why)) => format!("secret `{name}` refused: {why}"),
                None => format!("secret `{what}` is not granted"),
            },
        }
    }
}

impl From<SecretError> for PluginError {
    fn from(err: SecretError) -> Self {
        Self::internal(err.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_become_retryable() {
        assert!(PluginError::from(HttpError::Timeout).is_retryable());
        assert!(PluginError::from(HttpError::Connection("reset".into())).is_retryable());
    }

    #[test]
    fn a_response_over_the_size_limit_is_not_retryable() {
        let err = PluginError::from(HttpError::TooLarge(1024));
        assert!(!err.is_retryable());
        assert!(
            err.message().contains("limits.max_http_response_bytes"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn refusals_are_not_retryable() {
        let err = PluginError::from(HttpError::Denied("evil.example".into()));
        assert!(matches!(err, PluginError::Internal(_)));
        assert!(!err.is_retryable());
    }

    #[test]
    fn upstream_client_errors_are_final_and_server_errors_retryable() {
        assert!(!PluginError::upstream(Some(400), None, "bad").is_retryable());
        assert!(PluginError::upstream(Some(502), None, "bad gateway").is_retryable());
    }

    #[test]
    fn message_names_status_and_code() {
        let err = PluginError::upstream(Some(402), Some("card_declined".into()), "declined");
        assert_eq!(
            err.message(),
            "upstream error (HTTP 402) [card_declined]: declined"
        );
    }
}
