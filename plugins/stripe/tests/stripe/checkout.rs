//! Checkout: the exact request Stripe receives, and what each answer becomes.

use ava_sdk::billing::{BillingProvider, CheckoutRequest, CheckoutSession};
use ava_sdk::{HttpError, HttpMethod, PluginError};
use stripe::Stripe;

use super::*;

const SUCCESS_URL: &str = "http://127.0.0.1:8080/billing/success?session_id={CHECKOUT_SESSION_ID}";
const CANCEL_URL: &str = "http://127.0.0.1:8080/billing/cancel";
const KEY: &str = "checkout-0193e5a4-1";

fn request(customer_id: Option<&str>) -> CheckoutRequest {
    CheckoutRequest {
        user_id: USER_ID.into(),
        email: "sam@example.test".into(),
        customer_id: customer_id.map(Into::into),
        success_url: SUCCESS_URL.into(),
        cancel_url: CANCEL_URL.into(),
        idempotency_key: KEY.into(),
    }
}

fn created() -> MockResponse {
    MockResponse::json(200, &fixture_json("api/checkout_session.json"))
}

fn checkout(host: &TestHost, request: CheckoutRequest) -> Result<CheckoutSession, PluginError> {
    host.run(|| Stripe::create_checkout(request))
}

fn checkout_error(response: MockResponse) -> PluginError {
    checkout(&answering(response), request(None)).unwrap_err()
}

/// The form every checkout sends, with `who` identifying the customer.
fn expected_form(who: (&str, &str)) -> Vec<(String, String)> {
    pairs(&[
        ("cancel_url", CANCEL_URL),
        ("client_reference_id", USER_ID),
        who,
        ("line_items[0][price]", PRICE_ID),
        ("line_items[0][quantity]", "1"),
        ("metadata[user_id]", USER_ID),
        ("mode", "subscription"),
        ("subscription_data[metadata][user_id]", USER_ID),
        ("success_url", SUCCESS_URL),
    ])
}

#[test]
fn a_new_customer_checks_out_with_their_email() {
    let host = answering(created());
    let session = checkout(&host, request(None)).unwrap();
    let sent = only_request(&host);
    assert_eq!(sent.method, HttpMethod::Post);
    assert_eq!(sent.url, "https://api.stripe.com/v1/checkout/sessions");
    assert_eq!(
        sent.form(),
        expected_form(("customer_email", "sam@example.test"))
    );
    assert_eq!(
        session,
        CheckoutSession {
            id: "cs_test_b1Xy7Qm2kLp9sT4vN8wR3zC6dF0gH5jK2mN7pQ1rS4tV9wX".into(),
            url: "https://checkout.stripe.com/c/pay/cs_test_b1Xy7Qm2kLp9sT4vN8wR3zC6dF0gH5jK2mN7pQ1rS4tV9wX#fidkdWxOYHwnPyd1blpxYHZxWjA0VH1hSDFsa1Jtc2RmR0JKQm9sfz1OVmxpQmRDNTVxYDVBVGFGRGI".into(),
            customer_id: None,
        }
    );
}

#[test]
fn a_returning_customer_checks_out_as_that_customer() {
    let mut answer = fixture_json("api/checkout_session.json");
    answer["customer"] = json!(CUSTOMER_ID);
    let host = answering(MockResponse::json(200, &answer));
    let session = checkout(&host, request(Some(CUSTOMER_ID))).unwrap();
    assert_eq!(
        only_request(&host).form(),
        expected_form(("customer", CUSTOMER_ID))
    );
    assert_eq!(session.customer_id.as_deref(), Some(CUSTOMER_ID));
}

#[test]
fn a_blank_customer_id_counts_as_none() {
    let host = answering(created());
    checkout(&host, request(Some("  "))).unwrap();
    assert_eq!(
        only_request(&host).form(),
        expected_form(("customer_email", "sam@example.test"))
    );
}

#[test]
fn the_request_carries_the_key_the_version_and_the_idempotency_key() {
    let host = answering(created());
    checkout(&host, request(None)).unwrap();
    assert_eq!(
        headers(&only_request(&host)),
        pairs(&[
            ("authorization", &format!("Bearer {SECRET_KEY}")),
            ("content-type", "application/x-www-form-urlencoded"),
            ("idempotency-key", KEY),
            ("stripe-version", "2026-09-30.endive"),
        ])
    );
}

#[test]
fn the_plugin_only_ever_holds_a_placeholder_for_the_key() {
    // Without the secret the host refuses to send: the plugin asked for it by name.
    let host = TestHost::new()
        .config("price_id", PRICE_ID)
        .on_http(|_| created());
    let err = checkout(&host, request(None)).unwrap_err();
    assert!(
        matches!(&err, PluginError::Internal(m) if m.contains("secret `secret_key`")),
        "{err:?}"
    );
    assert!(host.requests().is_empty());
}

