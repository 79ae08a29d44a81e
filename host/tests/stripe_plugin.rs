//! The `stripe` plugin, compiled and running in the host, against a local server that speaks
//! the Stripe API paths it uses: the exact requests Stripe receives (with the secret key the
//! host injects), what Stripe's error JSON becomes, and webhooks signed with the generated
//! webhook secret. The Stripe objects are the plugin's own fixtures.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use ava_host::plugins::types::{
    BillingEvent, CheckoutRequest, EventKind, PluginError, PortalRequest, Subscription,
    SubscriptionStatus, Unavailable, UpstreamFailure, WebhookOutcome, WebhookRequest,
};
use ava_host::plugins::{Billing, CallError};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{LocalServer, TestHost};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

const CHECKOUT_SESSION: &str =
    include_str!("../../plugins/stripe/tests/fixtures/api/checkout_session.json");
const PORTAL_SESSION: &str =
    include_str!("../../plugins/stripe/tests/fixtures/api/portal_session.json");
const SUBSCRIPTION: &str =
    include_str!("../../plugins/stripe/tests/fixtures/api/subscription.json");
const SUBSCRIPTION_UPDATED: &str =
    include_str!("../../plugins/stripe/tests/fixtures/events/customer.subscription.updated.json");

const PRICE_ID: &str = "price_123";
const USER_ID: &str = "0193e5a4-7c1e-7b2a-9f00-3c4d5e6f7a8b";
const CUSTOMER_ID: &str = "cus_TUkZrQ2mJ8vN1x";
const SUBSCRIPTION_ID: &str = "sub_1SXk2fLkdIwHu7ixQ8cWmZ3a";
const SUCCESS_URL: &str = "http://127.0.0.1:8080/billing/success?session_id={CHECKOUT_SESSION_ID}";
const CANCEL_URL: &str = "http://127.0.0.1:8080/billing/cancel";

/// What the fake Stripe answers next.
#[derive(Clone, Copy, Default)]
enum Answer {
    #[default]
    Success,
    CardDeclined,
    InvalidPrice,
    BadKey,
    RateLimited,
    NoSuchSubscription,
}

/// A request as the fake Stripe received it.
#[derive(Clone, Debug)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

#[derive(Clone, Default)]
struct FakeStripe {
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
}

fn stripe_error(status: StatusCode, error: Value) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

/// Every route records the request, then answers with the fixture of its path or with the
/// error set for the test, shaped as Stripe shapes it.
async fn answer(
    State(stripe): State<FakeStripe>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_string();
    stripe.received.lock().unwrap().push(Received {
        method,
        path: path.clone(),
        headers,
        body,
    });
    let answer = *stripe.answer.lock().unwrap();
    match answer {
        Answer::Success => {
            let fixture = match path.as_str() {
                "/v1/checkout/sessions" => CHECKOUT_SESSION,
                "/v1/billing_portal/sessions" => PORTAL_SESSION,
                _ => SUBSCRIPTION,
            };
            ([("content-type", "application/json")], fixture).into_response()
        }
        Answer::CardDeclined => stripe_error(
            StatusCode::PAYMENT_REQUIRED,
            json!({
                "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                "message": "Your card was declined.", "param": "",
                "doc_url": "https://stripe.com/docs/error-codes/card-declined"
            }),
        ),
        Answer::InvalidPrice => stripe_error(
            StatusCode::BAD_REQUEST,
            json!({
                "type": "invalid_request_error", "code": "resource_missing",
                "message": "No such price: 'price_123'", "param": "line_items[0][price]",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing"
            }),
        ),
        Answer::BadKey => stripe_error(
            StatusCode::UNAUTHORIZED,
            json!({
                "type": "invalid_request_error",
                "message": "Invalid API Key provided: gen_****************************"
            }),
        ),
        Answer::RateLimited => stripe_error(
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "type": "invalid_request_error", "code": "rate_limit",
                "message": "Too many requests hit the API too quickly."
            }),
        ),
        Answer::NoSuchSubscription => stripe_error(
            StatusCode::NOT_FOUND,
            json!({
                "type": "invalid_request_error", "code": "resource_missing", "param": "id",
                "message": "No such subscription: 'sub_gone'"
            }),
        ),
    }
}

struct Setup {
    host: TestHost,
    stripe: FakeStripe,
    _server: LocalServer,
}

