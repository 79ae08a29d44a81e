//! The current state of a subscription at Stripe, for events that arrive out of order.

use ava_sdk::PluginError;
use ava_sdk::billing::Subscription;
use stripe_billing::subscription::RetrieveSubscription;

use crate::client::HostClient;
use crate::{api_error, normalize, settings};

/// Subscription `id` as Stripe has it now; `None` when Stripe does not know it.
pub fn get(id: &str) -> Result<Option<Subscription>, PluginError> {
    // The id becomes part of the request path: anything but an id's characters could
    // point the request elsewhere.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(PluginError::invalid_input(format!(
            "{id:?} is not a Stripe subscription id"
        )));
    }
    let client = HostClient::new(settings::api_base()?);
    match RetrieveSubscription::new(id).send_blocking(&client) {
        Ok(subscription) => normalize::typed_subscription(&subscription).map(Some),
        Err(failure) if api_error::is_missing(&failure.0) => Ok(None),
        Err(failure) => Err(failure.into()),
    }
}
