//! `check`: the key and the price verified before anyone pays.

use ava_sdk::billing::BillingProvider;
use ava_sdk::{HttpMethod, PluginError};
use stripe::Stripe;

use super::*;

fn price(active: bool, recurring: Value) -> MockResponse {
    MockResponse::json(
        200,
        &json!({
            "id": PRICE_ID,
            "object": "price",
            "active": active,
            "currency": "usd",
            "livemode": false,
            "recurring": recurring,
            "type": if recurring.is_null() { "one_time" } else { "recurring" },
            "unit_amount": 999
        }),
    )
}

fn check(host: &TestHost) -> Result<(), PluginError> {
    host.run(Stripe::check)
}

#[test]
fn an_active_recurring_price_passes_with_one_get() {
    let host = answering(price(
        true,
        json!({"interval": "month", "interval_count": 1}),
    ));
    assert_eq!(check(&host), Ok(()));
    let sent = only_request(&host);
    assert_eq!(sent.method, HttpMethod::Get);
    assert_eq!(
        sent.url,
        format!("https://api.stripe.com/v1/prices/{PRICE_ID}")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
}

#[test]
fn an_archived_or_one_time_price_fails_saying_why() {
    let archived = check(&answering(price(false, json!({"interval": "month"})))).unwrap_err();
    assert!(
        matches!(&archived, PluginError::InvalidInput(m) if m.contains("archived")),
        "{archived:?}"
    );
    let one_time = check(&answering(price(true, Value::Null))).unwrap_err();
    assert!(
        matches!(&one_time, PluginError::InvalidInput(m) if m.contains("one-time")),
        "{one_time:?}"
    );
}

#[test]
fn a_price_of_another_account_or_mode_names_the_key_to_fix() {
    let host = answering(stripe_error(
        404,
        json!({
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "price",
            "message": format!("No such price: '{PRICE_ID}'"),
        }),
    ));
    let err = check(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::InvalidInput(m) if m.contains("price_id") && m.contains(PRICE_ID)),
        "{err:?}"
    );
}

#[test]
fn a_rejected_secret_key_fails_the_check() {
    let host = answering(stripe_error(
        401,
        json!({"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}),
    ));
    assert!(matches!(check(&host), Err(PluginError::Unauthorized(_))));
}
