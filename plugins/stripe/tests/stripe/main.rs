//! The plugin's behaviour through `TestHost`: the requests Stripe receives, what each of
//! Stripe's answers becomes, and how each webhook is verified and read.
//!
//! The fixtures under `tests/fixtures/` are complete Stripe objects: `api/` holds what the
//! API answers, `events/` whole webhook events, in the library's API version unless the file
//! name says otherwise.

mod check;
mod checkout;
mod metadata;
mod portal;
mod subscriptions;
mod webhooks;

use std::path::Path;

use ava_sdk::crypto;
use ava_sdk::testing::{MockResponse, RecordedRequest, TestHost};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "sk_test_51SXjzPLkdIwHu7ixKey";
pub const WEBHOOK_SECRET: &str = "whsec_2b9f6c0e8d4a1f7b3e5c9a0d";
pub const PRICE_ID: &str = "price_1SXk0aLkdIwHu7ixM2bR5tYp";
/// The TestHost's clock, in Unix seconds.
pub const NOW: u64 = 1_767_225_600;
/// The user every fixture belongs to.
pub const USER_ID: &str = "0193e5a4-7c1e-7b2a-9f00-3c4d5e6f7a8b";
pub const CUSTOMER_ID: &str = "cus_TUkZrQ2mJ8vN1x";
pub const SUBSCRIPTION_ID: &str = "sub_1SXk2fLkdIwHu7ixQ8cWmZ3a";
/// The end of the fixtures' billing period, in milliseconds.
pub const PERIOD_END_MS: u64 = 1_769_903_700_000;

/// The text of fixture `name`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fixture `name` as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// A host configured like a real deployment, with both secrets.
pub fn host() -> TestHost {
    TestHost::new()
        .config("price_id", PRICE_ID)
        .secret("secret_key", SECRET_KEY)
        .secret("webhook_secret", WEBHOOK_SECRET)
}

/// A host whose Stripe answers every request with `response`.
pub fn answering(response: MockResponse) -> TestHost {
    host().on_http(move |_| response.clone())
}

/// Stripe's error JSON.
pub fn stripe_error(status: u16, error: Value) -> MockResponse {
    MockResponse::json(status, &json!({ "error": error }))
}

/// The single request Stripe received.
pub fn only_request(host: &TestHost) -> RecordedRequest {
    let requests = host.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests[0].clone()
}

/// The headers a request to Stripe carries, names lowercased, sorted.
pub fn headers(request: &RecordedRequest) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.sort();
    headers
}

/// `(name, value)` pairs as owned strings.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `Stripe-Signature` value Stripe would send for `body` at `t`, signed with `secret`:
/// computed here from Stripe's documented scheme, not with the plugin's code.
pub fn stripe_signature(host: &TestHost, secret_name: &str, t: u64, body: &[u8]) -> String {
    let mut payload = format!("{t}.").into_bytes();
    payload.extend_from_slice(body);
    let mac = host
        .run(|| crypto::hmac_sha256(secret_name, &payload))
        .unwrap();
    format!("t={t},v1={}", crypto::to_hex(&mac))
}