#[test]
fn the_api_base_is_configurable() {
    let host = answering(created()).config("api_base", "http://127.0.0.1:12111/");
    checkout(&host, request(None)).unwrap();
    assert_eq!(
        only_request(&host).url,
        "http://127.0.0.1:12111/v1/checkout/sessions"
    );
}

#[test]
fn an_empty_idempotency_key_sends_none() {
    let host = answering(created());
    let request = CheckoutRequest {
        idempotency_key: String::new(),
        ..request(None)
    };
    checkout(&host, request).unwrap();
    assert_eq!(only_request(&host).header("idempotency-key"), None);
}

#[test]
fn an_idempotency_key_stripe_would_refuse_is_invalid_input() {
    let host = answering(created());
    let request = CheckoutRequest {
        idempotency_key: "k".repeat(256),
        ..request(None)
    };
    assert!(matches!(
        checkout(&host, request),
        Err(PluginError::InvalidInput(m)) if m.contains("idempotency key")
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn a_checkout_without_a_user_is_invalid_input_and_sends_nothing() {
    let host = answering(created());
    let request = CheckoutRequest {
        user_id: " ".into(),
        ..request(None)
    };
    assert!(matches!(
        checkout(&host, request),
        Err(PluginError::InvalidInput(_))
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn a_declined_card_is_an_upstream_error_with_stripes_message() {
    let err = checkout_error(stripe_error(
        402,
        json!({
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
            "param": "",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_Q3mV8kX2pLz7Tn?t=1767225600"
        }),
    ));
    assert_eq!(
        err,
        PluginError::upstream(
            Some(402),
            Some("card_declined".into()),
            "Your card has insufficient funds."
        )
    );
}

#[test]
fn an_unknown_price_is_an_upstream_error_naming_it() {
    let err = checkout_error(stripe_error(
        400,
        json!({
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such price: 'price_1SXk0aLkdIwHu7ixM2bR5tYp'",
            "param": "line_items[0][price]",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_Z1nB4vC7xM2kLq?t=1767225600"
        }),
    ));
    assert_eq!(
        err,
        PluginError::upstream(
            Some(400),
            Some("resource_missing".into()),
            "No such price: 'price_1SXk0aLkdIwHu7ixM2bR5tYp'"
        )
    );
}

#[test]
fn a_rejected_key_is_unauthorized_with_stripes_message() {
    let err = checkout_error(stripe_error(
        401,
        json!({
            "type": "invalid_request_error",
            "message": "Invalid API Key provided: sk_test_********************Key"
        }),
    ));
    assert_eq!(
        err,
        PluginError::unauthorized("Invalid API Key provided: sk_test_********************Key")
    );
}

#[test]
fn a_rate_limit_without_retry_after_is_unavailable() {
    let err = checkout_error(stripe_error(
        429,
        json!({
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."
        }),
    ));
    assert_eq!(
        err,
        PluginError::unavailable(
            "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
            None
        )
    );
}

#[test]
fn a_rate_limit_with_retry_after_is_unavailable_for_that_long() {
    let err = checkout_error(
        stripe_error(
            429,
            json!({"type": "invalid_request_error", "code": "lock_timeout", "message": "This object cannot be accessed right now because another API request or Stripe process is currently accessing it."}),
        )
        .header("Retry-After", "2"),
    );
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.retry_after_ms == Some(2_000) && u.message.starts_with("This object cannot be accessed")),
        "{err:?}"
    );
}

#[test]
fn a_stripe_outage_is_unavailable() {
    let err = checkout_error(stripe_error(
        500,
        json!({"type": "api_error", "message": "An unknown error occurred"}),
    ));
    assert_eq!(
        err,
        PluginError::unavailable("An unknown error occurred", None)
    );
    assert!(err.is_retryable());
}

#[test]
fn timeouts_and_connection_failures_are_unavailable() {
    for failure in [HttpError::Timeout, HttpError::Connection("reset".into())] {
        let err = checkout_error(MockResponse::fail(failure.clone()));
        assert!(
            matches!(err, PluginError::Unavailable(_)),
            "{failure:?}: {err:?}"
        );
    }
}

#[test]
fn a_malformed_success_body_is_a_clear_upstream_error() {
    for body in [
        "<html>Bad Gateway</html>",
        r#"{"id": "cs_1", "object": "checkout.session"}"#,
    ] {
        let err = checkout_error(MockResponse::new(200, body));
        assert!(
            matches!(&err, PluginError::Upstream(u) if u.message.starts_with("Stripe's response could not be read")),
            "{body}: {err:?}"
        );
    }
}

#[test]
fn a_session_without_a_url_is_an_upstream_error() {
    let mut answer = fixture_json("api/checkout_session.json");
    answer["url"] = Value::Null;
    let err = checkout_error(MockResponse::json(200, &answer));
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("without a URL")),
        "{err:?}"
    );
}
