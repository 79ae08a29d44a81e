//! The customer portal: the exact request Stripe receives, and its failures.

use ava_sdk::billing::{BillingProvider, PortalRequest, PortalSession};
use ava_sdk::{HttpMethod, PluginError};
use stripe::Stripe;

use super::*;

const RETURN_URL: &str = "http://127.0.0.1:8080/account";

fn request(customer_id: &str) -> PortalRequest {
    PortalRequest {
        customer_id: customer_id.into(),
        return_url: RETURN_URL.into(),
    }
}

fn opened() -> MockResponse {
    MockResponse::json(200, &fixture_json("api/portal_session.json"))
}

#[test]
fn the_portal_is_opened_for_the_customer_with_the_return_url() {
    let host = answering(opened());
    let session = host
        .run(|| Stripe::create_portal(request(CUSTOMER_ID)))
        .unwrap();
    assert_eq!(
        session,
        PortalSession {
            url: "https://billing.stripe.com/p/session/test_YWNjdF8xU1hqenBMa2RJd0h1N2l4LF9UVWszYUs4cEIybll2".into()
        }
    );
    let sent = only_request(&host);
    assert_eq!(sent.method, HttpMethod::Post);
    assert_eq!(
        sent.url,
        "https://api.stripe.com/v1/billing_portal/sessions"
    );
    assert_eq!(
        sent.form(),
        pairs(&[("customer", CUSTOMER_ID), ("return_url", RETURN_URL)])
    );
    assert_eq!(
        headers(&sent),
        pairs(&[
            ("authorization", &format!("Bearer {SECRET_KEY}")),
            ("content-type", "application/x-www-form-urlencoded"),
            ("stripe-version", "2026-09-30.endive"),
        ])
    );
}

#[test]
fn an_unknown_customer_is_an_upstream_error_with_stripes_message() {
    let host = answering(stripe_error(
        400,
        json!({"type": "invalid_request_error", "code": "resource_missing", "param": "customer", "message": "No such customer: 'cus_gone'"}),
    ));
    let err = host
        .run(|| Stripe::create_portal(request("cus_gone")))
        .unwrap_err();
    assert_eq!(
        err,
        PluginError::upstream(
            Some(400),
            Some("resource_missing".into()),
            "No such customer: 'cus_gone'"
        )
    );
}

#[test]
fn a_portal_without_a_customer_is_invalid_input_and_sends_nothing() {
    let host = answering(opened());
    let result = host.run(|| Stripe::create_portal(request("")));
    assert!(
        matches!(result, Err(PluginError::InvalidInput(_))),
        "{result:?}"
    );
    assert!(host.requests().is_empty());
}
