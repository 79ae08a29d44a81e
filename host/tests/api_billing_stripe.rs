//! Billing through the API with the `stripe` plugin as the active provider, against a local
//! server that speaks Stripe's API: checkout and portal as Stripe receives them, complete
//! Stripe events signed with `Stripe-Signature`, and the subscription re-fetched from
//! "Stripe" when an event carries no state or arrives out of order.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::LocalServer;
use common::app::{Backend, PLUGINS, TestApp};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../plugins/stripe/tests/fixtures/", $path))
    };
}

/// The user id the fixtures were written for; each test puts its own user's in.
const FIXTURE_USER: &str = "0193e5a4-7c1e-7b2a-9f00-3c4d5e6f7a8b";
const SUBSCRIPTION_ID: &str = "sub_1SXk2fLkdIwHu7ixQ8cWmZ3a";
const CUSTOMER_ID: &str = "cus_TUkZrQ2mJ8vN1x";
/// The period end in `api/subscription.json`.
const PERIOD_END_SECS: i64 = 1_769_903_700;

/// A fake Stripe: the subscription's current status, and every request received.
#[derive(Clone, Default)]
struct Stripe {
    status: Arc<Mutex<String>>,
    user: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<(String, HeaderMap, String)>>>,
}

async fn stripe_api(
    State(s): State<Stripe>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let path = uri.path().to_string();
    s.received
        .lock()
        .unwrap()
        .push((path.clone(), headers, body));
    let user = s.user.lock().unwrap().clone();
    let text = match path.as_str() {
        "/v1/checkout/sessions" => fixture!("api/checkout_session.json").to_string(),
        "/v1/billing_portal/sessions" => fixture!("api/portal_session.json").to_string(),
        _ => {
            let mut sub: Value = serde_json::from_str(fixture!("api/subscription.json")).unwrap();
            sub["status"] = json!(*s.status.lock().unwrap());
            sub.to_string()
        }
    };
    (
        [("content-type", "application/json")],
        text.replace(FIXTURE_USER, &user),
    )
}

struct Setup {
    t: TestApp,
    stripe: Stripe,
    _server: LocalServer,
    token: String,
    user: String,
}

