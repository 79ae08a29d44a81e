//! {{name}} through the SDK's stand-in host: what it sends the provider, and which webhooks
//! it believes.

use ava_sdk::billing::{
    BillingProvider, CheckoutRequest, EventKind, PortalRequest, WebhookOutcome, WebhookRequest,
};
use ava_sdk::testing::{MockResponse, TestHost};
use ava_sdk::{PluginError, crypto};
use serde_json::json;
use {{crate}}::{{type}};

fn host() -> TestHost {
    TestHost::new()
        .config("api_base", "https://api.example.test")
        .secret("api_key", "sk_test_123")
        .secret("webhook_secret", "whsec_123")
}

fn webhook(host: &TestHost, body: &str, sign: bool) -> Result<WebhookOutcome, PluginError> {
    let signature = if sign {
        let mac = host.run(|| crypto::hmac_sha256("webhook_secret", body.as_bytes()));
        crypto::to_hex(&mac.unwrap())
    } else {
        "00".repeat(32)
    };
    host.run(|| {
        {{type}}::handle_webhook(WebhookRequest {
            headers: vec![("X-Signature".into(), signature)],
            body: body.as_bytes().to_vec(),
            received_at_ms: 1_000,
        })
    })
}

#[test]
fn a_checkout_is_created_at_the_provider() {
    let created = json!({"id": "cs_1", "url": "https://pay.example.test/cs_1"});
    let host = host().on_http(move |_| MockResponse::json(200, &created));
    let session = host
        .run(|| {
            {{type}}::create_checkout(CheckoutRequest {
                user_id: "user-1".into(),
                email: "user@example.com".into(),
                customer_id: None,
                success_url: "https://ava.example/ok".into(),
                cancel_url: "https://ava.example/cancel".into(),
                idempotency_key: "key-1".into(),
            })
        })
        .unwrap();
    assert_eq!(session.url, "https://pay.example.test/cs_1");
    let sent = &host.requests()[0];
    assert_eq!(sent.url, "https://api.example.test/checkout/sessions");
    assert_eq!(sent.header("authorization"), Some("Bearer sk_test_123"));
    assert_eq!(sent.header("idempotency-key"), Some("key-1"));
    assert_eq!(sent.json()["user_id"], "user-1");
}

#[test]
fn a_portal_is_opened_for_the_customer() {
    let opened = json!({"url": "https://pay.example.test/p"});
    let host = host().on_http(move |_| MockResponse::json(200, &opened));
    let portal = host
        .run(|| {
            {{type}}::create_portal(PortalRequest {
                customer_id: "cus_1".into(),
                return_url: "https://ava.example/account".into(),
            })
        })
        .unwrap();
    assert_eq!(portal.url, "https://pay.example.test/p");
    assert_eq!(host.requests()[0].json()["customer_id"], "cus_1");
}

#[test]
fn a_signed_webhook_becomes_an_event() {
    let body = r#"{"id": "evt_1", "type": "payment.succeeded", "user_id": "user-1"}"#;
    let WebhookOutcome::Event(event) = webhook(&host(), body, true).unwrap() else {
        panic!("expected an event");
    };
    assert_eq!(event.id, "evt_1");
    assert_eq!(event.kind, EventKind::PaymentSucceeded);
    assert_eq!(event.user_id.as_deref(), Some("user-1"));
    assert_eq!(event.created_at_ms, 1_000);
}

#[test]
fn a_forged_webhook_is_unauthorized() {
    let body = r#"{"id": "evt_1", "type": "payment.succeeded"}"#;
    let err = webhook(&host(), body, false).unwrap_err();
    assert!(matches!(err, PluginError::Unauthorized(_)), "{err:?}");
}

#[test]
fn an_unknown_event_type_is_ignored() {
    let body = r#"{"id": "evt_2", "type": "customer.created"}"#;
    assert!(matches!(
        webhook(&host(), body, true).unwrap(),
        WebhookOutcome::Ignored(_)
    ));
}
