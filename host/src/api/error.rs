//! The API's one error type: every failure answers JSON `{"detail": "..."}` with the status
//! that fits. Internal details are logged, never returned.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::plugins::CallError;
use crate::plugins::types::PluginError;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// Input that breaks a rule: 422 naming the field.
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("Subscription required")]
    PaymentRequired,
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unavailable(String),
    /// A plugin answered something unusable; the detail is logged, not shown.
    #[error("{0}")]
    BadGateway(String),
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::accounts::validate::Invalid> for ApiError {
    fn from(e: crate::accounts::validate::Invalid) -> Self {
        Self::Validation {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<crate::accounts::AccountError> for ApiError {
    fn from(e: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError as E;
        match e {
            E::Invalid(invalid) => invalid.into(),
            E::EmailTaken => Self::Conflict("An account with this email already exists".into()),
            E::BadCredentials => Self::Unauthorized("Invalid email or password".into()),
            E::RateLimited(wait) => Self::TooManyRequests {
                detail: format!(
                    "Too many login attempts; try again in {} seconds",
                    wait.as_secs().max(1)
                ),
                retry_after_secs: wait.as_secs().max(1),
            },
            E::Db(db) => db.into(),
            E::Internal(m) => Self::Internal(m),
        }
    }
}

impl From<crate::chat::ChatError> for ApiError {
    fn from(e: crate::chat::ChatError) -> Self {
        use crate::chat::ChatError as E;
        match e {
            E::Invalid(invalid) => invalid.into(),
            E::PaymentRequired => Self::PaymentRequired,
            E::NotFound(what) => Self::NotFound(format!("{} not found", capitalize(what))),
            E::Conflict(m) => Self::Conflict(m),
            E::Forbidden(m) => Self::Forbidden(m),
            E::Plugin(err) => Self::Plugin(err),
            E::Db(db) => db.into(),
        }
    }
}

impl From<crate::billing::BillingError> for ApiError {
    fn from(e: crate::billing::BillingError) -> Self {
        use crate::billing::BillingError as E;
        match e {
            E::AlreadySubscribed | E::NoCustomer => Self::Conflict(e.to_string()),
            E::NotFound(_) => Self::NotFound(e.to_string()),
            E::Rejected(reason) => Self::BadRequest(format!("Webhook refused: {reason}")),
            E::BadAnswer { .. } => Self::BadGateway(e.to_string()),
            E::Raced => Self::Conflict("The event is being processed; deliver it again".into()),
            E::Plugin(err) => Self::Plugin(err),
            E::Db(db) => db.into(),
        }
    }
}

/// "persona" → "Persona".
pub fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl ApiError {
    /// Status, detail and Retry-After (seconds): what the client is answered, once per
    /// answer, since it logs (and reports) what the client does not see.
    pub fn parts(&self) -> (StatusCode, String, Option<u64>) {
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone(), None),
            Self::Validation { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{field}: {message}"),
                None,
            ),
            Self::Conflict(m) => (StatusCode::CONFLICT, m.clone(), None),
            Self::PaymentRequired => (
                StatusCode::PAYMENT_REQUIRED,
                "Subscription required".to_string(),
                None,
            ),
            Self::TooManyRequests {
                detail,
                retry_after_secs,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                detail.clone(),
                Some(*retry_after_secs),
            ),
            Self::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, m.clone(), None),
            Self::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m.clone(), None),
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone(), None),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone(), None),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m.clone(), None),
            Self::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone(), None),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone(), None),
            Self::BadGateway(m) => {
                tracing::error!(error = %m, "bad answer from a plugin");
                (
                    StatusCode::BAD_GATEWAY,
                    "The plugin failed".to_string(),
                    None,
                )
            }
            Self::Plugin(err) => plugin_status(err),
            Self::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error".to_string(),
                    None,
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail, retry_after) = self.parts();
        let body = match &self {
            Self::Validation { field, .. } => json!({ "detail": detail, "field": field }),
            _ => json!({ "detail": detail }),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The status, the detail shown to the user, and a Retry-After in seconds.
fn plugin_status(err: &CallError) -> (StatusCode, String, Option<u64>) {
    match err {
        CallError::Plugin { error, .. } => match error {
            PluginError::InvalidInput(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone(), None),
            PluginError::Unauthorized(m) => (
                StatusCode::BAD_GATEWAY,
                format!("Upstream refused our credentials: {m}"),
                None,
            ),
            PluginError::Upstream(u) => (StatusCode::BAD_GATEWAY, u.message.clone(), None),
            PluginError::Unavailable(u) => (
                StatusCode::SERVICE_UNAVAILABLE,
                u.message.clone(),
                u.retry_after_ms.map(|ms| ms.div_ceil(1000)),
            ),
            PluginError::Unsupported(m) => (StatusCode::NOT_IMPLEMENTED, m.clone(), None),
            PluginError::Internal(m) => {
                tracing::error!(plugin = err.plugin(), error = %m, "plugin internal error");
                (
                    StatusCode::BAD_GATEWAY,
                    "The plugin failed".to_string(),
                    None,
                )
            }
        },
        CallError::NotAvailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone(), None),
        CallError::Busy { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy, try again shortly".into(),
            Some(1),
        ),
        CallError::Timeout { .. } => (
            StatusCode::GATEWAY_TIMEOUT,
            "The plugin took too long".into(),
            None,
        ),
        other => {
            // WARN: the plugin call reported the fault itself, with its tags.
            tracing::warn!(plugin = other.plugin(), error = %other, "plugin fault");
            (
                StatusCode::BAD_GATEWAY,
                "The plugin failed".to_string(),
                None,
            )
        }
    }
}
