//! Reading a verified event body into the host's normalized `BillingEvent`. Written against
//! Stripe's shapes (ids or expanded objects, period end on the subscription or its item), so
//! it reads this provider's events and Stripe's alike.

use ava_sdk::PluginError;
use ava_sdk::billing::{BillingEvent, EventKind, Subscription, SubscriptionStatus, WebhookOutcome};
use serde_json::Value;

use crate::store;

/// The outcome of the event in `body`.
pub fn normalize(body: &[u8]) -> Result<WebhookOutcome, PluginError> {
    let event: Value = serde_json::from_slice(body)
        .map_err(|err| PluginError::invalid_input(format!("malformed event JSON: {err}")))?;
    let id = required_str(&event, "id")?;
    let kind = required_str(&event, "type")?;
    let created = event
        .get("created")
        .and_then(Value::as_u64)
        .ok_or_else(|| PluginError::invalid_input("event without `created`"))?;
    let object = event
        .pointer("/data/object")
        .filter(|o| o.is_object())
        .ok_or_else(|| PluginError::invalid_input("event without `data.object`"))?;

    let mut normalized = BillingEvent {
        id: id.to_string(),
        kind: EventKind::CheckoutCompleted,
        provider_type: kind.to_string(),
        created_at_ms: created.saturating_mul(1000),
        user_id: None,
        customer_id: id_of(object.get("customer")),
        subscription_id: None,
        subscription: None,
    };
    match kind {
        "checkout.session.completed" => {
            normalized.user_id =
                text(object.get("client_reference_id")).or_else(|| metadata_user(object));
            normalized.subscription_id = id_of(object.get("subscription"));
            if let Some(sub_id) = &normalized.subscription_id {
                normalized.subscription = store::load_subscription(sub_id)?
                    .map(|s| stored(&s))
                    .transpose()?;
            }
        }
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let subscription = subscription(object)?;
            normalized.kind = if kind.ends_with("deleted") {
                EventKind::SubscriptionDeleted
            } else {
                EventKind::SubscriptionUpdated
            };
            normalized.user_id = subscription.user_id.clone();
            normalized.customer_id = Some(subscription.customer_id.clone());
            normalized.subscription_id = Some(subscription.id.clone());
            normalized.subscription = Some(subscription);
        }
        "invoice.paid" | "invoice.payment_failed" => {
            normalized.kind = if kind == "invoice.paid" {
                EventKind::PaymentSucceeded
            } else {
                EventKind::PaymentFailed
            };
            // Newer Stripe API versions moved the subscription under `parent`.
            normalized.subscription_id = id_of(object.get("subscription"))
                .or_else(|| id_of(object.pointer("/parent/subscription_details/subscription")));
        }
        other => {
            return Ok(WebhookOutcome::Ignored(format!(
                "event type `{other}` changes nothing for Ava"
            )));
        }
    }
    Ok(WebhookOutcome::Event(normalized))
}

/// A subscription object of an event.
fn subscription(object: &Value) -> Result<Subscription, PluginError> {
    let first_item = object.pointer("/items/data/0");
    let period_end = object
        .get("current_period_end")
        .and_then(Value::as_u64)
        .or_else(|| {
            first_item
                .and_then(|i| i.get("current_period_end"))
                .and_then(Value::as_u64)
        });
    Ok(Subscription {
        id: required_str(object, "id")?.to_string(),
        customer_id: id_of(object.get("customer"))
            .ok_or_else(|| PluginError::invalid_input("subscription without customer"))?,
        user_id: metadata_user(object),
        status: SubscriptionStatus::from_stripe(required_str(object, "status")?)?,
        current_period_end_ms: period_end.map(|s| s.saturating_mul(1000)),
        cancel_at_period_end: object
            .get("cancel_at_period_end")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        price_id: first_item.and_then(|i| text(i.pointer("/price/id"))),
    })
}

