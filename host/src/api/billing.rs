//! `/billing`: checkout, the customer portal, the subscription's status, and the webhooks of
//! billing providers (`/billing/webhook` for the active one, `/webhook/{plugin}` by name).

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, RawBody, header_pairs};
use super::views::{self, ErrorBody, SubscriptionView};
use crate::app::AppState;

/// Providers' events are a few KiB; Stripe caps them well below this.
const MAX_WEBHOOK_BYTES: usize = 512 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let webhooks = OpenApiRouter::new()
        .routes(routes!(webhook))
        .routes(routes!(plugin_webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES));
    OpenApiRouter::new()
        .routes(routes!(checkout))
        .routes(routes!(portal))
        .routes(routes!(status))
        .merge(webhooks)
}

/// Where to send the user to pay.
#[derive(Serialize, ToSchema)]
pub struct CheckoutSession {
    checkout_url: String,
}

/// Where the user manages or cancels their subscription.
#[derive(Serialize, ToSchema)]
pub struct PortalSession {
    portal_url: String,
}

/// The subscription, and whether the portal can be opened.
#[derive(Serialize, ToSchema)]
pub struct BillingStatus {
    #[serde(flatten)]
    subscription: SubscriptionView,
    /// Whether `POST /billing/portal` has a customer to open the portal for.
    can_manage: bool,
}

/// What became of a webhook.
#[derive(Serialize, ToSchema)]
pub struct WebhookReceipt {
    received: bool,
    /// `applied`, `duplicate`, `ignored`, ...
    outcome: &'static str,
}

/// `{"checkout_url"}`: where to send the user to pay. A client's `Idempotency-Key` header
/// makes a retried request land on the same checkout.
#[utoipa::path(post, path = "/billing/checkout", tag = "billing", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Up to 200 bytes of visible ASCII: a retry with the same key gets the same checkout")),
    responses(
        (status = 200, body = CheckoutSession),
        (status = 400, description = "An Idempotency-Key over 200 bytes or not visible ASCII", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "A subscription is already active", body = ErrorBody),
        (status = 502, description = "The billing provider failed", body = ErrorBody),
        (status = 503, description = "The billing provider is unavailable", body = ErrorBody),
        (status = 504, description = "The billing provider took too long", body = ErrorBody),
    ))]
async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> ApiResult<Json<CheckoutSession>> {
    let attempt = idempotency_key(&headers)?;
    let url = state.billing.checkout(&user.id, attempt).await?;
    Ok(Json(CheckoutSession { checkout_url: url }))
}

/// The longest `Idempotency-Key` taken, in bytes (Stripe's own limit is 255).
const MAX_IDEMPOTENCY_KEY_BYTES: usize = 200;

/// The client's `Idempotency-Key`, if it sent one. A key that cannot be used is refused
/// rather than ignored: ignoring it would let the retry it was meant for open a second
/// checkout.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("Idempotency-Key: use visible ASCII only".into()))?
        .trim();
    if key.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        return Err(ApiError::BadRequest(format!(
            "Idempotency-Key: at most {MAX_IDEMPOTENCY_KEY_BYTES} bytes (this one has {})",
            key.len()
        )));
    }
    Ok(Some(key).filter(|k| !k.is_empty()))
}

/// `{"portal_url"}`: where the user manages or cancels their subscription.
#[utoipa::path(post, path = "/billing/portal", tag = "billing", security(("bearer" = [])),
    responses(
        (status = 200, body = PortalSession),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "No subscription yet to manage", body = ErrorBody),
        (status = 502, description = "The billing provider failed", body = ErrorBody),
        (status = 503, description = "The billing provider is unavailable", body = ErrorBody),
        (status = 504, description = "The billing provider took too long", body = ErrorBody),
    ))]
async fn portal(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<PortalSession>> {
    let url = state.billing.portal(&user.id).await?;
    Ok(Json(PortalSession { portal_url: url }))
}

/// The status, current period end and cancel-at-period-end.
#[utoipa::path(get, path = "/billing/status", tag = "billing", security(("bearer" = [])),
    responses(
        (status = 200, body = BillingStatus),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn status(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<BillingStatus>> {
    let status = state.billing.status(&user.id).await?;
    Ok(Json(BillingStatus {
        subscription: views::subscription(status.subscription.as_ref()),
        can_manage: status.can_manage,
    }))
}

/// The active billing provider's webhooks, verified by its plugin; the raw body is passed
/// to it untouched.
#[utoipa::path(post, path = "/billing/webhook", tag = "billing",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The provider's event, byte for byte"),
    responses(
        (status = 200, description = "Recorded, a duplicate, or ignored", body = WebhookReceipt),
        (status = 400, description = "Forged or stale", body = ErrorBody),
        (status = 409, description = "Being processed; deliver it again", body = ErrorBody),
        (status = 413, description = "Larger than 512 KiB", body = ErrorBody),
        (status = 502, description = "The plugin failed", body = ErrorBody),
        (status = 503, description = "Cannot be handled now; deliver it again", body = ErrorBody),
    ))]
async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<WebhookReceipt>)> {
    receive(&state, None, &headers, body.to_vec()).await
}

/// The webhooks of a billing plugin by name (any loaded one, active or not).
#[utoipa::path(post, path = "/webhook/{plugin}", tag = "billing",
    params(("plugin" = String, Path, description = "The plugin's name in ava.toml")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The provider's event, byte for byte"),
    responses(
        (status = 200, description = "Recorded, a duplicate, or ignored", body = WebhookReceipt),
        (status = 400, description = "Forged or stale", body = ErrorBody),
        (status = 404, description = "No such billing plugin", body = ErrorBody),
        (status = 409, description = "Being processed; deliver it again", body = ErrorBody),
        (status = 413, description = "Larger than 512 KiB", body = ErrorBody),
        (status = 502, description = "The plugin failed", body = ErrorBody),
        (status = 503, description = "Cannot be handled now; deliver it again", body = ErrorBody),
    ))]
async fn plugin_webhook(
    State(state): State<AppState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<WebhookReceipt>)> {
    receive(&state, Some(&plugin), &headers, body.to_vec()).await
}

/// 200 once the event is recorded (or is a duplicate, or ignored); 400 when forged or
/// stale; 5xx when it could not be handled now, so the provider delivers it again.
async fn receive(
    state: &AppState,
    plugin: Option<&str>,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> ApiResult<(StatusCode, Json<WebhookReceipt>)> {
    let receipt = state
        .billing
        .receive(plugin, header_pairs(headers), body)
        .await?;
    Ok((
        StatusCode::OK,
        Json(WebhookReceipt {
            received: true,
            outcome: receipt.as_str(),
        }),
    ))
}
