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
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail, retry_after) = match &self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone(), None),
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone(), None),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone(), None),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m.clone(), None),
            Self::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone(), None),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone(), None),
            Self::Plugin(err) => plugin_status(err),
            Self::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error".to_string(),
                    None,
                )
            }
        };
        let mut response = (status, Json(json!({ "detail": detail }))).into_response();
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
            tracing::error!(plugin = other.plugin(), error = %other, "plugin fault");
            (
                StatusCode::BAD_GATEWAY,
                "The plugin failed".to_string(),
                None,
            )
        }
    }
}
