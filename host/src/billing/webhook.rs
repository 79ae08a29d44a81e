//! Inbound provider webhooks: verified by the plugin, applied by the host once per event id.
//!
//! The plugin verifies the signature and normalizes the event. The host asks the provider
//! for the subscription's current state when the event carries none, or when it turns out
//! not to be newer than the state held (it may be out of order, as Stripe warns), and the
//! [`writer`](super::writer) finds the user, records the event id and stores the state the
//! [`machine`](super::machine) decides on, in one transaction. A duplicate, even delivered
//! concurrently, is found by its event id and changes nothing.

use crate::db::now_ms;
use crate::plugins::CallError;
use crate::plugins::types::{
    BillingEvent, EventKind, PluginError, Subscription as ProviderSubscription, SubscriptionStatus,
    WebhookOutcome, WebhookRequest,
};

use super::machine::{Candidate, Outcome};
use super::writer::{Applied, Pending, UserKey};
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

        // The event's own state when it has one; the writer says if it is not newer than
        // what is held, and then the provider is asked. Without one, it is asked at once.
        let (state, needs_newer) = match (&event.subscription, subscription_id(&event)) {
            (Some(snapshot), _) => (Some(snapshot.clone()), true),
            (None, Some(_)) => (self.refetch(&provider, &event).await?, false),
            (None, None) => (None, false),
        };
        let (receipt, user) = match self
            .writer
            .apply(pending(&name, &event, state, needs_newer))
            .await?
        {
            Applied::Done { receipt, user } => (receipt, user),
            Applied::Refetch => {
                let state = self.refetch(&provider, &event).await?;
                match self
                    .writer
                    .apply(pending(&name, &event, state, false))
                    .await?
                {
                    Applied::Done { receipt, user } => (receipt, user),
                    // Only a snapshot is checked for being newer; never expected here.
                    Applied::Refetch => return Err(BillingError::Raced),
                }
            }
        };
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

    /// The subscription's current state at the provider, falling back to the event's own
    /// when the provider does not know it or cannot say.
    async fn refetch(
        &self,
        provider: &crate::plugins::Billing,
        event: &BillingEvent,
    ) -> BillingResult<Option<ProviderSubscription>> {
        let Some(id) = subscription_id(event) else {
            return Ok(event.subscription.clone());
        };
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
}

/// The subscription an event is about, by id.
fn subscription_id(event: &BillingEvent) -> Option<&str> {
    event
        .subscription_id
        .as_deref()
        .or_else(|| event.subscription.as_ref().map(|s| s.id.as_str()))
}

/// What may tell whom an event is about, in order: the user it names, the subscription and
/// customer it mentions, then the same from the provider's state.
fn lookup(event: &BillingEvent, state: Option<&ProviderSubscription>) -> Vec<UserKey> {
    let mut keys = Vec::new();
    let named = event
        .user_id
        .as_ref()
        .or_else(|| event.subscription.as_ref().and_then(|s| s.user_id.as_ref()));
    if let Some(id) = named {
        keys.push(UserKey::User(id.clone()));
    }
    keys.extend(event.subscription_id.clone().map(UserKey::Subscription));
    keys.extend(event.customer_id.clone().map(UserKey::Customer));
    if let Some(state) = state {
        keys.extend(state.user_id.clone().map(UserKey::User));
        keys.push(UserKey::Subscription(state.id.clone()));
        if !state.customer_id.is_empty() {
            keys.push(UserKey::Customer(state.customer_id.clone()));
        }
    }
    keys
}

/// The event as the writer takes it.
fn pending(
    provider: &str,
    event: &BillingEvent,
    state: Option<ProviderSubscription>,
    needs_newer: bool,
) -> Pending {
    Pending {
        provider: provider.to_string(),
        event_id: event.id.clone(),
        event_type: event.provider_type.clone(),
        created_at: event.created_at_ms as i64,
        lookup: lookup(event, state.as_ref()),
        candidate: candidate(provider, event, state.as_ref()),
        needs_newer,
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
