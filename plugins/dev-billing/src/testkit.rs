//! A fake Ava for the tests: its webhook endpoint verifies every posted event through
//! `handle_webhook`, as the real host does, and records what it accepted.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ava_sdk::billing::{
    BillingEvent, BillingProvider, CheckoutRequest, CheckoutSession, PageRequest, PageResponse,
    WebhookOutcome, WebhookRequest,
};
use ava_sdk::testing::{MockResponse, TestHost};

use crate::DevBilling;

pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";
pub const SUCCESS_URL: &str = "http://127.0.0.1:8080/billing/success";
pub const CANCEL_URL: &str = "http://127.0.0.1:8080/billing/cancel";
/// The TestHost's clock, in Unix seconds.
pub const NOW_SECS: u64 = 1_767_225_600;

pub struct Fake {
    pub host: TestHost,
    accepted: Rc<RefCell<Vec<BillingEvent>>>,
    refuse_with: Rc<Cell<Option<u16>>>,
}

impl Fake {
    /// The events the host accepted, in order.
    pub fn events(&self) -> Vec<BillingEvent> {
        self.accepted.borrow().clone()
    }

    /// From now on the webhook endpoint answers `status` (or verifies again, with `None`).
    pub fn refuse(&self, status: Option<u16>) {
        self.refuse_with.set(status);
    }

    /// Sets the plugin's configuration value `key`.
    pub fn config(&self, key: &str, value: &str) {
        let _ = self.host.clone().config(key, value);
    }

    /// Webhook posts made so far (accepted or not).
    pub fn posts(&self) -> usize {
        self.host.requests().len()
    }
}

pub fn fake() -> Fake {
    let host = TestHost::new()
        .secret("webhook_secret", "whsec_test")
        .secret("wrong_secret", "whsec_wrong");
    Fake::with_host(host).with_endpoint()
}

impl Fake {
    /// A fake around `host`, without a webhook endpoint until `with_endpoint`.
    pub fn with_host(host: TestHost) -> Self {
        Fake {
            host,
            accepted: Rc::default(),
            refuse_with: Rc::default(),
        }
    }

    /// Ava's webhook endpoint: verifies through `handle_webhook` and records what it accepts.
    fn with_endpoint(self) -> Self {
        let (record, refusal) = (self.accepted.clone(), self.refuse_with.clone());
        let host = self.host.clone().on_http(move |req| {
            assert_eq!(req.url, format!("{PUBLIC_URL}/billing/webhook"));
            if let Some(status) = refusal.get() {
                return MockResponse::new(status, "webhook handler exploded");
            }
            let request = WebhookRequest {
                headers: req.headers.clone(),
                body: req.body.clone(),
                received_at_ms: 0,
            };
            match DevBilling::handle_webhook(request) {
                Ok(WebhookOutcome::Event(event)) => {
                    record.borrow_mut().push(event);
                    MockResponse::new(200, "ok")
                }
                Ok(WebhookOutcome::Ignored(reason)) => MockResponse::new(200, reason),
                Err(err) => MockResponse::new(400, err.message()),
            }
        });
        Fake { host, ..self }
    }
}

pub fn checkout_request(key: &str) -> CheckoutRequest {
    CheckoutRequest {
        user_id: "user-1".into(),
        email: "sam@example.test".into(),
        customer_id: None,
        success_url: SUCCESS_URL.into(),
        cancel_url: CANCEL_URL.into(),
        idempotency_key: key.into(),
    }
}

pub fn page(method: &str, path: &str) -> PageRequest {
    PageRequest {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
        public_url: PUBLIC_URL.into(),
    }
}

pub fn serve(fake: &Fake, method: &str, path: &str) -> PageResponse {
    fake.host
        .run(|| DevBilling::serve_page(page(method, path)))
        .unwrap()
}

pub fn location(response: &PageResponse) -> Option<&str> {
    response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.as_str())
}

pub fn text(response: &PageResponse) -> String {
    String::from_utf8(response.body.clone()).unwrap()
}

/// A checkout with idempotency key `key`, paid and accepted by the host.
pub fn paid(fake: &Fake, key: &str) -> CheckoutSession {
    let session = fake
        .host
        .run(|| DevBilling::create_checkout(checkout_request(key)))
        .unwrap();
    let response = serve(fake, "POST", &format!("/checkout/{}/pay", session.id));
    assert_eq!(response.status, 303, "{}", text(&response));
    session
}