async fn setup() -> Setup {
    let stripe = FakeStripe::default();
    let server = LocalServer::start(
        Router::new()
            .route("/v1/checkout/sessions", post(answer))
            .route("/v1/billing_portal/sessions", post(answer))
            .route("/v1/subscriptions/{id}", get(answer))
            .with_state(stripe.clone()),
    )
    .await;
    let config = format!(
        r#"
        [plugin.stripe]
        path = "{{plugins}}/stripe.wasm"
        allow_hosts = ["http://{addr}"]
        limits = {{ timeout_ms = 5000 }}
        config = {{ api_base = "http://{addr}", price_id = "{PRICE_ID}", secret_key = {{ generate = true }}, webhook_secret = {{ generate = true }} }}
        "#,
        addr = server.addr
    );
    // The runtime and registry alone, with the compile cache shared by the test processes:
    // the plugin's component is large, and compiling it once per test would dominate the run.
    let host = TestHost::start(&config, &[]).await;
    Setup {
        host,
        stripe,
        _server: server,
    }
}

impl Setup {
    fn billing(&self) -> Billing {
        self.host
            .registry
            .current()
            .billing_named("stripe")
            .unwrap()
    }

    fn answer(&self, answer: Answer) {
        *self.stripe.answer.lock().unwrap() = answer;
    }

    fn received(&self) -> Vec<Received> {
        self.stripe.received.lock().unwrap().clone()
    }

