//! The plugin's configuration keys.

use ava_sdk::{ConfigKey, config};

/// The secret that signs webhooks (and derives ids).
pub const WEBHOOK_SECRET: &str = "webhook_secret";
const PRICE_LABEL: &str = "price_label";
const PRODUCT_NAME: &str = "product_name";

const DEFAULT_PRICE_LABEL: &str = "€9.99 / month";
const DEFAULT_PRODUCT_NAME: &str = "Ava — monthly";

/// The keys declared in `metadata()`.
pub fn keys() -> [ConfigKey; 3] {
    [
        ConfigKey::secret(
            WEBHOOK_SECRET,
            "Signs the webhooks this provider sends (like Stripe's `whsec_…`)",
        ),
        ConfigKey::optional(
            PRICE_LABEL,
            "The price shown on the checkout page (default `€9.99 / month`)",
        ),
        ConfigKey::optional(
            PRODUCT_NAME,
            "The product shown on the checkout page (default `Ava — monthly`)",
        ),
    ]
}

/// What the checkout page says the subscription costs.
pub fn price_label() -> String {
    config::get(PRICE_LABEL)
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PRICE_LABEL.into())
}

/// What the checkout page calls the subscription.
pub fn product_name() -> String {
    config::get(PRODUCT_NAME)
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PRODUCT_NAME.into())
}
