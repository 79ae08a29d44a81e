//! Billing provider plugins: checkout, customer portal and verified webhooks.
//!
//! Implement [`BillingProvider`] and export it with
//! [`export_billing_provider!`](crate::export_billing_provider).

pub use crate::bindings::billing_provider::ava::plugin::billing::{
    BillingEvent, CheckoutRequest, CheckoutSession, EventKind, PageRequest, PageResponse,
    PortalRequest, PortalSession, Subscription, SubscriptionStatus, WebhookOutcome, WebhookRequest,
};
use crate::{PluginError, PluginInfo};

/// A billing provider plugin.
pub trait BillingProvider {
    /// Who the plugin is; see [`plugin_info!`](crate::plugin_info).
    fn metadata() -> PluginInfo;

    /// Verifies that the plugin can work as configured, as only it can: credentials
    /// accepted, the model or price there, the upstream answering (contract 0.2.0). Called by
    /// `ava plugin check --upstream`, never on a user's request. By default there is nothing
    /// to verify.
    fn check() -> Result<(), PluginError> {
        Ok(())
    }

    /// Starts a subscription checkout.
    fn create_checkout(request: CheckoutRequest) -> Result<CheckoutSession, PluginError>;

    /// Opens the self-service portal of an existing customer.
    fn create_portal(request: PortalRequest) -> Result<PortalSession, PluginError>;

    /// Verifies and normalizes an inbound webhook. Forged or stale: `unauthorized`.
    fn handle_webhook(request: WebhookRequest) -> Result<WebhookOutcome, PluginError>;

    /// The provider's current state of subscription `id`. By default unsupported: the host
    /// then orders events by their creation time alone.
    fn get_subscription(id: String) -> Result<Option<Subscription>, PluginError> {
        let _ = id;
        Err(PluginError::unsupported(
            "this provider cannot fetch subscriptions",
        ))
    }

    /// Serves a page under `/dev/`. By default unsupported (the host answers 404).
    fn serve_page(request: PageRequest) -> Result<PageResponse, PluginError> {
        let _ = request;
        Err(PluginError::unsupported("this provider serves no pages"))
    }
}

impl SubscriptionStatus {
    /// The status Stripe (and any provider using its vocabulary) spells `word`. An unknown
    /// status is refused rather than guessed: a wrong guess could grant or remove access.
    pub fn from_stripe(word: &str) -> Result<Self, PluginError> {
        Ok(match word {
            "active" => Self::Active,
            "trialing" => Self::Trialing,
            "past_due" => Self::PastDue,
            "unpaid" => Self::Unpaid,
            "canceled" => Self::Canceled,
            "incomplete" => Self::Incomplete,
            "incomplete_expired" => Self::IncompleteExpired,
            "paused" => Self::Paused,
            other => {
                return Err(PluginError::invalid_input(format!(
                    "unknown subscription status `{other}`"
                )));
            }
        })
    }
}

impl CheckoutRequest {
    /// `invalid-input` when the user id or a return URL is empty: no provider can start a
    /// checkout without them.
    pub fn check_required(&self) -> Result<(), PluginError> {
        for (name, value) in [
            ("user id", &self.user_id),
            ("success URL", &self.success_url),
            ("cancel URL", &self.cancel_url),
        ] {
            if value.trim().is_empty() {
                return Err(PluginError::invalid_input(format!(
                    "the checkout's {name} is empty"
                )));
            }
        }
        Ok(())
    }
}

impl WebhookRequest {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl PageRequest {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded `(key, value)` pairs of the query string.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The decoded `(key, value)` pairs of a form body.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

impl PageResponse {
    /// A `text/html` page.
    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.into().into_bytes(),
        }
    }

    /// A `303 See Other` redirect to `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self {
            status: 303,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

/// Exports a [`BillingProvider`] implementation as this component's `billing-provider` world.
#[macro_export]
macro_rules! export_billing_provider {
    ($plugin:ty) => {
        $crate::__embed_contract_version!();

        #[doc(hidden)]
        pub struct __AvaBillingProviderExport;

        impl $crate::__bindings::billing_provider::Guest for __AvaBillingProviderExport {
            fn metadata() -> $crate::PluginInfo {
                <$plugin as $crate::billing::BillingProvider>::metadata()
            }
            fn check() -> ::core::result::Result<(), $crate::PluginError> {
                <$plugin as $crate::billing::BillingProvider>::check()
            }
            fn create_checkout(
                request: $crate::billing::CheckoutRequest,
            ) -> ::core::result::Result<$crate::billing::CheckoutSession, $crate::PluginError> {
                <$plugin as $crate::billing::BillingProvider>::create_checkout(request)
            }
            fn create_portal(
                request: $crate::billing::PortalRequest,
            ) -> ::core::result::Result<$crate::billing::PortalSession, $crate::PluginError> {
                <$plugin as $crate::billing::BillingProvider>::create_portal(request)
            }
            fn handle_webhook(
                request: $crate::billing::WebhookRequest,
            ) -> ::core::result::Result<$crate::billing::WebhookOutcome, $crate::PluginError> {
                <$plugin as $crate::billing::BillingProvider>::handle_webhook(request)
            }
            fn get_subscription(
                id: ::std::string::String,
            ) -> ::core::result::Result<
                ::core::option::Option<$crate::billing::Subscription>,
                $crate::PluginError,
            > {
                <$plugin as $crate::billing::BillingProvider>::get_subscription(id)
            }
            fn serve_page(
                request: $crate::billing::PageRequest,
            ) -> ::core::result::Result<$crate::billing::PageResponse, $crate::PluginError> {
                <$plugin as $crate::billing::BillingProvider>::serve_page(request)
            }
        }

        $crate::__bindings::billing_provider::__export_billing_provider_world!(
            __AvaBillingProviderExport with_types_in $crate::__bindings::billing_provider
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_stripe_documents_is_known() {
        for (word, status) in [
            ("active", SubscriptionStatus::Active),
            ("trialing", SubscriptionStatus::Trialing),
            ("past_due", SubscriptionStatus::PastDue),
            ("unpaid", SubscriptionStatus::Unpaid),
            ("canceled", SubscriptionStatus::Canceled),
            ("incomplete", SubscriptionStatus::Incomplete),
            ("incomplete_expired", SubscriptionStatus::IncompleteExpired),
            ("paused", SubscriptionStatus::Paused),
        ] {
            assert_eq!(SubscriptionStatus::from_stripe(word), Ok(status), "{word}");
        }
    }

    #[test]
    fn an_unknown_status_is_refused_by_name() {
        assert!(matches!(
            SubscriptionStatus::from_stripe("sleeping"),
            Err(PluginError::InvalidInput(m)) if m.contains("`sleeping`")
        ));
    }

    #[test]
    fn a_checkout_needs_a_user_and_both_urls() {
        let complete = CheckoutRequest {
            user_id: "user-1".into(),
            email: "a@example.com".into(),
            customer_id: None,
            success_url: "https://ava.example/chat".into(),
            cancel_url: "https://ava.example/subscribe".into(),
            idempotency_key: "key".into(),
        };
        assert_eq!(complete.check_required(), Ok(()));
        for (field, name) in [(0, "user id"), (1, "success URL"), (2, "cancel URL")] {
            let mut missing = complete.clone();
            *[
                &mut missing.user_id,
                &mut missing.success_url,
                &mut missing.cancel_url,
            ][field] = "  ".into();
            assert!(matches!(
                missing.check_required(),
                Err(PluginError::InvalidInput(m)) if m.contains(name)
            ));
        }
    }
}
