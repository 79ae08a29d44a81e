//! The development payment provider: a tiny offline Stripe, the embedded default.
//!
//! It serves its own checkout and portal pages under `/dev/`, keeps its "Stripe database"
//! in the plugin's key-value store, and tells the host what happened with webhooks signed
//! like Stripe's (header `Ava-Dev-Signature`), which the host verifies through
//! `handle_webhook` exactly as with a real provider.

mod checkout;
mod delivery;
mod events;
mod ids;
mod normalize;
mod pages;
mod portal;
mod routes;
mod settings;
mod store;
#[cfg(test)]
mod testkit;

use ava_sdk::billing::{
    BillingProvider, CheckoutRequest, CheckoutSession, PageRequest, PageResponse, PortalRequest,
    PortalSession, Subscription, WebhookOutcome, WebhookRequest,
};
use ava_sdk::{PluginError, PluginInfo, time};

/// The plugin.
pub struct DevBilling;

impl BillingProvider for DevBilling {
    fn metadata() -> PluginInfo {
        let [secret, price, product] = settings::keys();
        ava_sdk::plugin_info!(
            "Development payment provider: offline checkout and portal with signed webhooks"
        )
        .key(secret)
        .key(price)
        .key(product)
    }

    fn create_checkout(request: CheckoutRequest) -> Result<CheckoutSession, PluginError> {
        checkout::create(request)
    }

    fn create_portal(request: PortalRequest) -> Result<PortalSession, PluginError> {
        portal::create(request)
    }

    fn handle_webhook(request: WebhookRequest) -> Result<WebhookOutcome, PluginError> {
        let signature = delivery::SIGNATURE;
        signature.verify(
            settings::WEBHOOK_SECRET,
            request.header(signature.name()),
            &request.body,
            time::now_ms(),
        )?;
        normalize::normalize(&request.body)
    }

    fn get_subscription(id: String) -> Result<Option<Subscription>, PluginError> {
        store::load_subscription(&id)?
            .map(|s| normalize::stored(&s))
            .transpose()
    }

    fn serve_page(request: PageRequest) -> Result<PageResponse, PluginError> {
        routes::serve(&request)
    }
}

ava_sdk::export_billing_provider!(DevBilling);

#[cfg(test)]
mod tests {
    use ava_sdk::billing::{EventKind, SubscriptionStatus};
    use serde_json::json;

    use super::*;
    use crate::testkit::{self, NOW_SECS};

    fn webhook(header: Option<String>, body: &str) -> WebhookRequest {
        WebhookRequest {
            headers: header
                .map(|h| vec![("ava-dev-signature".to_string(), h)])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
            received_at_ms: 0,
        }
    }

