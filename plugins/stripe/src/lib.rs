//! Stripe as Ava's payment provider.
//!
//! Checkout and the customer portal are Stripe-hosted pages created with async-stripe's
//! request builders, sent through the host's `http-fetch` (see `client`); the secret key
//! reaches Stripe only through the host's secret-header injection. Webhooks are verified
//! with Stripe's `Stripe-Signature` scheme through the host's HMAC, and read across Stripe
//! API versions (see `normalize`).

mod api_error;
mod checkout;
mod client;
mod metadata;
mod normalize;
mod portal;
mod price_check;
mod settings;
mod subscriptions;
mod webhook;

use ava_sdk::billing::{
    BillingProvider, CheckoutRequest, CheckoutSession, PortalRequest, PortalSession, Subscription,
    WebhookOutcome, WebhookRequest,
};
use ava_sdk::{PluginError, PluginInfo};

/// The plugin.
pub struct Stripe;

impl BillingProvider for Stripe {
    fn metadata() -> PluginInfo {
        let [secret_key, webhook_secret, price_id, api_base] = settings::keys();
        ava_sdk::plugin_info!(
            "Stripe: subscription Checkout, the customer portal and signed webhooks"
        )
        .key(secret_key)
        .key(webhook_secret)
        .key(price_id)
        .key(api_base)
    }

    fn check() -> Result<(), PluginError> {
        price_check::check()
    }

    fn create_checkout(request: CheckoutRequest) -> Result<CheckoutSession, PluginError> {
        checkout::create(request)
    }

    fn create_portal(request: PortalRequest) -> Result<PortalSession, PluginError> {
        portal::create(request)
    }

    fn handle_webhook(request: WebhookRequest) -> Result<WebhookOutcome, PluginError> {
        webhook::handle(&request)
    }

    fn get_subscription(id: String) -> Result<Option<Subscription>, PluginError> {
        subscriptions::get(&id)
    }
}

ava_sdk::export_billing_provider!(Stripe);
