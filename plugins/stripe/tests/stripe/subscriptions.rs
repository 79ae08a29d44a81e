//! Fetching a subscription's current state.

use ava_sdk::billing::{BillingProvider, Subscription, SubscriptionStatus};
use ava_sdk::{HttpMethod, PluginError};
use stripe::Stripe;

use super::*;

fn get(host: &TestHost, id: &str) -> Result<Option<Subscription>, PluginError> {
    host.run(|| Stripe::get_subscription(id.into()))
}

#[test]
fn a_known_subscription_is_normalized() {
    let host = answering(MockResponse::json(
        200,
        &fixture_json("api/subscription.json"),
    ));
    let subscription = get(&host, SUBSCRIPTION_ID).unwrap();
    assert_eq!(
        subscription,
        Some(Subscription {
            id: SUBSCRIPTION_ID.into(),
            customer_id: CUSTOMER_ID.into(),
            user_id: Some(USER_ID.into()),
            status: SubscriptionStatus::Active,
            current_period_end_ms: Some(PERIOD_END_MS),
            cancel_at_period_end: false,
            price_id: Some(PRICE_ID.into()),
        })
    );
    let sent = only_request(&host);
    assert_eq!(sent.method, HttpMethod::Get);
    assert_eq!(
        sent.url,
        format!("https://api.stripe.com/v1/subscriptions/{SUBSCRIPTION_ID}")
    );
    assert!(sent.body.is_empty());
    assert_eq!(
        headers(&sent),
        pairs(&[
            ("authorization", &format!("Bearer {SECRET_KEY}")),
            ("stripe-version", "2026-09-30.endive"),
        ])
    );
}

#[test]
fn a_subscription_stripe_does_not_know_is_none() {
    let host = answering(stripe_error(
        404,
        json!({
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "id",
            "message": "No such subscription: 'sub_gone'",
        }),
    ));
    assert_eq!(get(&host, "sub_gone"), Ok(None));
}

#[test]
fn other_failures_are_errors_not_none() {
    let host = answering(stripe_error(
        401,
        json!({"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_***"}),
    ));
    assert!(matches!(
        get(&host, SUBSCRIPTION_ID),
        Err(PluginError::Unauthorized(_))
    ));
}

#[test]
fn an_id_that_would_change_the_path_is_refused_before_sending() {
    let host = answering(MockResponse::json(
        200,
        &fixture_json("api/subscription.json"),
    ));
    for id in [
        "",
        "sub_1/../../customers",
        "sub_1?expand[]=customer",
        "sub 1",
    ] {
        assert!(
            matches!(get(&host, id), Err(PluginError::InvalidInput(_))),
            "{id:?}"
        );
    }
    assert!(host.requests().is_empty());
}
