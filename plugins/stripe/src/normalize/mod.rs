//! A verified webhook body turned into the host's normalized `BillingEvent`.
//!
//! Stripe renders each event's object in the API version of the account (or of the webhook
//! endpoint) at the time, not in the version this plugin was built with. An event in the
//! library's version is read through async-stripe's typed event; any other version, or a
//! body the typed event cannot hold (a field renamed, a new required field missing), is read
//! field by field from the JSON, with the places each field has had across versions. So a
//! verified event is never refused for its version, only for lacking what the host needs.

mod json;
mod typed;

use ava_sdk::PluginError;
use ava_sdk::billing::{BillingEvent, EventKind, Subscription, WebhookOutcome};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use typed::subscription as typed_subscription;

/// What the event says about whose subscription it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription: Option<Subscription>,
}

/// Which reader understood an event; the logs say it, and the tests check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Typed,
    Json,
}

/// The outer event object, common to every version.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    object: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    created: u64,
    api_version: Option<String>,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Map<String, Value>,
}

/// The outcome of the verified event in `body`.
pub fn event(body: &[u8]) -> Result<WebhookOutcome, PluginError> {
    read(body).map(|(outcome, _)| outcome)
}

/// The outcome of the verified event in `body`, and which reader understood it.
pub fn read(body: &[u8]) -> Result<(WebhookOutcome, Option<Reader>), PluginError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|err| {
        PluginError::invalid_input(format!("the body is not a Stripe event: {err}"))
    })?;
    if envelope.object.as_deref().is_some_and(|o| o != "event") {
        return Err(PluginError::invalid_input(format!(
            "the body is a Stripe `{}`, not an event",
            envelope.object.unwrap_or_default()
        )));
    }
    let Some(kind) = handled(&envelope.kind) else {
        return Ok((
            WebhookOutcome::Ignored(format!(
                "Stripe event type `{}` changes nothing for Ava",
                envelope.kind
            )),
            None,
        ));
    };
    let object = Value::Object(envelope.data.object);
    let library_version = stripe_client_core::VERSION.as_str();
    let typed = match envelope.api_version.as_deref() {
        Some(version) if version == library_version => typed::read(body),
        _ => None,
    };
    let (details, reader) = match typed {
        Some(details) => (details?, Reader::Typed),
        None => (json::read(kind, &object)?, Reader::Json),
    };
    ava_sdk::debug!(
        "read {} {} (API version {}) with the {reader:?} reader",
        envelope.kind,
        envelope.id,
        envelope.api_version.as_deref().unwrap_or("unknown"),
    );
    let event = BillingEvent {
        id: envelope.id,
        kind,
        provider_type: envelope.kind,
        created_at_ms: envelope.created.saturating_mul(1000),
        user_id: details.user_id,
        customer_id: details.customer_id,
        subscription_id: details.subscription_id,
        subscription: details.subscription,
    };
    Ok((WebhookOutcome::Event(event), Some(reader)))
}

/// The host's kind of a Stripe event type this plugin handles.
fn handled(kind: &str) -> Option<EventKind> {
    Some(match kind {
        "checkout.session.completed" => EventKind::CheckoutCompleted,
        "invoice.paid" => EventKind::PaymentSucceeded,
        "invoice.payment_failed" => EventKind::PaymentFailed,
        "customer.subscription.updated" => EventKind::SubscriptionUpdated,
        "customer.subscription.deleted" => EventKind::SubscriptionDeleted,
        _ => return None,
    })
}

/// Unix seconds as milliseconds; Stripe never sends negative times, and one that did would
/// mean nothing here.
fn seconds_to_ms(seconds: i64) -> Option<u64> {
    u64::try_from(seconds).ok().map(|s| s.saturating_mul(1000))
}

/// A non-empty string.
fn present(value: Option<&str>) -> Option<String> {
    value.filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;

    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/events/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn reader_of(name: &str) -> Option<Reader> {
        TestHost::new()
            .run(|| read(fixture(name).as_bytes()))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
            .1
    }

    const CURRENT: [&str; 5] = [
        "checkout.session.completed.json",
        "invoice.paid.json",
        "invoice.payment_failed.json",
        "customer.subscription.updated.json",
        "customer.subscription.deleted.json",
    ];

    #[test]
    fn the_current_fixtures_are_in_the_librarys_api_version() {
        for name in CURRENT {
            let event: Value = serde_json::from_str(&fixture(name)).unwrap();
            assert_eq!(
                event["api_version"],
                stripe_client_core::VERSION.as_str(),
                "{name}: update the fixtures with the library"
            );
        }
    }

    #[test]
    fn events_in_the_librarys_version_are_read_through_the_typed_event() {
        for name in CURRENT {
            assert_eq!(reader_of(name), Some(Reader::Typed), "{name}");
        }
    }

    #[test]
    fn events_in_other_versions_are_read_from_the_json() {
        for name in [
            "invoice.paid.2025-03-31.basil.json",
            "invoice.paid.2024-06-20.json",
            "customer.subscription.updated.2024-06-20.json",
            "customer.subscription.updated.unknown-version.json",
        ] {
            assert_eq!(reader_of(name), Some(Reader::Json), "{name}");
        }
    }

    #[test]
    fn an_event_the_typed_event_cannot_hold_falls_back_to_the_json() {
        // In the library's version, but without a field the library requires.
        let mut event: Value =
            serde_json::from_str(&fixture("customer.subscription.updated.json")).unwrap();
        event["data"]["object"]
            .as_object_mut()
            .unwrap()
            .remove("billing_mode");
        let body = event.to_string();
        let (outcome, reader) = TestHost::new().run(|| read(body.as_bytes())).unwrap();
        assert_eq!(reader, Some(Reader::Json));
        assert!(matches!(outcome, WebhookOutcome::Event(e) if e.subscription.is_some()));
    }

    #[test]
    fn the_typed_and_json_readers_agree_on_the_current_fixtures() {
        for name in CURRENT {
            let body = fixture(name);
            let typed = typed::read(body.as_bytes())
                .expect("the typed event holds it")
                .unwrap();
            let envelope: Envelope = serde_json::from_str(&body).unwrap();
            let kind = handled(&envelope.kind).unwrap();
            let json = json::read(kind, &Value::Object(envelope.data.object)).unwrap();
            assert_eq!(typed, json, "{name}");
            assert!(
                typed.user_id.is_some() && typed.subscription_id.is_some(),
                "{name}"
            );
        }
    }
}
