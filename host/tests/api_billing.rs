//! Billing through the API with the development provider: the whole offline flow from the
//! paywall to a paid chat and back, and webhooks signed like Stripe's arriving forged,
//! stale, twice at once and out of order.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::app::{Backend, PLUGINS, TestApp};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

/// The default plugins with the development provider as the billing one.
fn config() -> String {
    format!(
        r#"{PLUGINS}
[plugins.billing]
use = "dev-billing"

[plugin.dev-billing]
path = "{{plugins}}/dev-billing.wasm"
allow_hosts = ["self"]
config = {{ webhook_secret = {{ generate = true }} }}
"#
    )
}

struct Billing {
    t: TestApp,
    /// A client that shows redirects instead of following them, as a test of pages needs.
    pages: reqwest::Client,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Billing {
    async fn start(backend: Backend) -> Self {
        Self {
            t: TestApp::with_config(backend, &config()).await,
            pages: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// The webhook secret the host generated for the plugin.
    fn secret(&self) -> String {
        let path = self.t.data_dir().join("secrets/dev-billing.webhook_secret");
        std::fs::read_to_string(path).unwrap().trim().to_string()
    }

    /// `body` signed at `t` with `secret`, as the `Ava-Dev-Signature` header value.
    fn signature(secret: &str, t: u64, body: &[u8]) -> String {
        format!("t={t},v1={}", Self::v1(secret, t, body))
    }

    fn v1(secret: &str, t: u64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    async fn post_webhook(
        &self,
        path: &str,
        signature: Option<String>,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let mut request = self.t.client.post(self.t.url(path)).body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("Ava-Dev-Signature", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Delivers `event` correctly signed, now.
    async fn deliver(&self, event: &Value) -> (StatusCode, Value) {
        let body = serde_json::to_vec(event).unwrap();
        let signature = Self::signature(&self.secret(), now_secs(), &body);
        self.post_webhook("/billing/webhook", Some(signature), &body)
            .await
    }

    /// Delivers `event` and expects it recorded with `outcome`.
    async fn expect(&self, event: &Value, outcome: &str) {
        let (status, body) = self.deliver(event).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["outcome"], outcome, "{event}");
    }

    async fn status(&self, token: &str) -> Value {
        let (status, body) = self.t.get("/billing/status", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn chat(&self, token: &str) -> StatusCode {
        self.t
            .post("/chat", token, json!({ "message": "Hi!" }))
            .await
            .0
    }

    /// A form post on a `/dev/` page: the status and the `Location`.
    async fn press(&self, url: &str) -> (StatusCode, String) {
        let response = self.pages.post(url).send().await.unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (response.status(), location)
    }

    async fn events_recorded(&self, event_id: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM billing_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(self.t.app.state.db.pool())
            .await
            .unwrap()
    }
}

/// A Stripe event envelope around `object`.
fn event(id: &str, kind: &str, created: u64, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "type": kind,
        "created": created,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": object },
    })
}

fn checkout_completed(id: &str, created: u64, user: &str, sub: &str) -> Value {
    event(
        id,
        "checkout.session.completed",
        created,
        json!({
            "id": format!("cs_test_{id}"),
            "object": "checkout.session",
            "mode": "subscription",
            "status": "complete",
            "payment_status": "paid",
            "client_reference_id": user,
            "customer": "cus_T1",
            "customer_email": "someone@example.com",
            "subscription": sub,
            "metadata": { "user_id": user },
        }),
    )
}

fn subscription_event(
    id: &str,
    kind: &str,
    created: u64,
    user: &str,
    sub: &str,
    status: &str,
) -> Value {
    event(
        id,
        kind,
        created,
        json!({
            "id": sub,
            "object": "subscription",
            "customer": "cus_T1",
            "status": status,
            "cancel_at_period_end": false,
            "canceled_at": if status == "canceled" { json!(created) } else { Value::Null },
            "metadata": { "user_id": user },
            "items": { "object": "list", "data": [{
                "id": "si_T1",
                "object": "subscription_item",
                "current_period_start": created,
                "current_period_end": created + 30 * 86_400,
                "price": { "id": "price_T1", "object": "price", "recurring": { "interval": "month" } },
            }]},
        }),
    )
}

fn invoice(id: &str, kind: &str, created: u64, sub: &str) -> Value {
    event(
        id,
        kind,
        created,
        json!({
            "id": format!("in_{id}"),
            "object": "invoice",
            "customer": "cus_T1",
            "billing_reason": "subscription_cycle",
            "status": if kind == "invoice.paid" { "paid" } else { "open" },
            "parent": { "type": "subscription_details", "subscription_details": { "subscription": sub } },
        }),
    )
}

async fn the_offline_flow_from_paywall_to_paid_chat_and_back(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, _) = b.t.register("payer@example.com").await;
    assert_eq!(b.chat(&token).await, StatusCode::PAYMENT_REQUIRED);
    let status = b.status(&token).await;
    assert_eq!(
        (status["status"].clone(), status["can_manage"].clone()),
        (json!("none"), json!(false))
    );

    // Subscribe: the checkout page is the development provider's, under /dev/ here.
    let (code, body) = b.t.post("/billing/checkout", &token, Value::Null).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let checkout_url = body["checkout_url"].as_str().unwrap().to_string();
    assert!(
        checkout_url.starts_with(&b.t.url("/dev/checkout/")),
        "{checkout_url}"
    );
    let page = b.pages.get(&checkout_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("payer@example.com"), "{html}");

    // Pay: the plugin's signed webhook reaches /billing/webhook before the redirect.
    let (code, location) = b.press(&format!("{checkout_url}/pay")).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let session_id = checkout_url.rsplit('/').next().unwrap();
    assert_eq!(
        location,
        b.t.url(&format!("/chat?checkout=success&session_id={session_id}"))
    );
    let status = b.status(&token).await;
    assert_eq!(status["status"], "active", "{status}");
    assert_eq!(status["active"], true);
    assert_eq!(status["can_manage"], true);
    assert_eq!(status["cancel_at_period_end"], false);
    let period_end = status["current_period_end"].as_i64().unwrap();
    let in_29_days = (now_secs() as i64 + 29 * 86_400) * 1000;
    assert!(period_end > in_29_days, "a month is paid for: {period_end}");
    assert_eq!(b.chat(&token).await, StatusCode::OK);

    // A second checkout while subscribed is refused.
    let (code, body) = b.t.post("/billing/checkout", &token, Value::Null).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");

    // The portal cancels the same way: a signed event, then the paywall again.
    let (code, body) = b.t.post("/billing/portal", &token, Value::Null).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let portal_url = body["portal_url"].as_str().unwrap().to_string();
    assert!(
        portal_url.starts_with(&b.t.url("/dev/portal/")),
        "{portal_url}"
    );
    let page = b.pages.get(&portal_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let (code, _) = b.press(&format!("{portal_url}/cancel")).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let status = b.status(&token).await;
    assert_eq!(status["status"], "canceled", "{status}");
    assert_eq!(status["active"], false);
    assert_eq!(b.chat(&token).await, StatusCode::PAYMENT_REQUIRED);

    // Subscribing again works, with the same customer.
    let (code, body) = b.t.post("/billing/checkout", &token, Value::Null).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let again = body["checkout_url"].as_str().unwrap().to_string();
    let (code, _) = b.press(&format!("{again}/pay")).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(b.status(&token).await["status"], "active");
    assert_eq!(b.chat(&token).await, StatusCode::OK);
}

async fn giving_up_on_the_checkout_returns_to_the_subscribe_page(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, _) = b.t.register("undecided@example.com").await;
    let (_, body) = b.t.post("/billing/checkout", &token, Value::Null).await;
    let checkout_url = body["checkout_url"].as_str().unwrap();
    let (code, location) = b.press(&format!("{checkout_url}/cancel")).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(location, b.t.url("/subscribe?cancelled=1"));
    assert_eq!(b.status(&token).await["status"], "none");
    assert_eq!(b.chat(&token).await, StatusCode::PAYMENT_REQUIRED);
}

async fn forged_and_stale_webhooks_are_400_and_change_nothing(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, user) = b.t.register("target@example.com").await;
    let body = serde_json::to_vec(&checkout_completed(
        "evt_forged",
        now_secs(),
        &user,
        "sub_F",
    ))
    .unwrap();
    let now = now_secs();
    let secret = b.secret();
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("cus_T1", "cus_T2")
        .into_bytes();
    let cases = [
        ("no signature", None, body.clone()),
        (
            "the wrong secret",
            Some(Billing::signature("whsec_wrong", now, &body)),
            body.clone(),
        ),
        (
            "a tampered body",
            Some(Billing::signature(&secret, now, &body)),
            tampered,
        ),
        (
            "a timestamp 301 s old",
            Some(Billing::signature(&secret, now - 301, &body)),
            body.clone(),
        ),
        ("garbage", Some("t=abc,v1=zz".to_string()), body.clone()),
    ];
    for (what, signature, sent) in cases {
        let (status, answer) = b.post_webhook("/billing/webhook", signature, &sent).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .unwrap()
                .starts_with("Webhook refused"),
            "{answer}"
        );
    }
    assert_eq!(b.events_recorded("evt_forged").await, 0);
    assert_eq!(b.status(&token).await["status"], "none");

    // Two v1 signatures, one of them valid (a secret being rotated): accepted.
    let rotated = format!(
        "t={now},v1={},v1={}",
        Billing::v1("whsec_old", now, &body),
        Billing::v1(&secret, now, &body)
    );
    let (status, answer) = b
        .post_webhook("/billing/webhook", Some(rotated), &body)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "applied");
    assert_eq!(b.status(&token).await["status"], "active");
}

async fn a_signed_body_that_is_no_event_is_400(backend: Backend) {
    let b = Billing::start(backend).await;
    let body = b"{\"not\": \"an event\"}";
    let signature = Billing::signature(&b.secret(), now_secs(), body);
    let (status, answer) = b
        .post_webhook("/billing/webhook", Some(signature), body)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

async fn types_that_change_nothing_are_ignored_with_200(backend: Backend) {
    let b = Billing::start(backend).await;
    let ignored = event(
        "evt_ign",
        "customer.created",
        now_secs(),
        json!({ "id": "cus_T1", "object": "customer" }),
    );
    b.expect(&ignored, "ignored").await;
    assert_eq!(b.events_recorded("evt_ign").await, 0);
}

async fn a_duplicate_delivered_twice_at_once_is_applied_once(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, user) = b.t.register("twice@example.com").await;
    let created = now_secs();
    let paid = checkout_completed("evt_dup", created, &user, "sub_D");
    let (first, second) = tokio::join!(b.deliver(&paid), b.deliver(&paid));
    assert_eq!((first.0, second.0), (StatusCode::OK, StatusCode::OK));
    let mut outcomes = [first.1["outcome"].clone(), second.1["outcome"].clone()];
    outcomes.sort_by_key(|v| v.to_string());
    assert_eq!(outcomes, [json!("applied"), json!("duplicate")]);
    assert_eq!(b.events_recorded("evt_dup").await, 1);
    assert_eq!(b.status(&token).await["status"], "active");

    // Much later, the same event again: still a duplicate, even after the state moved on.
    b.expect(
        &subscription_event(
            "evt_dup_2",
            "customer.subscription.deleted",
            created + 10,
            &user,
            "sub_D",
            "canceled",
        ),
        "applied",
    )
    .await;
    b.expect(&paid, "duplicate").await;
    assert_eq!(b.status(&token).await["status"], "canceled");
}

async fn deleted_before_completed_stays_canceled(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, user) = b.t.register("late@example.com").await;
    let t0 = now_secs() - 60;
    b.expect(
        &subscription_event(
            "evt_del",
            "customer.subscription.deleted",
            t0 + 10,
            &user,
            "sub_L",
            "canceled",
        ),
        "applied",
    )
    .await;
    b.expect(&checkout_completed("evt_done", t0, &user, "sub_L"), "final")
        .await;
    assert_eq!(b.status(&token).await["status"], "canceled");
    assert_eq!(b.chat(&token).await, StatusCode::PAYMENT_REQUIRED);
}

