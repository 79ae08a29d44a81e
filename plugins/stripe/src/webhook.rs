//! Inbound webhooks: Stripe's signature checked through the host's HMAC, then the event read.

use ava_sdk::billing::{WebhookOutcome, WebhookRequest};
use ava_sdk::signature::SignatureHeader;
use ava_sdk::{PluginError, time};

use crate::normalize;
use crate::settings::WEBHOOK_SECRET;

/// Where Stripe puts its signature.
pub const SIGNATURE: SignatureHeader = SignatureHeader::new("Stripe-Signature");

/// Verifies `request` and normalizes its event. Forged or stale: `unauthorized`; signed but
/// not an event: `invalid_input`.
pub fn handle(request: &WebhookRequest) -> Result<WebhookOutcome, PluginError> {
    SIGNATURE.verify(
        WEBHOOK_SECRET,
        request.header(SIGNATURE.name()),
        &request.body,
        time::now_ms(),
    )?;
    normalize::event(&request.body)
}
