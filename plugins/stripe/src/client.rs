//! async-stripe's blocking client, implemented over the host's `http-fetch`.
//!
//! The library builds each request (path, form body, query) and reads each response into its
//! types; this client only carries them. The secret key is a `{secret:…}` placeholder that
//! the host fills in on the way out, so it never enters the plugin's memory.

use std::fmt::Display;

use ava_sdk::http::Request;
use ava_sdk::{HttpMethod, PluginError};
use bytes::Bytes;
use stripe_client_core::{
    CustomizedStripeRequest, RequestStrategy, StripeBlockingClient, StripeClientErr, StripeMethod,
};

use crate::api_error;
use crate::settings::SECRET_KEY;

/// How long Stripe gets to answer one request, unless the request sets its own timeout.
/// Stripe answers in well under a second; the host's own call deadline applies as well.
const DEFAULT_TIMEOUT_MS: u32 = 20_000;

/// A Stripe API client whose requests the host sends.
#[derive(Debug, Clone)]
pub struct HostClient {
    /// E.g. `https://api.stripe.com`, without a trailing slash.
    api_base: String,
}

impl HostClient {
    /// A client for the API at `api_base`.
    pub fn new(api_base: impl Into<String>) -> Self {
        Self {
            api_base: api_base.into(),
        }
    }
}

/// A failed call, already in the host's terms. The library needs an error type of the
/// client's own that it can report unreadable responses with.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFailure(pub PluginError);

impl StripeClientErr for CallFailure {
    fn deserialize_err(msg: impl Display) -> Self {
        Self(api_error::malformed(msg))
    }
}

impl From<CallFailure> for PluginError {
    fn from(failure: CallFailure) -> Self {
        failure.0
    }
}

impl StripeBlockingClient for HostClient {
    type Err = CallFailure;

    /// Sends the request once. Retries are left to whoever called the plugin: the host's
    /// checkout is retried by the user under the same idempotency key, and Stripe itself
    /// redelivers webhooks.
    fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, CallFailure> {
        let (request, overrides) = request.into_pieces();
        let mut url = format!("{}/v1{}", self.api_base, request.path);
        if let Some(query) = request.query.filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(&query);
        }
        let timeout_ms = overrides
            .timeout
            .map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX))
            .unwrap_or(DEFAULT_TIMEOUT_MS);
        let mut http = Request::new(method(request.method), url)
            .bearer_secret(SECRET_KEY)
            // The shape of every object is pinned to the one the library's types describe.
            .header("Stripe-Version", stripe_client_core::VERSION.as_str())
            .timeout_ms(timeout_ms);
        if let Some(key) = overrides
            .request_strategy
            .as_ref()
            .and_then(RequestStrategy::get_key)
        {
            http = http.header("Idempotency-Key", key.as_str());
        }
        if let Some(body) = request.body {
            http = http.body(body.into_bytes(), "application/x-www-form-urlencoded");
        }
        let response = http.send().map_err(|err| CallFailure(err.into()))?;
        if !response.is_success() {
            return Err(CallFailure(api_error::from_response(&response)));
        }
        Ok(Bytes::from(response.body))
    }
}

fn method(method: StripeMethod) -> HttpMethod {
    match method {
        StripeMethod::Get => HttpMethod::Get,
        StripeMethod::Post => HttpMethod::Post,
        StripeMethod::Delete => HttpMethod::Delete,
    }
}
