//! Inbound provider webhooks: verified by the plugin, applied by the host once per event id.
//!
//! The plugin verifies the signature and normalizes the event. The host then finds the
//! user, asks the provider for the subscription's current state when the event carries none
//! or may be out of order (as Stripe recommends), and in one transaction records the event
//! id and stores the state the [`machine`](super::machine) decides on
//! ([`writer`](super::writer)). A duplicate, even delivered concurrently, is found by its
//! event id and changes nothing.

use crate::db::subscriptions::{self, Subscription};
use crate::db::{now_ms, users};
use crate::plugins::CallError;
use crate::plugins::types::{
    BillingEvent, EventKind, PluginError, Subscription as ProviderSubscription, SubscriptionStatus,
    WebhookOutcome, WebhookRequest,
};

use super::machine::{Candidate, Outcome};
use super::writer::Pending;
use super::{Billing, BillingError, BillingResult};

/// What became of a webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum Receipt {
    /// A new event, recorded with what it did.
    Recorded(Outcome),
    /// An event already recorded: nothing changed.
    Duplicate,
    /// Verified, but of a type that changes nothing here.
    Ignored(String),
}

impl Receipt {
    /// The word the webhook's answer and the metrics use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Recorded(outcome) => outcome.as_str(),
            Self::Duplicate => "duplicate",
            Self::Ignored(_) => "ignored",
        }
    }
}

/// Stripe's word for a status, as stored.
pub fn status_word(status: SubscriptionStatus) -> &'static str {
    match status {
        SubscriptionStatus::Incomplete => "incomplete",
        SubscriptionStatus::IncompleteExpired => "incomplete_expired",
        SubscriptionStatus::Trialing => "trialing",
        SubscriptionStatus::Active => "active",
        SubscriptionStatus::PastDue => "past_due",
        SubscriptionStatus::Unpaid => "unpaid",
        SubscriptionStatus::Canceled => "canceled",
        SubscriptionStatus::Paused => "paused",
    }
}

/// The status an event implies when neither it nor the provider describes the
/// subscription.
fn implied_status(kind: EventKind) -> Option<&'static str> {
    match kind {
        EventKind::CheckoutCompleted | EventKind::PaymentSucceeded => Some("active"),
        EventKind::PaymentFailed => Some("past_due"),
        EventKind::SubscriptionDeleted => Some("canceled"),
        EventKind::SubscriptionUpdated => None,
    }
}