    fn body(kind: &str) -> String {
        json!({
            "id": "evt_1", "object": "event", "type": kind, "created": NOW_SECS, "livemode": false,
            "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1"}},
        })
        .to_string()
    }

    /// `body` signed at `t` with the secret named `secret`, then handled.
    fn handle(
        secret: &str,
        t: u64,
        signed: &str,
        sent: &str,
    ) -> Result<WebhookOutcome, PluginError> {
        let fake = testkit::fake();
        fake.host.run(|| {
            let header = delivery::SIGNATURE
                .sign(secret, t, signed.as_bytes())
                .unwrap();
            DevBilling::handle_webhook(webhook(Some(header), sent))
        })
    }

    #[test]
    fn metadata_declares_the_secret_and_the_labels() {
        let info = DevBilling::metadata();
        assert_eq!(info.name, "dev-billing");
        let keys: Vec<(&str, bool, bool)> = info
            .config
            .iter()
            .map(|k| (k.name.as_str(), k.required, k.secret))
            .collect();
        assert_eq!(
            keys,
            [
                ("webhook_secret", true, true),
                ("price_label", false, false),
                ("product_name", false, false)
            ]
        );
    }

    #[test]
    fn a_correctly_signed_event_is_accepted() {
        let b = body("invoice.paid");
        let outcome = handle("webhook_secret", NOW_SECS, &b, &b).unwrap();
        assert!(
            matches!(outcome, WebhookOutcome::Event(e) if e.kind == EventKind::PaymentSucceeded)
        );
    }

    #[test]
    fn a_signature_with_the_wrong_secret_is_unauthorized() {
        let b = body("invoice.paid");
        assert!(matches!(
            handle("wrong_secret", NOW_SECS, &b, &b),
            Err(PluginError::Unauthorized(_))
        ));
    }

    #[test]
    fn a_tampered_body_is_unauthorized() {
        let b = body("invoice.paid");
        let tampered = b.replace("cus_1", "cus_2");
        assert!(matches!(
            handle("webhook_secret", NOW_SECS, &b, &tampered),
            Err(PluginError::Unauthorized(_))
        ));
    }

    #[test]
    fn a_signature_301_seconds_old_is_unauthorized() {
        let b = body("invoice.paid");
        assert!(matches!(
            handle("webhook_secret", NOW_SECS - 301, &b, &b),
            Err(PluginError::Unauthorized(_))
        ));
    }

    #[test]
    fn a_missing_header_is_unauthorized() {
        let fake = testkit::fake();
        let result = fake
            .host
            .run(|| DevBilling::handle_webhook(webhook(None, &body("invoice.paid"))));
        assert!(
            matches!(result, Err(PluginError::Unauthorized(_))),
            "{result:?}"
        );
    }

    #[test]
    fn one_valid_signature_among_two_is_enough() {
        let fake = testkit::fake();
        let b = body("invoice.payment_failed");
        let outcome = fake.host.run(|| {
            let good = delivery::SIGNATURE
                .sign("webhook_secret", NOW_SECS, b.as_bytes())
                .unwrap();
            let bad = delivery::SIGNATURE
                .sign("wrong_secret", NOW_SECS, b.as_bytes())
                .unwrap();
            let bad_v1 = bad.split_once(",v1=").unwrap().1;
            let good_v1 = good.split_once(",v1=").unwrap().1;
            DevBilling::handle_webhook(webhook(
                Some(format!("t={NOW_SECS},v1={bad_v1},v1={good_v1}")),
                &b,
            ))
        });
        assert!(
            matches!(outcome, Ok(WebhookOutcome::Event(e)) if e.kind == EventKind::PaymentFailed)
        );
    }

    #[test]
    fn an_unknown_event_type_is_ignored() {
        let b = body("customer.created");
        assert!(matches!(
            handle("webhook_secret", NOW_SECS, &b, &b),
            Ok(WebhookOutcome::Ignored(_))
        ));
    }

    #[test]
    fn a_signed_but_malformed_body_is_invalid_input() {
        assert!(matches!(
            handle("webhook_secret", NOW_SECS, "{nope", "{nope"),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn get_subscription_returns_the_stored_state() {
        let fake = testkit::fake();
        let session = testkit::paid(&fake, "key-1");
        let sub_id = fake.events()[0].subscription_id.clone().unwrap();
        let sub = fake
            .host
            .run(|| DevBilling::get_subscription(sub_id.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(sub.id, sub_id);
        assert_eq!(Some(sub.customer_id), session.customer_id);
        assert_eq!(sub.user_id.as_deref(), Some("user-1"));
        assert_eq!(sub.status, SubscriptionStatus::Active);
        assert_eq!(
            sub.current_period_end_ms,
            Some((NOW_SECS + checkout::PERIOD_SECS) * 1000)
        );
        assert_eq!(sub.price_id.as_deref(), Some("price_dev_monthly"));
        assert!(!sub.cancel_at_period_end);
    }

    #[test]
    fn get_subscription_of_an_unknown_id_is_none() {
        let fake = testkit::fake();
        assert_eq!(
            fake.host
                .run(|| DevBilling::get_subscription("sub_nope".into())),
            Ok(None)
        );
    }

    #[test]
    fn unknown_pages_are_404() {
        let fake = testkit::fake();
        for (method, path) in [
            ("GET", "/nope"),
            ("DELETE", "/checkout/cs_1"),
            ("GET", "/checkout/cs_1/pay"),
            ("GET", "/"),
        ] {
            let response = fake
                .host
                .run(|| DevBilling::serve_page(testkit::page(method, path)))
                .unwrap();
            assert_eq!(response.status, 404, "{method} {path}");
        }
    }
}