async fn an_active_update_after_deleted_does_not_revive(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, user) = b.t.register("zombie@example.com").await;
    let t0 = now_secs() - 60;
    b.expect(&checkout_completed("evt_c", t0, &user, "sub_Z"), "applied")
        .await;
    b.expect(
        &subscription_event(
            "evt_d",
            "customer.subscription.deleted",
            t0 + 20,
            &user,
            "sub_Z",
            "canceled",
        ),
        "applied",
    )
    .await;
    // Late (created before the deletion) and even "newer" (a misordered clock): neither revives.
    b.expect(
        &subscription_event(
            "evt_u1",
            "customer.subscription.updated",
            t0 + 10,
            &user,
            "sub_Z",
            "active",
        ),
        "final",
    )
    .await;
    b.expect(
        &subscription_event(
            "evt_u2",
            "customer.subscription.updated",
            t0 + 30,
            &user,
            "sub_Z",
            "active",
        ),
        "final",
    )
    .await;
    assert_eq!(b.status(&token).await["status"], "canceled");
    assert_eq!(b.chat(&token).await, StatusCode::PAYMENT_REQUIRED);
}

async fn payment_failed_then_paid_ends_active(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, user) = b.t.register("renewal@example.com").await;
    let t0 = now_secs() - 120;
    b.expect(&checkout_completed("evt_c", t0, &user, "sub_R"), "applied")
        .await;
    b.expect(
        &invoice("evt_f", "invoice.payment_failed", t0 + 10, "sub_R"),
        "applied",
    )
    .await;
    let status = b.status(&token).await;
    assert_eq!(status["status"], "past_due");
    assert_eq!(
        status["active"], true,
        "access lasts while the provider retries"
    );
    b.expect(
        &invoice("evt_p", "invoice.paid", t0 + 20, "sub_R"),
        "applied",
    )
    .await;
    assert_eq!(b.status(&token).await["status"], "active");
    // The other way round: a failure older than the payment is stale.
    b.expect(
        &invoice("evt_p2", "invoice.paid", t0 + 40, "sub_R"),
        "applied",
    )
    .await;
    b.expect(
        &invoice("evt_f2", "invoice.payment_failed", t0 + 30, "sub_R"),
        "stale",
    )
    .await;
    assert_eq!(b.status(&token).await["status"], "active");
    assert_eq!(b.chat(&token).await, StatusCode::OK);
}

