//! Sending a signed event to the host's webhook endpoint, as Stripe would.

use ava_sdk::http::Request;
use ava_sdk::signature::SignatureHeader;
use ava_sdk::{PluginError, time};
use serde_json::Value;

use crate::settings::WEBHOOK_SECRET;

/// Signed exactly like Stripe's webhooks, in a header of this provider's own.
pub const SIGNATURE: SignatureHeader = SignatureHeader::new("Ava-Dev-Signature");

/// How long the host gets to answer a webhook.
const TIMEOUT_MS: u32 = 15_000;
/// How much of a refusal's body the error page shows.
const DETAIL_CHARS: usize = 300;

/// How the host took an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A 2xx answer.
    Accepted,
    /// Any other answer (`status`), or none at all.
    Refused { status: Option<u16>, detail: String },
}

/// The host's webhook endpoint under its public base URL.
pub fn webhook_url(public_url: &str) -> String {
    format!("{}/billing/webhook", public_url.trim_end_matches('/'))
}

/// Signs `event` now and posts it to the host at `public_url`.
pub fn deliver(public_url: &str, event: &Value) -> Result<Delivery, PluginError> {
    let body = serde_json::to_vec(event)
        .map_err(|err| PluginError::internal(format!("cannot encode event: {err}")))?;
    let header = SIGNATURE.sign(WEBHOOK_SECRET, time::now_ms() / 1000, &body)?;
    let kind = event.get("type").and_then(Value::as_str).unwrap_or("?");
    let url = webhook_url(public_url);
    let sent = Request::post(&url)
        .header(SIGNATURE.name(), header)
        .body(body, "application/json")
        .timeout_ms(TIMEOUT_MS)
        .send();
    let delivery = match sent {
        Ok(response) if response.is_success() => Delivery::Accepted,
        Ok(response) => Delivery::Refused {
            status: Some(response.status),
            detail: excerpt(&String::from_utf8_lossy(&response.body)),
        },
        Err(err) => Delivery::Refused {
            status: None,
            detail: err.message(),
        },
    };
    match &delivery {
        Delivery::Accepted => ava_sdk::info!("delivered {kind} to {url}"),
        Delivery::Refused { status, detail } => {
            ava_sdk::warn!("{url} refused {kind} (status {status:?}): {detail}")
        }
    }
    Ok(delivery)
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= DETAIL_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(DETAIL_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_url_ignores_a_trailing_slash() {
        assert_eq!(
            webhook_url("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/billing/webhook"
        );
        assert_eq!(
            webhook_url("https://ava.example"),
            "https://ava.example/billing/webhook"
        );
    }

    #[test]
    fn long_refusals_are_cut() {
        assert_eq!(excerpt(&"x".repeat(400)).chars().count(), DETAIL_CHARS + 1);
        assert_eq!(excerpt("  short  "), "short");
    }
}
