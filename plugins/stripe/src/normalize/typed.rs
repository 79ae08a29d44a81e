//! Reading an event in the library's own API version through async-stripe's typed event.

use std::collections::HashMap;

use ava_sdk::PluginError;
use ava_sdk::billing::{Subscription, SubscriptionStatus};
use stripe_shared::{CheckoutSession, Invoice};
use stripe_webhook::{EventObject, Webhook};

use super::{Details, present, seconds_to_ms};
use crate::metadata;

/// The details of the event in `body`, or `None` when the typed event cannot hold it (the
/// caller then reads the JSON).
pub fn read(body: &[u8]) -> Option<Result<Details, PluginError>> {
    let text = std::str::from_utf8(body).ok()?;
    // The library's own check needs the signing secret in the plugin's memory; the host's
    // HMAC has already verified this body, so only its parser is used here.
    let event = Webhook::insecure(text).ok()?;
    match event.data.object {
        EventObject::CheckoutSessionCompleted(session) => Some(Ok(checkout(&session))),
        EventObject::InvoicePaid(invoice) | EventObject::InvoicePaymentFailed(invoice) => {
            Some(Ok(invoice_details(&invoice)))
        }
        EventObject::CustomerSubscriptionUpdated(subscription)
        | EventObject::CustomerSubscriptionDeleted(subscription) => {
            Some(self::subscription(&subscription).map(|s| Details {
                user_id: s.user_id.clone(),
                customer_id: Some(s.customer_id.clone()),
                subscription_id: Some(s.id.clone()),
                subscription: Some(s),
            }))
        }
        _ => None,
    }
}

/// A subscription as the host sees it.
pub fn subscription(s: &stripe_shared::Subscription) -> Result<Subscription, PluginError> {
    // Since API version 2025-03-31 the billing period lives on each item.
    let first_item = s.items.data.first();
    Ok(Subscription {
        id: s.id.to_string(),
        customer_id: s.customer.id().to_string(),
        user_id: user_id(Some(&s.metadata)),
        status: SubscriptionStatus::from_stripe(s.status.as_str())?,
        current_period_end_ms: first_item.and_then(|i| seconds_to_ms(i.current_period_end)),
        cancel_at_period_end: s.cancel_at_period_end,
        price_id: first_item.map(|i| i.price.id.to_string()),
    })
}

fn checkout(session: &CheckoutSession) -> Details {
    Details {
        user_id: present(session.client_reference_id.as_deref())
            .or_else(|| user_id(session.metadata.as_ref())),
        customer_id: session.customer.as_ref().map(|c| c.id().to_string()),
        subscription_id: session.subscription.as_ref().map(|s| s.id().to_string()),
        subscription: None,
    }
}

fn invoice_details(invoice: &Invoice) -> Details {
    let parent = invoice
        .parent
        .as_ref()
        .and_then(|p| p.subscription_details.as_ref());
    Details {
        user_id: parent.and_then(|p| user_id(p.metadata.as_ref())),
        customer_id: invoice.customer.as_ref().map(|c| c.id().to_string()),
        subscription_id: parent
            .map(|p| p.subscription.id().to_string())
            .or_else(|| invoice.subscription.as_ref().map(|s| s.id().to_string())),
        subscription: None,
    }
}

fn user_id(metadata: Option<&HashMap<String, String>>) -> Option<String> {
    present(metadata?.get(metadata::USER_ID).map(String::as_str))
}