/// A stored subscription in the host's terms.
pub fn stored(subscription: &store::Subscription) -> Result<Subscription, PluginError> {
    Ok(Subscription {
        id: subscription.id.clone(),
        customer_id: subscription.customer_id.clone(),
        user_id: Some(subscription.user_id.clone()).filter(|u| !u.is_empty()),
        status: SubscriptionStatus::from_stripe(&subscription.status)?,
        current_period_end_ms: Some(subscription.current_period_end.saturating_mul(1000)),
        cancel_at_period_end: subscription.cancel_at_period_end,
        price_id: Some(subscription.price_id.clone()).filter(|p| !p.is_empty()),
    })
}

fn required_str<'a>(value: &'a Value, key: &str) -> Result<&'a str, PluginError> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| PluginError::invalid_input(format!("missing `{key}`")))
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An id given as a string, or as an expanded object with an `id`.
fn id_of(value: Option<&Value>) -> Option<String> {
    let value = value?;
    text(Some(value)).or_else(|| text(value.get("id")))
}

fn metadata_user(object: &Value) -> Option<String> {
    text(object.pointer("/metadata/user_id"))
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;
    use serde_json::json;

    use super::*;

    fn run(body: &Value) -> Result<WebhookOutcome, PluginError> {
        TestHost::new().run(|| normalize(body.to_string().as_bytes()))
    }

    fn event(kind: &str, object: Value) -> Value {
        json!({"id": "evt_1", "object": "event", "type": kind, "created": 1_700_000_000, "data": {"object": object}})
    }

    #[test]
    fn a_stripe_subscription_update_is_read_with_expanded_customer_and_item_period() {
        let body = event(
            "customer.subscription.updated",
            json!({
                "id": "sub_1", "object": "subscription", "customer": {"id": "cus_1"}, "status": "past_due",
                "cancel_at_period_end": true, "metadata": {"user_id": "u1"},
                "items": {"data": [{"current_period_end": 1_700_100_000, "price": {"id": "price_1"}}]},
            }),
        );
        let WebhookOutcome::Event(e) = run(&body).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(e.kind, EventKind::SubscriptionUpdated);
        assert_eq!(e.created_at_ms, 1_700_000_000_000);
        assert_eq!(
            e.subscription,
            Some(Subscription {
                id: "sub_1".into(),
                customer_id: "cus_1".into(),
                user_id: Some("u1".into()),
                status: SubscriptionStatus::PastDue,
                current_period_end_ms: Some(1_700_100_000_000),
                cancel_at_period_end: true,
                price_id: Some("price_1".into()),
            })
        );
    }

    #[test]
    fn an_unknown_status_is_invalid_input() {
        let body = event(
            "customer.subscription.deleted",
            json!({"id": "sub_1", "customer": "cus_1", "status": "sleeping"}),
        );
        assert!(matches!(run(&body), Err(PluginError::InvalidInput(m)) if m.contains("sleeping")));
    }

    #[test]
    fn the_user_comes_from_metadata_when_there_is_no_client_reference() {
        let body = event(
            "checkout.session.completed",
            json!({"id": "cs_1", "customer": "cus_1", "metadata": {"user_id": "u9"}}),
        );
        let WebhookOutcome::Event(e) = run(&body).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(e.user_id.as_deref(), Some("u9"));
        assert_eq!(e.subscription, None);
    }

    #[test]
    fn an_invoice_names_customer_and_subscription_only() {
        let body = event(
            "invoice.payment_failed",
            json!({"id": "in_1", "customer": "cus_1", "subscription": "sub_1"}),
        );
        let WebhookOutcome::Event(e) = run(&body).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(e.kind, EventKind::PaymentFailed);
        assert_eq!(
            (e.customer_id.as_deref(), e.subscription_id.as_deref()),
            (Some("cus_1"), Some("sub_1"))
        );
        assert_eq!(e.subscription, None);
    }

    #[test]
    fn events_without_their_fields_are_invalid_input() {
        for body in [
            json!({"type": "invoice.paid"}),
            json!({"id": "e", "type": "invoice.paid", "created": 1}),
            json!([1, 2]),
        ] {
            assert!(
                matches!(run(&body), Err(PluginError::InvalidInput(_))),
                "{body}"
            );
        }
    }
}
