//! The provider's state, in the plugin's key-value store as JSON. This is "Stripe's
//! database": the host keeps its own copy of what matters, learned from the webhooks.

use ava_sdk::{PluginError, kv};
use serde::{Deserialize, Serialize};

/// Checkout sessions expire like Stripe's: after a day.
pub const CHECKOUT_TTL_MS: u64 = 24 * 60 * 60 * 1000;
/// Portal links are short-lived.
pub const PORTAL_TTL_MS: u64 = 60 * 60 * 1000;
/// An undelivered portal event waits this long for its retry.
const OUTBOX_TTL_MS: u64 = 60 * 60 * 1000;

/// A checkout session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkout {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub customer_id: String,
    pub success_url: String,
    pub cancel_url: String,
    pub created_ms: u64,
    /// Paid and acknowledged by the host.
    pub complete: bool,
    /// Created at the first payment attempt, kept for the retries.
    pub subscription_id: Option<String>,
}

/// A subscription, in Stripe's vocabulary (`status` as Stripe spells it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer_id: String,
    pub user_id: String,
    pub status: String,
    /// Unix seconds, like Stripe.
    pub current_period_end: u64,
    pub cancel_at_period_end: bool,
    pub price_id: String,
}

/// A customer: whose it is and their subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub user_id: String,
    pub email: String,
    pub subscription_id: Option<String>,
}

/// A portal link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portal {
    pub customer_id: String,
    pub return_url: String,
}

pub fn load_checkout(id: &str) -> Result<Option<Checkout>, PluginError> {
    kv::get_json(&format!("checkout:{id}"))
}

/// Saves `checkout` until 24 h after its creation.
pub fn save_checkout(checkout: &Checkout, now_ms: u64) -> Result<(), PluginError> {
    let expires = checkout.created_ms + CHECKOUT_TTL_MS;
    let ttl = expires.saturating_sub(now_ms).max(1);
    kv::set_json(&format!("checkout:{}", checkout.id), checkout, Some(ttl))
}

/// The checkout created for idempotency key `key`, if any.
pub fn checkout_for_key(key: &str) -> Result<Option<String>, PluginError> {
    kv::get_json(&idem_key(key))
}

/// Claims idempotency key `key` for checkout `id`; false when another checkout has it.
pub fn claim_key(key: &str, id: &str) -> Result<bool, PluginError> {
    Ok(kv::add(&idem_key(key), &json(&id)?, Some(CHECKOUT_TTL_MS))?)
}

/// Points idempotency key `key` at checkout `id`, replacing an expired checkout.
pub fn replace_key(key: &str, id: &str) -> Result<(), PluginError> {
    kv::set_json(&idem_key(key), &id, Some(CHECKOUT_TTL_MS))
}

fn idem_key(key: &str) -> String {
    format!("idem:{key}")
}

pub fn load_subscription(id: &str) -> Result<Option<Subscription>, PluginError> {
    kv::get_json(&format!("subscription:{id}"))
}

pub fn save_subscription(subscription: &Subscription) -> Result<(), PluginError> {
    kv::set_json(
        &format!("subscription:{}", subscription.id),
        subscription,
        None,
    )
}

pub fn load_customer(id: &str) -> Result<Option<Customer>, PluginError> {
    kv::get_json(&format!("customer:{id}"))
}

pub fn save_customer(id: &str, customer: &Customer) -> Result<(), PluginError> {
    kv::set_json(&format!("customer:{id}"), customer, None)
}

pub fn load_portal(token: &str) -> Result<Option<Portal>, PluginError> {
    kv::get_json(&format!("portal:{token}"))
}

pub fn save_portal(token: &str, portal: &Portal) -> Result<(), PluginError> {
    kv::set_json(&format!("portal:{token}"), portal, Some(PORTAL_TTL_MS))
}

/// The event of `action` on `subscription_id` that the host refused, waiting to be sent
/// again: a retry re-sends it instead of applying the action twice.
pub fn load_outbox(
    subscription_id: &str,
    action: &str,
) -> Result<Option<serde_json::Value>, PluginError> {
    kv::get_json(&outbox_key(subscription_id, action))
}

pub fn save_outbox(
    subscription_id: &str,
    action: &str,
    event: &serde_json::Value,
) -> Result<(), PluginError> {
    kv::set_json(
        &outbox_key(subscription_id, action),
        event,
        Some(OUTBOX_TTL_MS),
    )
}

pub fn clear_outbox(subscription_id: &str, action: &str) -> Result<(), PluginError> {
    kv::delete(&outbox_key(subscription_id, action))?;
    Ok(())
}

fn outbox_key(subscription_id: &str, action: &str) -> String {
    format!("outbox:{subscription_id}:{action}")
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|err| PluginError::internal(format!("cannot encode: {err}")))
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;

    use super::*;

    fn checkout(created_ms: u64) -> Checkout {
        Checkout {
            id: "cs_1".into(),
            user_id: "u1".into(),
            email: "a@b.test".into(),
            customer_id: "cus_1".into(),
            success_url: "http://x/ok".into(),
            cancel_url: "http://x/no".into(),
            created_ms,
            complete: false,
            subscription_id: None,
        }
    }

    #[test]
    fn a_checkout_expires_a_day_after_creation_even_when_saved_again() {
        let host = TestHost::new();
        let start = host.run(ava_sdk::time::now_ms);
        host.run(|| save_checkout(&checkout(start), start)).unwrap();
        host.advance(CHECKOUT_TTL_MS - 1_000);
        host.run(|| save_checkout(&checkout(start), start + CHECKOUT_TTL_MS - 1_000))
            .unwrap();
        host.advance(1_000);
        assert_eq!(host.run(|| load_checkout("cs_1")).unwrap(), None);
    }

    #[test]
    fn an_idempotency_key_is_claimed_once() {
        let host = TestHost::new();
        assert!(host.run(|| claim_key("k", "cs_1")).unwrap());
        assert!(!host.run(|| claim_key("k", "cs_2")).unwrap());
        assert_eq!(
            host.run(|| checkout_for_key("k")).unwrap().as_deref(),
            Some("cs_1")
        );
    }
}
