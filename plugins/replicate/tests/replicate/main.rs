//! The plugin's behaviour through `TestHost`: what Replicate receives, how a prediction is
//! followed to its end, and what each of Replicate's answers becomes.

mod check;
mod errors;
mod lifecycle;
mod output;
mod request;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use ava_sdk::images::{ImageData, ImageOutput, ImageProvider, ImageRequest};
use ava_sdk::testing::{MockResponse, RecordedRequest, TestHost};
use ava_sdk::{HttpMethod, PluginError};
use replicate::Replicate;
use serde_json::{Value, json};

pub const TOKEN: &str = "r8_Zx3testTokenNotReal0000000000000000";
pub const API: &str = "https://api.replicate.com";
pub const MODEL: &str = "black-forest-labs/flux-schnell";
pub const CREATE_URL: &str =
    "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions";
pub const ID: &str = "gm3qorzdhgbfurvjtvhg6dckhu";
pub const GET_URL: &str = "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu";
pub const CANCEL_URL: &str =
    "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel";
pub const OUTPUT_URL: &str =
    "https://replicate.delivery/xezq/9qlHbq1DqQFNT5Fw9fLyMEmQzX1vZ6NHeqEsrrvuqrK7jceTA/out-0.png";

/// A real 8×8 PNG, as a model would return it.
pub const PNG: &[u8] = include_bytes!("../fixtures/out-0.png");

/// A host configured for FLUX schnell with the token.
pub fn host() -> TestHost {
    TestHost::new()
        .config("model", MODEL)
        .secret("api_token", TOKEN)
}

/// The request every test draws, unless it says otherwise.
pub fn request() -> ImageRequest {
    ImageRequest {
        prompt: "portrait of Mira, short black hair, freckles, golden hour".into(),
        negative_prompt: Some("blurry, watermark".into()),
        seed: Some(1_234_567),
        width: 768,
        height: 1024,
    }
}

/// A prediction object as Replicate answers it.
pub fn prediction(status: &str, output: Value) -> Value {
    let mut p = json!({
        "id": ID,
        "model": MODEL,
        "version": "dp-4d0bcc010b3049749a251855f12800be",
        "input": {"prompt": "portrait of Mira"},
        "logs": "",
        "output": output,
        "data_removed": false,
        "error": null,
        "source": "api",
        "status": status,
        "created_at": "2026-01-01T00:00:00.123Z",
        "urls": {
            "cancel": CANCEL_URL,
            "get": GET_URL,
            "stream": "https://stream.replicate.com/v1/files/bcwr-3okdfv3o2qz6wjtbdgtsy6l5kq3d",
            "web": "https://replicate.com/p/gm3qorzdhgbfurvjtvhg6dckhu"
        }
    });
    if status == "succeeded" {
        p["completed_at"] = json!("2026-01-01T00:00:01.9Z");
        p["metrics"] = json!({"predict_time": 0.61, "total_time": 1.78});
    }
    p
}

/// Replicate's answer to a create: 201 with the prediction.
pub fn created(status: &str, output: Value) -> MockResponse {
    MockResponse::json(201, &prediction(status, output))
}

/// Replicate's answer to a status check.
pub fn polled(status: &str, output: Value) -> MockResponse {
    MockResponse::json(200, &prediction(status, output))
}

/// A failed prediction with Replicate's `error`.
pub fn failed(error: &str) -> MockResponse {
    let mut p = prediction("failed", Value::Null);
    p["error"] = json!(error);
    MockResponse::json(200, &p)
}

/// The output file, served as replicate.delivery serves it.
pub fn png_file() -> MockResponse {
    MockResponse::new(200, PNG).header("content-type", "image/png")
}

/// A stand-in for Replicate: answers creates, status checks (in order; the last repeats),
/// cancels and file downloads, by method and URL.
#[derive(Clone)]
pub struct FakeReplicate {
    create: MockResponse,
    polls: Rc<RefCell<VecDeque<MockResponse>>>,
    cancel: MockResponse,
    files: Vec<(String, MockResponse)>,
}

impl FakeReplicate {
    /// Answers the create with `create`, and the output URL with the PNG.
    pub fn new(create: MockResponse) -> Self {
        Self {
            create,
            polls: Rc::default(),
            cancel: polled("canceled", Value::Null),
            files: vec![(OUTPUT_URL.into(), png_file())],
        }
    }

    /// Answers the status checks with `polls`, in order; the last one repeats.
    pub fn polls(self, polls: impl IntoIterator<Item = MockResponse>) -> Self {
        self.polls.borrow_mut().extend(polls);
        self
    }

    /// Serves `response` at `url`.
    pub fn file(mut self, url: &str, response: MockResponse) -> Self {
        self.files.retain(|(u, _)| u != url);
        self.files.push((url.into(), response));
        self
    }

    /// A host (configured by `host`) whose network is this fake.
    pub fn serve(self, host: TestHost) -> TestHost {
        host.on_http(move |req| self.answer(req))
    }

    fn answer(&self, req: &RecordedRequest) -> MockResponse {
        let url = req.url.as_str();
        match req.method {
            HttpMethod::Post if url.ends_with("/cancel") => self.cancel.clone(),
            HttpMethod::Post => self.create.clone(),
            HttpMethod::Get if url.starts_with(&format!("{API}/v1/predictions/")) => {
                let mut polls = self.polls.borrow_mut();
                match polls.len() {
                    0 => panic!("unexpected status check {url}"),
                    1 => polls[0].clone(),
                    _ => polls.pop_front().unwrap(),
                }
            }
            HttpMethod::Get => self
                .files
                .iter()
                .find(|(u, _)| u == url)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| MockResponse::new(404, "Not Found")),
            other => panic!("unexpected {other:?} {url}"),
        }
    }
}

/// Draws `request()` on `host`.
pub fn generate(host: &TestHost) -> Result<ImageOutput, PluginError> {
    host.run(|| Replicate::generate(request()))
}

/// The image bytes and content type of an output.
pub fn bytes(output: &ImageOutput) -> (&str, &[u8]) {
    match &output.image {
        ImageData::Bytes(b) => (b.content_type.as_str(), b.data.as_slice()),
        ImageData::Url(url) => panic!("expected bytes, got the URL {url}"),
    }
}

/// `(method, url)` of every request, in order.
pub fn calls(host: &TestHost) -> Vec<(HttpMethod, String)> {
    host.requests()
        .into_iter()
        .map(|r| (r.method, r.url))
        .collect()
}
