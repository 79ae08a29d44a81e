//! Sending a user to pay (checkout) or to manage what they pay (the portal), and what
//! their subscription looks like now.

use url::Url;

use super::{Billing, BillingError, BillingResult};
use crate::db::subscriptions::{self, Subscription};
use crate::db::{new_id, now_ms, users};
use crate::plugins::types::{CheckoutRequest, PortalRequest};

/// Where a paid checkout lands: the SPA's chat, with a marker it can greet the user with.
/// `{CHECKOUT_SESSION_ID}` is filled in by the provider (Stripe's template variable).
pub const SUCCESS_PATH: &str = "/chat?checkout=success&session_id={CHECKOUT_SESSION_ID}";
/// Where an abandoned checkout lands: the Subscribe page says it was cancelled.
pub const CANCEL_PATH: &str = "/subscribe?cancelled=1";
/// Where the portal sends the user back to.
pub const PORTAL_RETURN_PATH: &str = "/chat";

/// A user's subscription as `GET /billing/status` shows it.
#[derive(Debug, Clone)]
pub struct Status {
    pub subscription: Option<Subscription>,
    /// Whether `POST /billing/portal` can open a portal for them.
    pub can_manage: bool,
}

impl Billing {
    /// Starts a checkout for `user_id` and returns the URL to send them to. `attempt`
    /// (a client's `Idempotency-Key`) makes a retried request reuse the same session.
    pub async fn checkout(&self, user_id: &str, attempt: Option<&str>) -> BillingResult<String> {
        let provider = self.provider()?;
        let user = users::by_id(self.db.pool(), user_id)
            .await?
            .ok_or(BillingError::NotFound("User"))?;
        let held = subscriptions::get(self.db.pool(), user_id).await?;
        if held.as_ref().is_some_and(Subscription::grants_access) {
            return Err(BillingError::AlreadySubscribed);
        }
        let customer_id = held
            .filter(|h| h.provider == provider.name())
            .and_then(|h| h.customer_id);
        let attempt = attempt.map_or_else(new_id, str::to_string);
        let request = CheckoutRequest {
            user_id: user.id.clone(),
            email: user.email,
            customer_id,
            success_url: format!("{}{SUCCESS_PATH}", self.public_url),
            cancel_url: format!("{}{CANCEL_PATH}", self.public_url),
            idempotency_key: format!("ava-checkout-{}-{attempt}", user.id),
        };
        let session = provider.create_checkout(&request).await?;
        if let Some(customer) = session.customer_id.as_deref().filter(|c| !c.is_empty()) {
            let mut tx = self.db.write().await?;
            subscriptions::remember_customer(
                &mut **tx,
                &user.id,
                provider.name(),
                customer,
                now_ms(),
            )
            .await?;
            tx.commit().await?;
        }
        tracing::info!(user = %user.id, plugin = provider.name(), session = %session.id, "checkout started");
        self.resolve(provider.name(), &session.url)
    }

    /// Opens the provider's portal for `user_id` and returns its URL.
    pub async fn portal(&self, user_id: &str) -> BillingResult<String> {
        let provider = self.provider()?;
        let customer_id = subscriptions::get(self.db.pool(), user_id)
            .await?
            .filter(|h| manageable(h, provider.name()))
            .and_then(|h| h.customer_id)
            .ok_or(BillingError::NoCustomer)?;
        let session = provider
            .create_portal(&PortalRequest {
                customer_id,
                return_url: format!("{}{PORTAL_RETURN_PATH}", self.public_url),
            })
            .await?;
        self.resolve(provider.name(), &session.url)
    }

    /// `user_id`'s subscription now.
    pub async fn status(&self, user_id: &str) -> BillingResult<Status> {
        let subscription = subscriptions::get(self.db.pool(), user_id).await?;
        let active = self.registry.current().billing().ok();
        let can_manage = subscription
            .as_ref()
            .zip(active)
            .is_some_and(|(s, provider)| manageable(s, provider.name()));
        Ok(Status {
            subscription,
            can_manage,
        })
    }

    /// A URL from the plugin, absolute: a path is resolved against the public URL (pages
    /// the plugin serves under `/dev/`); anything but http(s) is refused.
    fn resolve(&self, plugin: &str, url: &str) -> BillingResult<String> {
        resolve(&self.public_url, url).ok_or_else(|| BillingError::BadAnswer {
            plugin: plugin.to_string(),
            what: format!("an unusable URL {url:?}"),
        })
    }
}

/// Whether the portal of `provider` can show `held`: a subscription made with it, not
/// just a checkout started.
fn manageable(held: &Subscription, provider: &str) -> bool {
    held.provider == provider && held.customer_id.is_some() && held.subscription_id.is_some()
}

/// `url` made absolute against `public_url`, if it is a path or an http(s) URL.
fn resolve(public_url: &str, url: &str) -> Option<String> {
    if url.starts_with('/') && !url.starts_with("//") {
        return Some(format!("{public_url}{url}"));
    }
    let parsed = Url::parse(url).ok()?;
    (matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some())
        .then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn paths_are_resolved_against_the_public_url() {
        assert_eq!(
            resolve("http://localhost:8080", "/dev/checkout/cs_1").as_deref(),
            Some("http://localhost:8080/dev/checkout/cs_1")
        );
    }

    #[test]
    fn absolute_http_urls_pass_and_others_do_not() {
        let stripe = "https://checkout.stripe.com/c/pay/cs_test_a1#fid";
        assert_eq!(resolve("http://x", stripe).as_deref(), Some(stripe));
        for bad in [
            "javascript:alert(1)",
            "//evil.example/x",
            "relative/path",
            "",
            "data:text/html,hi",
        ] {
            assert_eq!(resolve("http://x", bad), None, "{bad}");
        }
    }
}
