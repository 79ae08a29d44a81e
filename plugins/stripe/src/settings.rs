//! The plugin's configuration keys, and the values read from them for each call.

use ava_sdk::{ConfigKey, PluginError, config};

/// The secret API key (`sk_…` or a restricted `rk_…`). The plugin only names it: the host
/// fills it into the `Authorization` header of each request to Stripe.
pub const SECRET_KEY: &str = "secret_key";
/// The webhook endpoint's signing secret (`whsec_…`), used through the host's HMAC.
pub const WEBHOOK_SECRET: &str = "webhook_secret";
const PRICE_ID: &str = "price_id";
const API_BASE: &str = "api_base";

const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// The keys declared in `metadata()`.
pub fn keys() -> [ConfigKey; 4] {
    [
        ConfigKey::secret(
            SECRET_KEY,
            "Stripe's secret API key (`sk_live_…`, `sk_test_…` or a restricted `rk_…`)",
        ),
        ConfigKey::secret(
            WEBHOOK_SECRET,
            "The signing secret of the webhook endpoint (`whsec_…`)",
        ),
        ConfigKey::required(
            PRICE_ID,
            "The recurring price of the monthly subscription (`price_…`)",
        ),
        ConfigKey::optional(
            API_BASE,
            "Stripe's API base URL (default `https://api.stripe.com`), e.g. a local stripe-mock",
        ),
    ]
}

/// Where Stripe's API is, without a trailing slash.
pub fn api_base() -> Result<String, PluginError> {
    let raw = config::get(API_BASE)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_API_BASE.into());
    if !(raw.starts_with("https://") || raw.starts_with("http://")) {
        return Err(PluginError::internal(format!(
            "configuration key `{API_BASE}` = {raw:?}: must be an http(s) URL"
        )));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// The price every checkout subscribes to.
pub fn price_id() -> Result<String, PluginError> {
    Ok(config::require(PRICE_ID)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;

    use super::*;

    #[test]
    fn the_api_base_defaults_to_stripe_and_loses_its_trailing_slash() {
        assert_eq!(
            TestHost::new().run(api_base).unwrap(),
            "https://api.stripe.com"
        );
        let local = TestHost::new().config(API_BASE, " http://127.0.0.1:12111/ ");
        assert_eq!(local.run(api_base).unwrap(), "http://127.0.0.1:12111");
    }

    #[test]
    fn an_api_base_without_scheme_names_its_key() {
        let host = TestHost::new().config(API_BASE, "api.stripe.com");
        assert!(matches!(
            host.run(api_base),
            Err(PluginError::Internal(m)) if m.contains("`api_base`")
        ));
    }

    #[test]
    fn a_missing_price_names_its_key() {
        assert!(matches!(
            TestHost::new().run(price_id),
            Err(PluginError::Internal(m)) if m.contains("`price_id`")
        ));
    }
}
