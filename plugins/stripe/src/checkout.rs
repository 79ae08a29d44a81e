//! Checkout: a Stripe Checkout Session in subscription mode for the configured price.

use std::collections::HashMap;

use ava_sdk::PluginError;
use ava_sdk::billing::{CheckoutRequest, CheckoutSession};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_shared::CheckoutSessionMode;

use crate::client::HostClient;
use crate::metadata;
use crate::settings;

/// Creates the session the user is redirected to.
pub fn create(request: CheckoutRequest) -> Result<CheckoutSession, PluginError> {
    request.check_required()?;
    let client = HostClient::new(settings::api_base()?);
    let strategy = idempotency(&request.idempotency_key)?;
    let session = build(&request, settings::price_id()?)
        .customize()
        .request_strategy(strategy)
        .send_blocking(&client)?;
    let url = session.url.ok_or_else(|| {
        PluginError::upstream(
            None,
            None,
            format!(
                "Stripe created checkout session {} without a URL",
                session.id
            ),
        )
    })?;
    ava_sdk::info!(
        "checkout {} started for user {}",
        session.id,
        request.user_id
    );
    Ok(CheckoutSession {
        id: session.id.to_string(),
        url,
        customer_id: session.customer.map(|c| c.id().to_string()),
    })
}

/// The request: one unit of the price; the user's id as the client reference and in the
/// metadata of the session and of the subscription it creates, so every later event about
/// the subscription names the user.
fn build(request: &CheckoutRequest, price_id: String) -> CreateCheckoutSession {
    let user_metadata =
        || HashMap::from([(metadata::USER_ID.to_string(), request.user_id.clone())]);
    let mut line_item = CreateCheckoutSessionLineItems::new();
    line_item.price = Some(price_id);
    line_item.quantity = Some(1);
    let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
    subscription_data.metadata = Some(user_metadata());

    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .line_items(vec![line_item])
        .client_reference_id(request.user_id.as_str())
        .metadata(user_metadata())
        .subscription_data(subscription_data)
        .success_url(request.success_url.as_str())
        .cancel_url(request.cancel_url.as_str());
    // A returning customer keeps their Stripe customer (and saved cards); a new one is
    // created by Checkout from the email, which Stripe pre-fills on the page.
    match request.customer_id.as_deref().map(str::trim) {
        Some(customer) if !customer.is_empty() => session.customer(customer),
        _ => session.customer_email(request.email.as_str()),
    }
}

/// Stripe answers a repeated key with the first session instead of creating a second.
fn idempotency(key: &str) -> Result<RequestStrategy, PluginError> {
    let key = key.trim();
    if key.is_empty() {
        return Ok(RequestStrategy::Once);
    }
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|err| PluginError::invalid_input(format!("the checkout's idempotency key: {err}")))
}
