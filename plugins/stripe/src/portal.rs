//! The customer portal: a Stripe billing portal session for an existing customer.

use ava_sdk::PluginError;
use ava_sdk::billing::{PortalRequest, PortalSession};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;

use crate::client::HostClient;
use crate::settings;

/// Creates the portal session the user is redirected to.
pub fn create(request: PortalRequest) -> Result<PortalSession, PluginError> {
    let customer = request.customer_id.trim();
    if customer.is_empty() {
        return Err(PluginError::invalid_input(
            "the portal's customer id is empty",
        ));
    }
    if request.return_url.trim().is_empty() {
        return Err(PluginError::invalid_input(
            "the portal's return URL is empty",
        ));
    }
    let client = HostClient::new(settings::api_base()?);
    let session = CreateBillingPortalSession::new()
        .customer(customer)
        .return_url(request.return_url.as_str())
        .send_blocking(&client)?;
    Ok(PortalSession { url: session.url })
}