async fn setup(backend: Backend) -> Setup {
    let stripe = Stripe::default();
    let server = LocalServer::start(
        Router::new()
            .route("/v1/checkout/sessions", post(stripe_api))
            .route("/v1/billing_portal/sessions", post(stripe_api))
            .route("/v1/subscriptions/{id}", get(stripe_api))
            .with_state(stripe.clone()),
    )
    .await;
    let config = format!(
        r#"{PLUGINS}
[plugins.billing]
use = "stripe"

[plugin.stripe]
path = "{{plugins}}/stripe.wasm"
allow_hosts = ["http://{addr}"]
config = {{ api_base = "http://{addr}", price_id = "price_1SXjzpLkdIwHu7ixMonthly", secret_key = {{ generate = true }}, webhook_secret = {{ generate = true }} }}
"#,
        addr = server.addr
    );
    let t = TestApp::with_config(backend, &config).await;
    let (token, user) = t.register("stripe-user@example.com").await;
    *stripe.user.lock().unwrap() = user.clone();
    Setup {
        t,
        stripe,
        _server: server,
        token,
        user,
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Setup {
    fn secret(&self, name: &str) -> String {
        std::fs::read_to_string(self.t.data_dir().join(format!("secrets/stripe.{name}")))
            .unwrap()
            .trim()
            .to_string()
    }

    /// Stripe's subscription is now `status`.
    fn stripe_says(&self, status: &str) {
        *self.stripe.status.lock().unwrap() = status.to_string();
    }

    fn fetches(&self) -> usize {
        let received = self.stripe.received.lock().unwrap();
        received
            .iter()
            .filter(|(path, _, _)| path.starts_with("/v1/subscriptions/"))
            .count()
    }

    /// The fixture event `text` for this test's user, with id `id`, created at `created`.
    fn event(&self, text: &str, id: &str, created: u64) -> Vec<u8> {
        let mut event: Value =
            serde_json::from_str(&text.replace(FIXTURE_USER, &self.user)).unwrap();
        event["id"] = json!(id);
        event["created"] = json!(created);
        serde_json::to_vec(&event).unwrap()
    }

    /// Delivers `body` signed the way Stripe signs.
    async fn deliver(&self, body: &[u8]) -> (StatusCode, Value) {
        let t = now_secs();
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.secret("webhook_secret").as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
        let response = self
            .t
            .client
            .post(self.t.url("/billing/webhook"))
            .header("Stripe-Signature", signature)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Delivers the fixture event `text` (see [`event`](Self::event)), expecting `outcome`.
    async fn expect_event(&self, text: &str, id: &str, created: u64, outcome: &str) {
        self.expect(&self.event(text, id, created), outcome).await;
    }

    async fn expect(&self, body: &[u8], outcome: &str) {
        let (status, answer) = self.deliver(body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["outcome"], outcome);
    }

    async fn status(&self) -> Value {
        self.t.get("/billing/status", &self.token).await.1
    }

    async fn chat(&self) -> StatusCode {
        self.t
            .post("/chat", &self.token, json!({ "message": "Hello" }))
            .await
            .0
    }
}

async fn checkout_webhooks_and_portal_with_stripe(backend: Backend) {
    let s = setup(backend).await;
    assert_eq!(s.chat().await, StatusCode::PAYMENT_REQUIRED);

    let (status, body) = s.t.post("/billing/checkout", &s.token, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["checkout_url"]
            .as_str()
            .unwrap()
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_")
    );
    let (path, headers, form) = s.stripe.received.lock().unwrap()[0].clone();
    assert_eq!(path, "/v1/checkout/sessions");
    let key = s.secret("secret_key");
    assert_eq!(headers["authorization"], format!("Bearer {key}"));
    assert!(
        headers["idempotency-key"]
            .to_str()
            .unwrap()
            .starts_with(&format!("ava-checkout-{}-", s.user))
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("mode"), Some("subscription"));
    assert_eq!(field("client_reference_id"), Some(s.user.as_str()));
    assert_eq!(field("customer_email"), Some("stripe-user@example.com"));
    assert_eq!(
        field("line_items[0][price]"),
        Some("price_1SXjzpLkdIwHu7ixMonthly")
    );
    assert_eq!(
        field("subscription_data[metadata][user_id]"),
        Some(s.user.as_str())
    );
    let success =
        s.t.url("/chat?checkout=success&session_id={CHECKOUT_SESSION_ID}");
    assert_eq!(field("success_url"), Some(success.as_str()));
    let cancel = s.t.url("/subscribe?cancelled=1");
    assert_eq!(field("cancel_url"), Some(cancel.as_str()));

    // The session completes: the event has no subscription in it, so the host asks Stripe.
    s.stripe_says("active");
    let t0 = now_secs() - 100;
    s.expect_event(
        fixture!("events/checkout.session.completed.json"),
        "evt_done",
        t0,
        "applied",
    )
    .await;
    assert_eq!(s.fetches(), 1);
    let fetched = s.stripe.received.lock().unwrap().last().unwrap().0.clone();
    assert_eq!(fetched, format!("/v1/subscriptions/{SUBSCRIPTION_ID}"));
    let status = s.status().await;
    assert_eq!(status["status"], "active", "{status}");
    assert_eq!(status["current_period_end"], PERIOD_END_SECS * 1000);
    assert_eq!(status["can_manage"], true);
    assert_eq!(s.chat().await, StatusCode::OK);

    // The portal is opened for the customer Stripe created.
    let (code, body) = s.t.post("/billing/portal", &s.token, Value::Null).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(
        body["portal_url"]
            .as_str()
            .unwrap()
            .starts_with("https://billing.stripe.com/p/session/")
    );
    let (path, _, form) = s.stripe.received.lock().unwrap().last().unwrap().clone();
    assert_eq!(path, "/v1/billing_portal/sessions");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    assert!(
        form.contains(&("customer".into(), CUSTOMER_ID.into())),
        "{form:?}"
    );
    assert!(
        form.contains(&("return_url".into(), s.t.url("/chat"))),
        "{form:?}"
    );

    // Canceled in the portal: Stripe says deleted, and the paywall is back.
    s.stripe_says("canceled");
    s.expect_event(
        fixture!("events/customer.subscription.deleted.json"),
        "evt_del",
        t0 + 20,
        "applied",
    )
    .await;
    assert_eq!(s.status().await["status"], "canceled");
    assert_eq!(s.chat().await, StatusCode::PAYMENT_REQUIRED);

    // A late "updated: active" changes nothing: it is older than the deletion, and Stripe,
    // asked again, says canceled.
    s.expect_event(
        fixture!("events/customer.subscription.updated.json"),
        "evt_upd",
        t0 + 10,
        "stale",
    )
    .await;
    assert_eq!(s.status().await["status"], "canceled");
}

async fn out_of_order_stripe_events_end_in_stripes_state(backend: Backend) {
    let s = setup(backend).await;
    let t0 = now_secs() - 100;

    // Deleted arrives before completed; Stripe says canceled when asked.
    s.stripe_says("canceled");
    s.expect_event(
        fixture!("events/customer.subscription.deleted.json"),
        "evt_del",
        t0 + 10,
        "applied",
    )
    .await;
    s.expect_event(
        fixture!("events/checkout.session.completed.json"),
        "evt_done",
        t0,
        "stale",
    )
    .await;
    assert_eq!(s.status().await["status"], "canceled");
    assert_eq!(s.chat().await, StatusCode::PAYMENT_REQUIRED);
}

async fn a_failed_renewal_then_a_paid_one_with_stripe(backend: Backend) {
    let s = setup(backend).await;
    let t0 = now_secs() - 100;
    s.stripe_says("active");
    s.expect_event(
        fixture!("events/checkout.session.completed.json"),
        "evt_done",
        t0,
        "applied",
    )
    .await;

    // Invoices carry no subscription state: each one makes the host ask Stripe.
    s.stripe_says("past_due");
    s.expect_event(
        fixture!("events/invoice.payment_failed.json"),
        "evt_failed",
        t0 + 10,
        "applied",
    )
    .await;
    assert_eq!(s.status().await["status"], "past_due");
    s.stripe_says("active");
    let paid = s.event(fixture!("events/invoice.paid.json"), "evt_paid", t0 + 20);
    // Delivered twice at once: applied once.
    let (a, b) = tokio::join!(s.deliver(&paid), s.deliver(&paid));
    let mut outcomes = [a.1["outcome"].to_string(), b.1["outcome"].to_string()];
    outcomes.sort();
    assert_eq!(outcomes, ["\"applied\"", "\"duplicate\""]);
    assert_eq!(s.status().await["status"], "active");
    assert_eq!(s.chat().await, StatusCode::OK);

    // An invoice from an older API version (subscription at the top) reads the same.
    s.expect_event(
        fixture!("events/invoice.paid.2024-06-20.json"),
        "evt_paid_old",
        t0 + 30,
        "applied",
    )
    .await;
    assert_eq!(s.fetches(), 5);
}

on_both_databases!(
    checkout_webhooks_and_portal_with_stripe,
    out_of_order_stripe_events_end_in_stripes_state,
    a_failed_renewal_then_a_paid_one_with_stripe,
);
