//! {{name}}: a billing provider for Ava.
//!
//! Checkout and portal sessions are created with one HTTP call each to the provider's API at
//! `api_base` (the host fills in the `api_key` secret); webhooks are verified by the hex
//! HMAC-SHA256 of their raw body in the `x-signature` header, computed by the host with the
//! `webhook_secret` secret, which never enters the plugin.

use ava_sdk::billing::{
    BillingEvent, BillingProvider, CheckoutRequest, CheckoutSession, EventKind, PortalRequest,
    PortalSession, WebhookOutcome, WebhookRequest,
};
use ava_sdk::http::Request;
use ava_sdk::{ConfigKey, PluginError, PluginInfo, config, crypto};
use serde::Deserialize;
use serde_json::json;

/// The plugin.
pub struct {{type}};

/// The provider's answer to a new checkout session.
#[derive(Deserialize)]
struct Checkout {
    id: String,
    url: String,
    customer_id: Option<String>,
}

/// The provider's answer to a new portal session.
#[derive(Deserialize)]
struct Portal {
    url: String,
}

/// A webhook event as the provider sends it.
#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created_at_ms: Option<u64>,
    user_id: Option<String>,
    customer_id: Option<String>,
    subscription_id: Option<String>,
}

impl BillingProvider for {{type}} {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("{{description}}")
            .key(ConfigKey::required(
                "api_base",
                "the provider's API, e.g. https://api.example.com",
            ))
            .key(ConfigKey::secret("api_key", "the provider's API key"))
            .key(ConfigKey::secret(
                "webhook_secret",
                "signs the provider's webhooks (HMAC-SHA256)",
            ))
    }

    fn create_checkout(request: CheckoutRequest) -> Result<CheckoutSession, PluginError> {
        request.check_required()?;
        let created: Checkout = Request::post(format!("{}/checkout/sessions", api_base()?))
            .bearer_secret("api_key")
            .header("idempotency-key", request.idempotency_key.clone())
            .json(&json!({
                "user_id": request.user_id,
                "email": request.email,
                "customer_id": request.customer_id,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
            }))
            .send()?
            .error_for_status()?
            .json()?;
        Ok(CheckoutSession {
            id: created.id,
            url: created.url,
            customer_id: created.customer_id.or(request.customer_id),
        })
    }

    fn create_portal(request: PortalRequest) -> Result<PortalSession, PluginError> {
        let portal: Portal = Request::post(format!("{}/portal/sessions", api_base()?))
            .bearer_secret("api_key")
            .json(&json!({
                "customer_id": request.customer_id,
                "return_url": request.return_url,
            }))
            .send()?
            .error_for_status()?
            .json()?;
        Ok(PortalSession { url: portal.url })
    }

    fn handle_webhook(request: WebhookRequest) -> Result<WebhookOutcome, PluginError> {
        let signature = request
            .header("x-signature")
            .and_then(crypto::from_hex)
            .ok_or_else(|| PluginError::unauthorized("missing or malformed x-signature"))?;
        let expected = crypto::hmac_sha256("webhook_secret", &request.body)?;
        if !crypto::constant_time_eq(&signature, &expected) {
            return Err(PluginError::unauthorized("bad signature"));
        }
        let event: Event = serde_json::from_slice(&request.body)
            .map_err(|e| PluginError::invalid_input(format!("webhook body: {e}")))?;
        let kind = match event.kind.as_str() {
            "checkout.completed" => EventKind::CheckoutCompleted,
            "subscription.updated" => EventKind::SubscriptionUpdated,
            "subscription.canceled" => EventKind::SubscriptionDeleted,
            "payment.succeeded" => EventKind::PaymentSucceeded,
            "payment.failed" => EventKind::PaymentFailed,
            other => {
                return Ok(WebhookOutcome::Ignored(format!(
                    "`{other}` events change nothing here"
                )));
            }
        };
        Ok(WebhookOutcome::Event(BillingEvent {
            id: event.id,
            kind,
            provider_type: event.kind,
            created_at_ms: event.created_at_ms.unwrap_or(request.received_at_ms),
            user_id: event.user_id,
            customer_id: event.customer_id,
            subscription_id: event.subscription_id,
            subscription: None,
        }))
    }
    // `get_subscription` and `serve_page` default to "unsupported".
}

fn api_base() -> Result<String, PluginError> {
    let base = config::require("api_base")?;
    Ok(base.trim_end_matches('/').to_string())
}

ava_sdk::export_billing_provider!({{type}});
