//! `/billing`: checkout, the customer portal, the subscription's status, and the webhooks of
//! billing providers (`/billing/webhook` for the active one, `/webhook/{plugin}` by name).

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{AuthUser, RawBody, header_pairs};
use super::views;
use crate::app::AppState;

/// Providers' events are a few KiB; Stripe caps them well below this.
const MAX_WEBHOOK_BYTES: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    let webhooks = Router::new()
        .route("/billing/webhook", post(webhook))
        .route("/webhook/{plugin}", post(plugin_webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES));
    Router::new()
        .route("/billing/checkout", post(checkout))
        .route("/billing/portal", post(portal))
        .route("/billing/status", get(status))
        .merge(webhooks)
}

/// `{"checkout_url"}`: where to send the user to pay. A client's `Idempotency-Key` header
/// makes a retried request land on the same checkout.
async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let attempt = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200);
    let url = state.billing.checkout(&user.id, attempt).await?;
    Ok(Json(json!({ "checkout_url": url })))
}

/// `{"portal_url"}`: where the user manages or cancels their subscription.
async fn portal(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    let url = state.billing.portal(&user.id).await?;
    Ok(Json(json!({ "portal_url": url })))
}

/// The status, current period end and cancel-at-period-end.
async fn status(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    let status = state.billing.status(&user.id).await?;
    let mut body = views::subscription(status.subscription.as_ref());
    body["can_manage"] = json!(status.can_manage);
    Ok(Json(body))
}

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    receive(&state, None, &headers, body.to_vec()).await
}

async fn plugin_webhook(
    State(state): State<AppState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    receive(&state, Some(&plugin), &headers, body.to_vec()).await
}

/// 200 once the event is recorded (or is a duplicate, or ignored); 400 when forged or
/// stale; 5xx when it could not be handled now, so the provider delivers it again.
async fn receive(
    state: &AppState,
    plugin: Option<&str>,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let receipt = state
        .billing
        .receive(plugin, header_pairs(headers), body)
        .await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "received": true, "outcome": receipt.as_str() })),
    ))
}
