//! Reading an event of any API version field by field, from the places each field has had.

use ava_sdk::PluginError;
use ava_sdk::billing::{EventKind, Subscription, SubscriptionStatus};
use serde_json::Value;

use super::{Details, present, seconds_to_ms};
use crate::metadata;

/// The details of an event of `kind` about `object` (its `data.object`).
pub fn read(kind: EventKind, object: &Value) -> Result<Details, PluginError> {
    Ok(match kind {
        EventKind::CheckoutCompleted => Details {
            user_id: text(object.get("client_reference_id")).or_else(|| user_id(object)),
            customer_id: id_of(object.get("customer")),
            subscription_id: id_of(object.get("subscription")),
            subscription: None,
        },
        EventKind::PaymentSucceeded | EventKind::PaymentFailed => invoice(object),
        EventKind::SubscriptionUpdated | EventKind::SubscriptionDeleted => {
            let s = subscription(object)?;
            Details {
                user_id: s.user_id.clone(),
                customer_id: Some(s.customer_id.clone()),
                subscription_id: Some(s.id.clone()),
                subscription: Some(s),
            }
        }
    })
}

/// An invoice names its subscription at `subscription` up to API version 2025-02-24 and at
/// `parent.subscription_details.subscription` from 2025-03-31 on; the subscription's
/// metadata (with the user id) is copied to `subscription_details` or under `parent`.
fn invoice(object: &Value) -> Details {
    let parent = object.pointer("/parent/subscription_details");
    let legacy = object.get("subscription_details");
    Details {
        user_id: [parent, legacy].into_iter().flatten().find_map(user_id),
        customer_id: id_of(object.get("customer")),
        subscription_id: parent
            .and_then(|p| id_of(p.get("subscription")))
            .or_else(|| id_of(object.get("subscription"))),
        subscription: None,
    }
}

/// A subscription object. Its id, customer and status are what the host cannot do without.
fn subscription(object: &Value) -> Result<Subscription, PluginError> {
    let required = |key: &str| {
        text(object.get(key))
            .ok_or_else(|| PluginError::invalid_input(format!("subscription without `{key}`")))
    };
    let first_item = object.pointer("/items/data/0");
    // On the first item since API version 2025-03-31, on the subscription before.
    let period_end = first_item
        .and_then(|i| i.get("current_period_end"))
        .or_else(|| object.get("current_period_end"))
        .and_then(Value::as_i64)
        .and_then(seconds_to_ms);
    Ok(Subscription {
        id: required("id")?,
        customer_id: id_of(object.get("customer"))
            .ok_or_else(|| PluginError::invalid_input("subscription without `customer`"))?,
        user_id: user_id(object),
        status: SubscriptionStatus::from_stripe(&required("status")?)?,
        current_period_end_ms: period_end,
        cancel_at_period_end: object
            .get("cancel_at_period_end")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        price_id: first_item.and_then(|i| id_of(i.get("price"))),
    })
}

fn text(value: Option<&Value>) -> Option<String> {
    present(value.and_then(Value::as_str))
}

/// An id given as a string, or as an expanded object with an `id`.
fn id_of(value: Option<&Value>) -> Option<String> {
    let value = value?;
    text(Some(value)).or_else(|| text(value.get("id")))
}

/// The user id in `object`'s metadata.
fn user_id(object: &Value) -> Option<String> {
    text(
        object
            .get("metadata")
            .and_then(|m| m.get(metadata::USER_ID)),
    )
}
