//! Request extractors whose rejections answer like the rest of the API.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::AppState;

/// The signed-in user, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub token: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("Not authenticated".into()))?;
        let user = state
            .accounts
            .authenticate(token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("Not authenticated".into()))?;
        Ok(Self {
            id: user,
            token: token.to_string(),
        })
    }
}

/// A JSON body. Malformed JSON is 400, a wrong shape 422, a missing content type 415, each
/// with a `detail`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                    "Expected a JSON body (Content-Type: application/json)".into(),
                ),
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::BadRequest(format!("Malformed JSON: {}", e.body_text()))
                }
                JsonRejection::JsonDataError(e) => ApiError::Unprocessable(
                    e.body_text()
                        .trim_start_matches(
                            "Failed to deserialize the JSON body into the target type: ",
                        )
                        .to_string(),
                ),
                other => body_error(other.status(), other.body_text()),
            }),
        }
    }
}

/// A body that could not be read: over the route's size limit (axum's default is 2 MB) is
/// 413, anything else (a broken upload) 400.
fn body_error(status: axum::http::StatusCode, text: String) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("The request body is too large".into())
    } else {
        ApiError::BadRequest(text)
    }
}

/// A JSON body that may be left out entirely (then `T::default()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => ApiError::Unprocessable(e.to_string()),
                _ => ApiError::BadRequest(format!("Malformed JSON: {e}")),
            })
    }
}

/// A raw body; over the route's size limit it is 413 with a `detail`.
#[derive(Debug, Clone)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge("The upload is too large".into())
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            })
    }
}

/// `headers` as name/value pairs for a plugin; values that are not text are left out.
pub fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
        })
        .collect()
}

/// The client's address: the peer's, or, when the peer is a trusted proxy
/// (`AVA_TRUSTED_PROXIES`), the one its forwarding headers name.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted = &state.settings.http.trusted_proxies;
        Ok(Self(peer.map(|peer| trusted.client(peer, &parts.headers))))
    }
}
