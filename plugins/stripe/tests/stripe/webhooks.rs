//! Webhooks: Stripe's signature scheme, and each event read into the host's terms across
//! Stripe API versions.

use ava_sdk::PluginError;
use ava_sdk::billing::{
    BillingEvent, BillingProvider, EventKind, Subscription, SubscriptionStatus, WebhookOutcome,
    WebhookRequest,
};
use stripe::Stripe;

use super::*;

/// A webhook secret the endpoint no longer uses.
const ROTATED_OUT: &str = "whsec_rotated_out_1f0e";

fn webhook_host() -> TestHost {
    host().secret("rotated_out", ROTATED_OUT)
}

fn webhook(signature: Option<&str>, body: &str) -> WebhookRequest {
    WebhookRequest {
        headers: signature
            .map(|s| vec![("Stripe-Signature".to_string(), s.to_string())])
            .unwrap_or_default(),
        body: body.as_bytes().to_vec(),
        received_at_ms: NOW * 1000,
    }
}

fn handle(host: &TestHost, request: WebhookRequest) -> Result<WebhookOutcome, PluginError> {
    host.run(|| Stripe::handle_webhook(request))
}

/// `body` signed now with the endpoint's secret, handled.
fn deliver(body: &str) -> Result<WebhookOutcome, PluginError> {
    let host = webhook_host();
    let signature = stripe_signature(&host, "webhook_secret", NOW, body.as_bytes());
    handle(&host, webhook(Some(&signature), body))
}

/// The event in fixture `name`, delivered and accepted.
fn event(name: &str) -> BillingEvent {
    match deliver(&fixture(&format!("events/{name}"))) {
        Ok(WebhookOutcome::Event(event)) => event,
        other => panic!("{name}: {other:?}"),
    }
}

fn unauthorized(result: Result<WebhookOutcome, PluginError>) -> String {
    match result {
        Err(PluginError::Unauthorized(message)) => message,
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

/// The fixtures' subscription, as the host sees it, with `status`.
fn subscription(status: SubscriptionStatus, cancel_at_period_end: bool) -> Subscription {
    Subscription {
        id: SUBSCRIPTION_ID.into(),
        customer_id: CUSTOMER_ID.into(),
        user_id: Some(USER_ID.into()),
        status,
        current_period_end_ms: Some(PERIOD_END_MS),
        cancel_at_period_end,
        price_id: Some(PRICE_ID.into()),
    }
}

/// An event of the fixtures' user, customer and subscription.
fn expected(id: &str, kind: EventKind, provider_type: &str) -> BillingEvent {
    BillingEvent {
        id: id.into(),
        kind,
        provider_type: provider_type.into(),
        created_at_ms: (NOW - 10) * 1000,
        user_id: Some(USER_ID.into()),
        customer_id: Some(CUSTOMER_ID.into()),
        subscription_id: Some(SUBSCRIPTION_ID.into()),
        subscription: None,
    }
}

// Signatures.

#[test]
fn a_correctly_signed_event_is_accepted() {
    let body = fixture("events/invoice.paid.json");
    assert!(matches!(deliver(&body), Ok(WebhookOutcome::Event(_))));
}

#[test]
fn the_header_name_is_matched_case_insensitively() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let signature = stripe_signature(&host, "webhook_secret", NOW, body.as_bytes());
    let request = WebhookRequest {
        headers: vec![("stripe-signature".into(), signature)],
        ..webhook(None, &body)
    };
    assert!(matches!(
        handle(&host, request),
        Ok(WebhookOutcome::Event(_))
    ));
}

#[test]
fn a_signature_made_with_another_secret_is_unauthorized() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let signature = stripe_signature(&host, "rotated_out", NOW, body.as_bytes());
    let message = unauthorized(handle(&host, webhook(Some(&signature), &body)));
    assert!(message.contains("no v1 signature"), "{message}");
}

#[test]
fn a_tampered_body_is_unauthorized() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let signature = stripe_signature(&host, "webhook_secret", NOW, body.as_bytes());
    let tampered = body.replace(CUSTOMER_ID, "cus_attacker00000");
    unauthorized(handle(&host, webhook(Some(&signature), &tampered)));
}