impl Billing {
    /// Handles one webhook for the plugin `plugin` (the active provider when `None`).
    pub async fn receive(
        &self,
        plugin: Option<&str>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> BillingResult<Receipt> {
        let provider = match plugin {
            Some(name) => self.registry.current().billing_named(name),
            None => self.registry.current().billing(),
        }
        .map_err(|err| match err {
            CallError::NotAvailable(_) if plugin.is_some() => BillingError::NotFound("Webhook"),
            other => other.into(),
        })?;
        let name = provider.name().to_string();
        let request = WebhookRequest {
            headers,
            body,
            received_at_ms: now_ms() as u64,
        };
        let event = match provider.handle_webhook(&request).await {
            Ok(WebhookOutcome::Event(event)) => event,
            Ok(WebhookOutcome::Ignored(reason)) => {
                tracing::debug!(plugin = %name, %reason, "webhook ignored");
                return Ok(count(&name, Receipt::Ignored(reason)));
            }
            Err(CallError::Plugin {
                error: PluginError::Unauthorized(reason) | PluginError::InvalidInput(reason),
                ..
            }) => {
                tracing::warn!(plugin = %name, %reason, "webhook refused");
                metrics::counter!("ava_billing_webhooks_total", "plugin" => name, "outcome" => "refused")
                    .increment(1);
                return Err(BillingError::Rejected(reason));
            }
            Err(other) => return Err(other.into()),
        };
        if event.id.trim().is_empty() {
            return Err(BillingError::BadAnswer {
                plugin: name,
                what: "an event without an id".into(),
            });
        }

        let held_before = self.held(&name, &event).await?;
        let state = self
            .current_state(&provider, &event, held_before.as_ref())
            .await?;
        let user = match held_before.as_ref() {
            Some(held) => Some(held.user_id.clone()),
            None => self.find_user(&name, &event, state.as_ref()).await?,
        };
        let receipt = self.apply(&name, &event, state, user.as_deref()).await?;
        if receipt == Receipt::Recorded(Outcome::Applied)
            && let Some(user) = &user
        {
            self.chat.forget_user(user);
        }
        tracing::info!(
            plugin = %name,
            event = %event.id,
            kind = %event.provider_type,
            user = user.as_deref().unwrap_or("-"),
            outcome = receipt.as_str(),
            "webhook"
        );
        Ok(count(&name, receipt))
    }

    /// The subscription held by the user the event is about, as [`find_user`] finds them
    /// from the event alone, in one query.
    ///
    /// [`find_user`]: Self::find_user
    async fn held(
        &self,
        provider: &str,
        event: &BillingEvent,
    ) -> BillingResult<Option<Subscription>> {
        let pool = self.db.pool();
        let named = event
            .user_id
            .as_ref()
            .or_else(|| event.subscription.as_ref().and_then(|s| s.user_id.as_ref()));
        if let Some(id) = named {
            return Ok(subscriptions::user_with_subscription(pool, id)
                .await?
                .and_then(|(_, held)| held));
        }
        let subscription_id = event.subscription_id.as_deref();
        let customer_id = event.customer_id.as_deref();
        if subscription_id.is_none() && customer_id.is_none() {
            return Ok(None);
        }
        Ok(
            subscriptions::held_by_provider_ids(pool, provider, subscription_id, customer_id)
                .await?,
        )
    }

    /// The user an event is about: named by the event or the subscription's metadata, or
    /// known by its subscription or customer id. Only a user who still exists.
    async fn find_user(
        &self,
        provider: &str,
        event: &BillingEvent,
        state: Option<&ProviderSubscription>,
    ) -> BillingResult<Option<String>> {
        let pool = self.db.pool();
        let named = event
            .user_id
            .as_ref()
            .or_else(|| event.subscription.as_ref().and_then(|s| s.user_id.as_ref()))
            .or_else(|| state.and_then(|s| s.user_id.as_ref()));
        if let Some(id) = named {
            return Ok(users::by_id(pool, id).await?.map(|u| u.id));
        }
        let subscription_id = event
            .subscription_id
            .as_ref()
            .or_else(|| state.map(|s| &s.id));
        if let Some(id) = subscription_id
            && let Some(user) = subscriptions::user_of_subscription(pool, provider, id).await?
        {
            return Ok(Some(user));
        }
        let customer_id = event
            .customer_id
            .as_ref()
            .or_else(|| state.map(|s| &s.customer_id));
        match customer_id {
            Some(id) => Ok(subscriptions::user_of_customer(pool, provider, id).await?),
            None => Ok(None),
        }
    }

    /// The subscription's state to decide on: the provider's current one when the event
    /// carries none, or when it is not newer than what is held (it may be out of order);
    /// otherwise the event's own.
    async fn current_state(
        &self,
        provider: &crate::plugins::Billing,
        event: &BillingEvent,
        held: Option<&Subscription>,
    ) -> BillingResult<Option<ProviderSubscription>> {
        let newer = held.is_none_or(|h| event.created_at_ms as i64 > h.state_as_of);
        let Some(id) = event
            .subscription_id
            .as_ref()
            .or_else(|| event.subscription.as_ref().map(|s| &s.id))
        else {
            return Ok(event.subscription.clone());
        };
        if event.subscription.is_some() && newer {
            return Ok(event.subscription.clone());
        }
        match provider.get_subscription(id).await {
            Ok(Some(current)) => Ok(Some(current)),
            Ok(None) => Ok(event.subscription.clone()),
            Err(CallError::Plugin {
                error: PluginError::Unsupported(_),
                ..
            }) => Ok(event.subscription.clone()),
            // The event's own word will do; without one, the provider retries later.
            Err(err) if event.subscription.is_some() => {
                tracing::warn!(plugin = provider.name(), error = %err, "cannot re-fetch a subscription; using the event's");
                Ok(event.subscription.clone())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Records the event and stores the state it leads to, in one transaction.
    async fn apply(
        &self,
        provider: &str,
        event: &BillingEvent,
        state: Option<ProviderSubscription>,
        user: Option<&str>,
    ) -> BillingResult<Receipt> {
        self.writer
            .apply(Pending {
                provider: provider.to_string(),
                event_id: event.id.clone(),
                event_type: event.provider_type.clone(),
                created_at: event.created_at_ms as i64,
                user: user.map(str::to_string),
                candidate: candidate(provider, event, state.as_ref()),
            })
            .await
    }
}

/// Counts `receipt` in the metrics and passes it on.
fn count(plugin: &str, receipt: Receipt) -> Receipt {
    metrics::counter!("ava_billing_webhooks_total", "plugin" => plugin.to_string(), "outcome" => receipt.as_str())
        .increment(1);
    receipt
}

/// The state an event proposes: the provider's subscription when known, or what the
/// event's kind implies.
fn candidate(
    provider: &str,
    event: &BillingEvent,
    state: Option<&ProviderSubscription>,
) -> Option<Candidate> {
    let as_of = event.created_at_ms as i64;
    match state {
        Some(s) => Some(Candidate {
            provider: provider.to_string(),
            subscription_id: Some(s.id.clone()),
            customer_id: Some(s.customer_id.clone()).filter(|c| !c.is_empty()),
            status: status_word(s.status).to_string(),
            current_period_end: s.current_period_end_ms.map(|ms| ms as i64),
            cancel_at_period_end: Some(s.cancel_at_period_end),
            price_id: s.price_id.clone(),
            as_of,
        }),
        None => implied_status(event.kind).map(|status| Candidate {
            provider: provider.to_string(),
            subscription_id: event.subscription_id.clone(),
            customer_id: event.customer_id.clone(),
            status: status.to_string(),
            current_period_end: None,
            cancel_at_period_end: None,
            price_id: None,
            as_of,
        }),
    }
}