    /// The secret `name` the host generated for the plugin.
    fn secret(&self, name: &str) -> String {
        let path = self.host.dir.path().join(format!("secrets/stripe.{name}"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_string()
    }
}

fn checkout_request(customer_id: Option<&str>) -> CheckoutRequest {
    CheckoutRequest {
        user_id: USER_ID.into(),
        email: "sam@example.test".into(),
        customer_id: customer_id.map(Into::into),
        success_url: SUCCESS_URL.into(),
        cancel_url: CANCEL_URL.into(),
        idempotency_key: "checkout-attempt-1".into(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn checkout_form(who: (&str, &str)) -> Vec<(String, String)> {
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

/// Asserts `actual` is `expected`. The host's generated records have no `PartialEq`; their
/// `Debug` shows every field, so equal output means equal values.
#[track_caller]
fn assert_same<T: std::fmt::Debug>(actual: &T, expected: &T) {
    assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"));
}

/// The plugin's own error inside a call error.
fn plugin_error(result: Result<impl std::fmt::Debug, CallError>) -> PluginError {
    match result {
        Err(CallError::Plugin { error, .. }) => error,
        other => panic!("expected the plugin's error, got {other:?}"),
    }
}

/// The error of a checkout that Stripe refuses.
async fn failed_checkout(billing: &Billing) -> PluginError {
    plugin_error(billing.create_checkout(&checkout_request(None)).await)
}

/// The `Stripe-Signature` value for `body` at `t`, signed as Stripe signs: HMAC-SHA256 keyed
/// with the whole secret, over `"<t>.<body>"`.
fn stripe_signature(secret: &str, t: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn webhook(signature: String, body: &str) -> WebhookRequest {
    WebhookRequest {
        headers: vec![("stripe-signature".into(), signature)],
        body: body.as_bytes().to_vec(),
        received_at_ms: now_secs() * 1000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_sends_stripe_the_exact_form_with_the_injected_key() {
    let s = setup().await;
    let session = s
        .billing()
        .create_checkout(&checkout_request(None))
        .await
        .unwrap();
    assert!(session.id.starts_with("cs_test_"), "{session:?}");
    assert!(
        session
            .url
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_"),
        "{session:?}"
    );
    assert_eq!(session.customer_id, None);

    let received = s.received();
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(
        (&sent.method, sent.path.as_str()),
        (&Method::POST, "/v1/checkout/sessions")
    );
    assert_eq!(
        sent.form(),
        checkout_form(("customer_email", "sam@example.test"))
    );
    let key = s.secret("secret_key");
    assert!(key.starts_with("gen_"), "{key}");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(sent.header("idempotency-key"), Some("checkout-attempt-1"));
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(sent.header("stripe-version"), Some("2026-09-30.endive"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_customer_is_sent_as_the_customer() {
    let s = setup().await;
    s.billing()
        .create_checkout(&checkout_request(Some(CUSTOMER_ID)))
        .await
        .unwrap();
    assert_eq!(
        s.received()[0].form(),
        checkout_form(("customer", CUSTOMER_ID))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_is_opened_for_the_customer() {
    let s = setup().await;
    let portal = s
        .billing()
        .create_portal(&PortalRequest {
            customer_id: CUSTOMER_ID.into(),
            return_url: "http://127.0.0.1:8080/account".into(),
        })
        .await
        .unwrap();
    assert!(
        portal
            .url
            .starts_with("https://billing.stripe.com/p/session/"),
        "{portal:?}"
    );
    let sent = &s.received()[0];
    assert_eq!(
        (&sent.method, sent.path.as_str()),
        (&Method::POST, "/v1/billing_portal/sessions")
    );
    assert_eq!(
        sent.form(),
        pairs(&[
            ("customer", CUSTOMER_ID),
            ("return_url", "http://127.0.0.1:8080/account")
        ])
    );
    let key = s.secret("secret_key");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(sent.header("idempotency-key"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_fetched_and_an_unknown_one_is_none() {
    let s = setup().await;
    let billing = s.billing();
    let subscription = billing.get_subscription(SUBSCRIPTION_ID).await.unwrap();
    assert_same(
        &subscription,
        &Some(Subscription {
            id: SUBSCRIPTION_ID.into(),
            customer_id: CUSTOMER_ID.into(),
            user_id: Some(USER_ID.into()),
            status: SubscriptionStatus::Active,
            current_period_end_ms: Some(1_769_903_700_000),
            cancel_at_period_end: false,
            price_id: Some("price_1SXk0aLkdIwHu7ixM2bR5tYp".into()),
        }),
    );
    let sent = &s.received()[0];
    assert_eq!(
        (&sent.method, sent.path.as_str()),
        (
            &Method::GET,
            "/v1/subscriptions/sub_1SXk2fLkdIwHu7ixQ8cWmZ3a"
        )
    );

    s.answer(Answer::NoSuchSubscription);
    assert!(
        billing
            .get_subscription("sub_gone")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripes_errors_surface_as_typed_errors_with_stripes_message() {
    let s = setup().await;
    let billing = s.billing();

    s.answer(Answer::CardDeclined);
    assert_same(
        &failed_checkout(&billing).await,
        &PluginError::Upstream(UpstreamFailure {
            status: Some(402),
            code: Some("card_declined".into()),
            message: "Your card was declined.".into(),
        }),
    );

    s.answer(Answer::InvalidPrice);
    assert_same(
        &failed_checkout(&billing).await,
        &PluginError::Upstream(UpstreamFailure {
            status: Some(400),
            code: Some("resource_missing".into()),
            message: "No such price: 'price_123'".into(),
        }),
    );

    s.answer(Answer::BadKey);
    assert!(matches!(
        failed_checkout(&billing).await,
        PluginError::Unauthorized(m) if m.starts_with("Invalid API Key provided")
    ));

    s.answer(Answer::RateLimited);
    assert_same(
        &failed_checkout(&billing).await,
        &PluginError::Unavailable(Unavailable {
            message: "Too many requests hit the API too quickly.".into(),
            retry_after_ms: None,
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_signed_with_the_generated_secret_is_normalized() {
    let s = setup().await;
    let secret = s.secret("webhook_secret");
    let signature = stripe_signature(&secret, now_secs(), SUBSCRIPTION_UPDATED.as_bytes());
    let outcome = s
        .billing()
        .handle_webhook(&webhook(signature, SUBSCRIPTION_UPDATED))
        .await
        .unwrap();
    assert_same(
        &outcome,
        &WebhookOutcome::Event(BillingEvent {
            id: "evt_1SXk3bLkdIwHu7ixR7tY2uI8".into(),
            kind: EventKind::SubscriptionUpdated,
            provider_type: "customer.subscription.updated".into(),
            created_at_ms: 1_767_225_590_000,
            user_id: Some(USER_ID.into()),
            customer_id: Some(CUSTOMER_ID.into()),
            subscription_id: Some(SUBSCRIPTION_ID.into()),
            subscription: Some(Subscription {
                id: SUBSCRIPTION_ID.into(),
                customer_id: CUSTOMER_ID.into(),
                user_id: Some(USER_ID.into()),
                status: SubscriptionStatus::Active,
                current_period_end_ms: Some(1_769_903_700_000),
                cancel_at_period_end: true,
                price_id: Some("price_1SXk0aLkdIwHu7ixM2bR5tYp".into()),
            }),
        }),
    );
    assert!(s.received().is_empty(), "verifying calls no API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_webhook_is_refused() {
    let s = setup().await;
    let secret = s.secret("webhook_secret");
    let signature = stripe_signature(&secret, now_secs(), SUBSCRIPTION_UPDATED.as_bytes());
    let tampered = SUBSCRIPTION_UPDATED.replace(
        "\"cancel_at_period_end\": true",
        "\"cancel_at_period_end\": false",
    );
    assert_ne!(tampered, SUBSCRIPTION_UPDATED);
    let result = s
        .billing()
        .handle_webhook(&webhook(signature, &tampered))
        .await;
    assert!(
        matches!(plugin_error(result), PluginError::Unauthorized(_)),
        "a tampered body is unauthorized"
    );
}