#[test]
fn a_signature_301_seconds_old_is_unauthorized_and_300_is_not() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let fresh_enough = stripe_signature(&host, "webhook_secret", NOW - 300, body.as_bytes());
    assert!(handle(&host, webhook(Some(&fresh_enough), &body)).is_ok());
    let stale = stripe_signature(&host, "webhook_secret", NOW - 301, body.as_bytes());
    let message = unauthorized(handle(&host, webhook(Some(&stale), &body)));
    assert!(message.contains("tolerance"), "{message}");
}

#[test]
fn during_a_secret_rotation_one_valid_v1_among_two_is_enough() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let v1 = |secret: &str| {
        let signature = stripe_signature(&host, secret, NOW, body.as_bytes());
        signature.split_once(",v1=").unwrap().1.to_string()
    };
    let header = format!(
        "t={NOW},v1={},v1={}",
        v1("rotated_out"),
        v1("webhook_secret")
    );
    assert!(matches!(
        handle(&host, webhook(Some(&header), &body)),
        Ok(WebhookOutcome::Event(_))
    ));
}

#[test]
fn a_header_with_only_a_v0_signature_is_unauthorized() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let signature = stripe_signature(&host, "webhook_secret", NOW, body.as_bytes());
    let v0_only = signature.replace(",v1=", ",v0=");
    unauthorized(handle(&host, webhook(Some(&v0_only), &body)));
}

#[test]
fn a_v0_signature_beside_a_valid_v1_is_ignored() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let signature = stripe_signature(&host, "webhook_secret", NOW, body.as_bytes());
    let with_v0 =
        format!("{signature},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39");
    assert!(handle(&host, webhook(Some(&with_v0), &body)).is_ok());
}

#[test]
fn a_missing_header_is_unauthorized() {
    let host = webhook_host();
    let body = fixture("events/invoice.paid.json");
    let message = unauthorized(handle(&host, webhook(None, &body)));
    assert_eq!(message, "missing Stripe-Signature header");
}

// The five handled event types, in the library's API version.

#[test]
fn a_completed_checkout_names_the_user_customer_and_subscription() {
    assert_eq!(
        event("checkout.session.completed.json"),
        BillingEvent {
            id: "evt_1SXk2iLkdIwHu7ixCs0mPl3Q".into(),
            ..expected(
                "",
                EventKind::CheckoutCompleted,
                "checkout.session.completed"
            )
        }
    );
}

#[test]
fn a_paid_invoice_is_a_payment_succeeded() {
    assert_eq!(
        event("invoice.paid.json"),
        expected(
            "evt_1SXk2jLkdIwHu7ixP1bQ9vR4",
            EventKind::PaymentSucceeded,
            "invoice.paid"
        )
    );
}

#[test]
fn a_failed_invoice_payment_is_a_payment_failed() {
    assert_eq!(
        event("invoice.payment_failed.json"),
        expected(
            "evt_1SXk2kLkdIwHu7ixM5nB0cX2",
            EventKind::PaymentFailed,
            "invoice.payment_failed"
        )
    );
}

#[test]
fn a_subscription_update_carries_the_snapshot_with_the_period_from_its_item() {
    assert_eq!(
        event("customer.subscription.updated.json"),
        BillingEvent {
            subscription: Some(subscription(SubscriptionStatus::Active, true)),
            ..expected(
                "evt_1SXk3bLkdIwHu7ixR7tY2uI8",
                EventKind::SubscriptionUpdated,
                "customer.subscription.updated"
            )
        }
    );
}

#[test]
fn a_deleted_subscription_is_canceled() {
    assert_eq!(
        event("customer.subscription.deleted.json"),
        BillingEvent {
            subscription: Some(subscription(SubscriptionStatus::Canceled, false)),
            ..expected(
                "evt_1SXk3cLkdIwHu7ixF3gH6jK9",
                EventKind::SubscriptionDeleted,
                "customer.subscription.deleted"
            )
        }
    );
}

