//! Talking to the Chat Completions endpoint: the HTTP request with its headers, a whole
//! response, or a stream whose text is pushed to the user as it arrives.

use ava_sdk::chat;
use ava_sdk::http::{Request, Response};
use ava_sdk::{PluginError, debug, warn};

use crate::completion::{self, Body, Outcome};
use crate::errors;
use crate::settings::{API_KEY, Settings};
use crate::stream::{Accumulator, Step};

/// Sends `body` and waits for the whole completion.
pub fn complete(settings: &Settings, body: &Body) -> Result<Outcome, PluginError> {
    debug!("requesting a completion from {}", settings.model);
    let response = request(settings, body).send()?;
    if !response.is_success() {
        return Err(failure(settings, &response));
    }
    completion::parse(response.status, &response.body)
}

/// Sends `body` as a streamed request, pushes each text delta with `chat::push`, and returns
/// the whole completion.
pub fn stream(settings: &Settings, body: &Body) -> Result<Outcome, PluginError> {
    debug!("streaming a completion from {}", settings.model);
    let mut response = request(settings, body)
        .header("Accept", "text/event-stream")
        .send_stream()?;
    if !response.is_success() {
        let response = response.collect()?;
        return Err(failure(settings, &response));
    }
    // A server that ignores `stream` answers with plain JSON: take it whole.
    if response
        .header("content-type")
        .is_some_and(|t| t.trim_start().starts_with("application/json"))
    {
        let response = response.collect()?;
        let outcome = completion::parse(response.status, &response.body)?;
        chat::push(&outcome.text);
        return Ok(outcome);
    }
    let mut accumulator = Accumulator::default();
    while let Some(event) = response.next_event()? {
        match accumulator.feed(&event.data)? {
            Step::Text(delta) => chat::push(&delta),
            Step::Done => break,
        }
    }
    accumulator.finish()
}

/// The POST with the configured headers. The key, when configured, is a placeholder the host
/// fills in: the plugin never holds it. Without one (a local Ollama) no `Authorization`
/// header is sent at all.
fn request(settings: &Settings, body: &Body) -> Request {
    let mut request = Request::post(&settings.endpoint)
        .timeout_ms(settings.timeout_ms)
        .json(body);
    if settings.has_api_key {
        request = request.bearer_secret(API_KEY);
    }
    if let Some(referer) = &settings.referer {
        request = request.header("HTTP-Referer", referer);
    }
    if let Some(title) = &settings.title {
        request = request.header("X-Title", title);
    }
    request
}

/// How long `check` waits for the model's description.
const CHECK_TIMEOUT_MS: u32 = 10_000;

/// Asks the server about the configured model (`GET {base_url}/models/{model}`): proves the
/// key is accepted and the model is served, without a completion. A server that does not
/// describe models (some compatible ones answer a bare 404) cannot be asked: logged, not
/// failed.
pub fn look_up_model(settings: &Settings) -> Result<(), PluginError> {
    let base = settings
        .endpoint
        .strip_suffix("/chat/completions")
        .unwrap_or(&settings.endpoint);
    let mut request =
        Request::get(format!("{base}/models/{}", settings.model)).timeout_ms(CHECK_TIMEOUT_MS);
    if settings.has_api_key {
        request = request.bearer_secret(API_KEY);
    }
    let response = request.send()?;
    match response.status {
        200..=299 => Ok(()),
        404 if !errors::is_api_error(&response.body) => {
            warn!(
                "{base} does not describe models: `{}` could not be checked",
                settings.model
            );
            Ok(())
        }
        _ => Err(failure(settings, &response)),
    }
}

/// The error a non-2xx response means; a rejection without any key configured says what
/// to configure.
fn failure(settings: &Settings, response: &Response) -> PluginError {
    match errors::from_response(response) {
        PluginError::Unauthorized(_) if !settings.has_api_key => {
            PluginError::unauthorized(format!(
                "the API requires a key (HTTP {}): configure the `{API_KEY}` secret",
                response.status
            ))
        }
        other => other,
    }
}
