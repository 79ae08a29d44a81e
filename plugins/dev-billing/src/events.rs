//! The events this provider sends, shaped like Stripe's so the same normalization reads
//! them: `{"id", "object": "event", "type", "created", "livemode": false, "data": {"object"}}`.

use ava_sdk::PluginError;
use serde_json::{Value, json};

use crate::ids;
use crate::store::{Checkout, Subscription};

/// What an invoice of this provider is for, in the currency's smallest unit.
const AMOUNT_DUE: u64 = 999;
const CURRENCY: &str = "eur";

fn envelope(id: String, kind: &str, created: u64, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": false,
        "data": { "object": object },
    })
}

/// `checkout.session.completed`. Its id depends only on the checkout, so a payment retried
/// after a refused delivery is still one event for the host.
pub fn checkout_completed(
    checkout: &Checkout,
    subscription_id: &str,
    created: u64,
) -> Result<Value, PluginError> {
    let id = ids::event(&format!("checkout.session.completed\n{}", checkout.id))?;
    let object = json!({
        "id": checkout.id,
        "object": "checkout.session",
        "customer": checkout.customer_id,
        "subscription": subscription_id,
        "client_reference_id": checkout.user_id,
        "customer_email": checkout.email,
        "metadata": { "user_id": checkout.user_id },
        "mode": "subscription",
        "payment_status": "paid",
        "status": "complete",
    });
    Ok(envelope(id, "checkout.session.completed", created, object))
}

/// The `subscription` object of Stripe's API.
pub fn subscription_object(subscription: &Subscription) -> Value {
    json!({
        "id": subscription.id,
        "object": "subscription",
        "customer": subscription.customer_id,
        "status": subscription.status,
        "current_period_end": subscription.current_period_end,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "metadata": { "user_id": subscription.user_id },
        "items": { "data": [ { "price": { "id": subscription.price_id } } ] },
    })
}

/// `customer.subscription.updated` or `.deleted`, with the subscription as it is now.
pub fn subscription_changed(
    kind: &str,
    subscription: &Subscription,
    now_ms: u64,
) -> Result<Value, PluginError> {
    let object = subscription_object(subscription);
    let id = ids::event(&format!("{kind}\n{}\n{now_ms}\n{object}", subscription.id))?;
    Ok(envelope(id, kind, now_ms / 1000, object))
}

/// `invoice.paid` or `invoice.payment_failed` for the subscription's current period.
pub fn invoice(kind: &str, subscription: &Subscription, now_ms: u64) -> Result<Value, PluginError> {
    let input = format!(
        "{kind}\n{}\n{now_ms}\n{}",
        subscription.id, subscription.current_period_end
    );
    let status = if kind == "invoice.paid" {
        "paid"
    } else {
        "open"
    };
    let object = json!({
        "id": ids::invoice(&input)?,
        "object": "invoice",
        "customer": subscription.customer_id,
        "subscription": subscription.id,
        "status": status,
        "amount_due": AMOUNT_DUE,
        "currency": CURRENCY,
    });
    Ok(envelope(ids::event(&input)?, kind, now_ms / 1000, object))
}