#[test]
fn other_event_types_are_ignored_with_a_reason() {
    let outcome = deliver(&fixture("events/customer.created.json")).unwrap();
    assert_eq!(
        outcome,
        WebhookOutcome::Ignored(
            "Stripe event type `customer.created` changes nothing for Ava".into()
        )
    );
}

// Other API versions.

#[test]
fn an_invoice_from_api_version_basil_names_its_subscription_under_parent() {
    assert_eq!(
        event("invoice.paid.2025-03-31.basil.json"),
        expected(
            "evt_1RBk2jLkdIwHu7ixP1bQ9vR4",
            EventKind::PaymentSucceeded,
            "invoice.paid"
        )
    );
}

#[test]
fn an_invoice_from_an_older_api_version_names_its_subscription_at_the_top() {
    let body = fixture("events/invoice.paid.2024-06-20.json");
    assert!(!body.contains("\"parent\""), "the old shape has no parent");
    assert_eq!(
        event("invoice.paid.2024-06-20.json"),
        expected(
            "evt_1PXk2jLkdIwHu7ixP1bQ9vR4",
            EventKind::PaymentSucceeded,
            "invoice.paid"
        )
    );
}

#[test]
fn a_subscription_from_an_older_api_version_has_its_period_on_the_subscription() {
    assert_eq!(
        event("customer.subscription.updated.2024-06-20.json"),
        BillingEvent {
            subscription: Some(subscription(SubscriptionStatus::PastDue, false)),
            ..expected(
                "evt_1PXk3bLkdIwHu7ixR7tY2uI8",
                EventKind::SubscriptionUpdated,
                "customer.subscription.updated"
            )
        }
    );
}

#[test]
fn a_subscription_from_an_unknown_api_version_is_still_understood() {
    assert_eq!(
        event("customer.subscription.updated.unknown-version.json"),
        BillingEvent {
            subscription: Some(subscription(SubscriptionStatus::PastDue, false)),
            ..expected(
                "evt_1ZZk3bLkdIwHu7ixR7tY2uI8",
                EventKind::SubscriptionUpdated,
                "customer.subscription.updated"
            )
        }
    );
}

#[test]
fn an_event_without_api_version_is_read_from_its_json() {
    let mut body = fixture_json("events/customer.subscription.deleted.json");
    body.as_object_mut().unwrap().remove("api_version");
    let WebhookOutcome::Event(event) = deliver(&body.to_string()).unwrap() else {
        panic!("not an event")
    };
    assert_eq!(
        event.subscription,
        Some(subscription(SubscriptionStatus::Canceled, false))
    );
}

// Signed, but not what the host can use.

#[test]
fn a_signed_body_that_is_not_an_event_is_invalid_input() {
    let customer = fixture_json("events/customer.created.json")["data"]["object"].to_string();
    for body in [
        "not json",
        "[1, 2]",
        r#"{"id": "evt_1", "type": "invoice.paid"}"#,
        &customer,
    ] {
        let result = deliver(body);
        assert!(
            matches!(result, Err(PluginError::InvalidInput(_))),
            "{body}: {result:?}"
        );
    }
}

#[test]
fn a_subscription_event_without_a_customer_is_invalid_input() {
    let mut body = fixture_json("events/customer.subscription.updated.unknown-version.json");
    body["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("customer");
    assert!(matches!(
        deliver(&body.to_string()),
        Err(PluginError::InvalidInput(m)) if m.contains("`customer`")
    ));
}

#[test]
fn a_subscription_status_the_contract_does_not_know_is_invalid_input() {
    for name in [
        "customer.subscription.updated.json",
        "customer.subscription.updated.unknown-version.json",
    ] {
        let mut body = fixture_json(&format!("events/{name}"));
        body["data"]["object"]["status"] = json!("hibernating");
        assert!(
            matches!(deliver(&body.to_string()), Err(PluginError::InvalidInput(m)) if m.contains("`hibernating`")),
            "{name}"
        );
    }
}