async fn events_for_nobody_are_recorded_unmatched(backend: Backend) {
    let b = Billing::start(backend).await;
    b.expect(
        &invoice("evt_who", "invoice.paid", now_secs(), "sub_nobody"),
        "unmatched",
    )
    .await;
    b.expect(
        &checkout_completed("evt_gone", now_secs(), "no-such-user", "sub_X"),
        "unmatched",
    )
    .await;
    assert_eq!(b.events_recorded("evt_who").await, 1);
}

async fn webhooks_reach_any_billing_plugin_by_name(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, user) = b.t.register("named@example.com").await;
    let body =
        serde_json::to_vec(&checkout_completed("evt_named", now_secs(), &user, "sub_N")).unwrap();
    let signature = Billing::signature(&b.secret(), now_secs(), &body);
    let (status, answer) = b
        .post_webhook("/webhook/dev-billing", Some(signature.clone()), &body)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(b.status(&token).await["status"], "active");
    for missing in ["/webhook/nope", "/webhook/local-persona"] {
        let (status, answer) = b
            .post_webhook(missing, Some(signature.clone()), &body)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {answer}");
    }
}

async fn the_portal_needs_a_customer_and_every_route_a_user(backend: Backend) {
    let b = Billing::start(backend).await;
    let (token, _) = b.t.register("nocustomer@example.com").await;
    let (status, body) = b.t.post("/billing/portal", &token, Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("subscribe first"));
    for (method, path) in [
        (Method::POST, "/billing/checkout"),
        (Method::POST, "/billing/portal"),
        (Method::GET, "/billing/status"),
    ] {
        let (status, body) = b.t.call(method, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }

    // A key that cannot be used is refused, not ignored (which would open a second checkout
    // on the retry it was meant for).
    let checkout = |key: String| {
        b.t.client
            .post(b.t.url("/billing/checkout"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .send()
    };
    let long = checkout("k".repeat(201)).await.unwrap();
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    let detail = long.json::<Value>().await.unwrap()["detail"].clone();
    assert_eq!(
        detail,
        "Idempotency-Key: at most 200 bytes (this one has 201)"
    );
    let fine = checkout("k".repeat(200)).await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

on_both_databases!(
    the_offline_flow_from_paywall_to_paid_chat_and_back,
    giving_up_on_the_checkout_returns_to_the_subscribe_page,
    forged_and_stale_webhooks_are_400_and_change_nothing,
    a_signed_body_that_is_no_event_is_400,
    types_that_change_nothing_are_ignored_with_200,
    a_duplicate_delivered_twice_at_once_is_applied_once,
    deleted_before_completed_stays_canceled,
    an_active_update_after_deleted_does_not_revive,
    payment_failed_then_paid_ends_active,
    events_for_nobody_are_recorded_unmatched,
    webhooks_reach_any_billing_plugin_by_name,
    the_portal_needs_a_customer_and_every_route_a_user,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_page_serving_provider_dev_pages_are_404() {
    let t = TestApp::start(Backend::Sqlite).await;
    let response = t
        .client
        .get(t.url("/dev/checkout/cs_1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["detail"], "Not found");
}
