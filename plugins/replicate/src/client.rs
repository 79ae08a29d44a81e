//! The three calls this plugin makes to Replicate's predictions API: create, get, cancel.
//!
//! The token is a `{secret:…}` placeholder the host fills in on the way out, so it never
//! enters the plugin's memory; it only ever goes to the configured API base.

use ava_sdk::PluginError;
use ava_sdk::http::{Request, Response};
use serde_json::json;

use crate::api_error;
use crate::input::ModelInput;
use crate::prediction::Prediction;
use crate::settings::{API_TOKEN, Settings, Target};

/// Replicate's predictions API at the configured base.
pub struct Client<'a> {
    settings: &'a Settings,
}

impl<'a> Client<'a> {
    pub fn new(settings: &'a Settings) -> Self {
        Self { settings }
    }

    /// Creates a prediction. With `Prefer: wait=N` Replicate holds the request open up to N
    /// seconds and, when the model is quick, answers with the finished prediction.
    pub fn create(
        &self,
        input: &ModelInput,
        wait_seconds: u32,
        timeout_ms: u32,
    ) -> Result<Prediction, PluginError> {
        let base = &self.settings.api_base;
        let (url, body) = match &self.settings.target {
            Target::Model { owner, name } => (
                format!("{base}/v1/models/{owner}/{name}/predictions"),
                json!({ "input": input.input }),
            ),
            Target::Version(version) => (
                format!("{base}/v1/predictions"),
                json!({ "version": version, "input": input.input }),
            ),
        };
        let request = Request::post(url)
            .header("Prefer", format!("wait={wait_seconds}"))
            .json(&body);
        self.send(request, timeout_ms)
    }

    /// The prediction's current state.
    pub fn get(&self, prediction: &Prediction, timeout_ms: u32) -> Result<Prediction, PluginError> {
        let url = self.own_url(prediction.urls.get.as_deref(), &prediction.id, "");
        self.send(Request::get(url), timeout_ms)
    }

    /// Asks Replicate to stop the prediction, so an abandoned one is not billed to the end.
    pub fn cancel(&self, prediction: &Prediction, timeout_ms: u32) -> Result<(), PluginError> {
        let url = self.own_url(prediction.urls.cancel.as_deref(), &prediction.id, "/cancel");
        self.exchange(Request::post(url), timeout_ms).map(drop)
    }

    /// Looks the configured model up (or, for a bare version id, the account): proves the token
    /// is accepted and the model exists, without running anything.
    pub fn look_up_target(&self, timeout_ms: u32) -> Result<(), PluginError> {
        let base = &self.settings.api_base;
        let url = match &self.settings.target {
            Target::Model { owner, name } => format!("{base}/v1/models/{owner}/{name}"),
            Target::Version(version) => match version.split_once(':') {
                Some((model, id)) => format!("{base}/v1/models/{model}/versions/{id}"),
                // A bare version id cannot be looked up without its model: the token can.
                None => format!("{base}/v1/account"),
            },
        };
        self.exchange(Request::get(url), timeout_ms).map(drop)
    }

    /// The URL Replicate gave for a follow-up when it lies under the configured API base;
    /// otherwise the documented path. A URL elsewhere is never followed: the token goes with
    /// every request.
    fn own_url(&self, given: Option<&str>, id: &str, suffix: &str) -> String {
        let base = &self.settings.api_base;
        match given {
            Some(url) if url.starts_with(&format!("{base}/")) => url.to_string(),
            _ => format!("{base}/v1/predictions/{id}{suffix}"),
        }
    }

    fn send(&self, request: Request, timeout_ms: u32) -> Result<Prediction, PluginError> {
        parse(&self.exchange(request, timeout_ms)?)
    }

    /// Sends `request` with the token; a non-2xx answer is an error.
    fn exchange(&self, request: Request, timeout_ms: u32) -> Result<Response, PluginError> {
        let response = request
            .bearer_secret(API_TOKEN)
            .timeout_ms(timeout_ms)
            .send()?;
        if !response.is_success() {
            return Err(api_error::from_response(&response));
        }
        Ok(response)
    }
}

/// A prediction from a 2xx body. Its id goes into later URLs, so it must be a plain token.
fn parse(response: &Response) -> Result<Prediction, PluginError> {
    let prediction: Prediction = serde_json::from_slice(&response.body)
        .map_err(|err| api_error::malformed(response.status, err))?;
    let plain = !prediction.id.is_empty()
        && prediction
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !plain {
        return Err(api_error::malformed(
            response.status,
            format!("unexpected prediction id {:?}", prediction.id),
        ));
    }
    Ok(prediction)
}
