//! Provider ids. A plugin has no randomness that tests could pin down, so ids are derived:
//! the HMAC of something unique (user, key, time) under the webhook secret, in hex. They are
//! unguessable without the secret and stable for the same input, which is what makes some
//! operations idempotent (one subscription per checkout).

use ava_sdk::{PluginError, crypto};

use crate::settings::WEBHOOK_SECRET;

/// Hex characters after the prefix.
const LEN: usize = 24;

/// `prefix` followed by 24 hex characters derived from `input`.
pub fn derive(prefix: &str, input: &str) -> Result<String, PluginError> {
    let mac = crypto::hmac_sha256(WEBHOOK_SECRET, input.as_bytes())?;
    Ok(format!("{prefix}{}", &crypto::to_hex(&mac)[..LEN]))
}

/// A checkout session.
pub fn checkout(user_id: &str, idempotency_key: &str, now_ms: u64) -> Result<String, PluginError> {
    derive(
        "cs_dev_",
        &format!("checkout\n{user_id}\n{idempotency_key}\n{now_ms}"),
    )
}

/// The customer of a user who brings none: the same user always gets the same customer.
pub fn customer(user_id: &str) -> Result<String, PluginError> {
    derive("cus_dev_", &format!("customer\n{user_id}"))
}

/// The one subscription a checkout creates, however often it is paid.
pub fn subscription(checkout_id: &str) -> Result<String, PluginError> {
    derive("sub_dev_", &format!("subscription\n{checkout_id}"))
}

/// An event; the same input gives the same id, so the host applies a redelivery once.
pub fn event(input: &str) -> Result<String, PluginError> {
    derive("evt_dev_", &format!("event\n{input}"))
}

/// An invoice.
pub fn invoice(input: &str) -> Result<String, PluginError> {
    derive("in_dev_", &format!("invoice\n{input}"))
}

/// A portal link's token.
pub fn portal(customer_id: &str, return_url: &str, now_ms: u64) -> Result<String, PluginError> {
    derive(
        "bps_dev_",
        &format!("portal\n{customer_id}\n{return_url}\n{now_ms}"),
    )
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;

    use super::*;

    #[test]
    fn ids_have_the_prefix_and_24_hex_characters() {
        let host = TestHost::new().secret(WEBHOOK_SECRET, "whsec_test");
        let id = host.run(|| customer("user-1")).unwrap();
        assert!(id.starts_with("cus_dev_"));
        let hex = &id["cus_dev_".len()..];
        assert_eq!(hex.len(), 24);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn a_user_keeps_their_customer_id() {
        let host = TestHost::new().secret(WEBHOOK_SECRET, "whsec_test");
        let (a, b, c) = host.run(|| {
            (
                customer("u1").unwrap(),
                customer("u1").unwrap(),
                customer("u2").unwrap(),
            )
        });
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        let host = TestHost::new().secret(WEBHOOK_SECRET, "whsec_test");
        let (a, b) = host.run(|| {
            (
                checkout("ab", "c", 1).unwrap(),
                checkout("a", "bc", 1).unwrap(),
            )
        });
        assert_ne!(a, b);
    }
}
