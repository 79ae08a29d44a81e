//! `check`: the secret key and the configured price verified with one free request, so a
//! wrong key, a price from another account or mode, or an archived or one-time price is found
//! by `ava plugin check`, not by the first user who tries to pay.

use ava_sdk::PluginError;
use ava_sdk::http::Request;
use serde::Deserialize;

use crate::api_error;
use crate::settings::{self, SECRET_KEY};

/// How long `check` waits for Stripe.
const TIMEOUT_MS: u32 = 10_000;

/// The fields of a Price that decide whether it can be sold as the subscription.
#[derive(Debug, Deserialize)]
struct Price {
    active: bool,
    /// `None` for a one-time price.
    recurring: Option<Recurring>,
    livemode: bool,
}

#[derive(Debug, Deserialize)]
struct Recurring {
    interval: String,
}

/// Retrieves the configured price and checks that a subscription can be sold with it.
pub fn check() -> Result<(), PluginError> {
    let price_id = settings::price_id()?;
    let url = format!("{}/v1/prices/{price_id}", settings::api_base()?);
    let response = Request::get(url)
        .bearer_secret(SECRET_KEY)
        // Pinned as every other call of this plugin is (client.rs).
        .header("Stripe-Version", stripe_client_core::VERSION.as_str())
        .timeout_ms(TIMEOUT_MS)
        .send()?;
    if !response.is_success() {
        let err = api_error::from_response(&response);
        return Err(if api_error::is_missing(&err) {
            PluginError::invalid_input(format!(
                "Stripe has no price {price_id} for this secret key: check `price_id` \
                 (a price of another account, or of test mode with a live key, is not found)"
            ))
        } else {
            err
        });
    }
    let price: Price = serde_json::from_slice(&response.body).map_err(api_error::malformed)?;
    let mode = if price.livemode { "live" } else { "test" };
    if !price.active {
        return Err(PluginError::invalid_input(format!(
            "the {mode}-mode price {price_id} is archived: Checkout refuses it"
        )));
    }
    match price.recurring {
        None => Err(PluginError::invalid_input(format!(
            "the {mode}-mode price {price_id} is a one-time price: a subscription needs a \
             recurring one"
        ))),
        Some(recurring) => {
            ava_sdk::info!(
                "price {price_id} ({mode} mode) recurs every {}",
                recurring.interval
            );
            Ok(())
        }
    }
}
