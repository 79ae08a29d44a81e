//! What the plugin declares about itself.

use ava_sdk::PluginError;
use ava_sdk::billing::{BillingProvider, PageRequest};
use stripe::Stripe;

use super::*;

#[test]
fn metadata_declares_both_secrets_the_price_and_the_api_base() {
    let info = Stripe::metadata();
    assert_eq!(info.name, "stripe");
    let keys: Vec<(&str, bool, bool)> = info
        .config
        .iter()
        .map(|k| (k.name.as_str(), k.required, k.secret))
        .collect();
    assert_eq!(
        keys,
        [
            ("secret_key", true, true),
            ("webhook_secret", true, true),
            ("price_id", true, false),
            ("api_base", false, false),
        ]
    );
}

#[test]
fn stripe_serves_no_pages() {
    let request = PageRequest {
        method: "GET".into(),
        path: "/checkout/cs_1".into(),
        query: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
        public_url: "http://127.0.0.1:8080".into(),
    };
    let result = host().run(|| Stripe::serve_page(request));
    assert!(
        matches!(result, Err(PluginError::Unsupported(_))),
        "{result:?}"
    );
}
