//! The plugin's behaviour through `TestHost`: what the Images API receives for each model, how
//! the image in its answer becomes bytes, and what each of its refusals becomes.

mod check;
mod errors;
mod output;
mod request;

use std::rc::Rc;

use ava_sdk::images::{ImageData, ImageOutput, ImageProvider, ImageRequest};
use ava_sdk::testing::{MockResponse, RecordedRequest, TestHost};
use ava_sdk::{HttpMethod, PluginError};
use base64::Engine;
use openai_images::OpenAiImages;
use serde_json::{Value, json};

pub const KEY: &str = "sk-proj-testKeyNotReal000000000000000000";
pub const ENDPOINT: &str = "https://api.openai.com/v1/images/generations";
/// Where OpenAI links DALL·E images: a signed blob URL on another origin.
pub const BLOB_URL: &str = "https://oaidalleapiprodscus.blob.core.windows.net/private/org-abc/user-def/img-1.png?se=2026-01-01T01%3A00%3A00Z&sig=abc";

/// A real 8×8 PNG, as a model would return it.
pub const PNG: &[u8] = include_bytes!("../fixtures/image.png");
/// 1×1 JPEG and WebP headers: the plugin only needs their first bytes to tell them apart.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];
pub const WEBP: &[u8] =
    b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";

/// A host with the key and the default model (gpt-image-1).
pub fn host() -> TestHost {
    TestHost::new().secret("api_key", KEY)
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

pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// gpt-image-1's answer: the image as base64, with its format and usage.
pub fn b64_answer(data: &[u8], output_format: &str) -> MockResponse {
    MockResponse::json(
        200,
        &json!({
            "created": 1_767_225_600,
            "background": "opaque",
            "data": [{"b64_json": b64(data)}],
            "output_format": output_format,
            "quality": "medium",
            "size": "1024x1536",
            "usage": {
                "input_tokens": 50,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 50},
                "output_tokens": 1056,
                "total_tokens": 1106
            }
        }),
    )
}

/// DALL·E's answer with a link instead of bytes.
pub fn url_answer(url: &str) -> MockResponse {
    MockResponse::json(
        200,
        &json!({
            "created": 1_767_225_600,
            "data": [{"url": url, "revised_prompt": "A portrait of Mira at golden hour"}]
        }),
    )
}

/// OpenAI's error body.
pub fn api_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> MockResponse {
    MockResponse::json(
        status,
        &json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
    )
}

/// A stand-in for the Images API: answers the generation with `answer` and serves `files`.
pub fn serve(host: TestHost, answer: MockResponse, files: Vec<(&str, MockResponse)>) -> TestHost {
    let files: Rc<Vec<(String, MockResponse)>> = Rc::new(
        files
            .into_iter()
            .map(|(url, response)| (url.to_string(), response))
            .collect(),
    );
    host.on_http(move |req: &RecordedRequest| match req.method {
        HttpMethod::Post => answer.clone(),
        HttpMethod::Get => files
            .iter()
            .find(|(url, _)| *url == req.url)
            .map(|(_, response)| response.clone())
            .unwrap_or_else(|| MockResponse::new(404, "Not Found")),
        other => panic!("unexpected {other:?} {}", req.url),
    })
}

/// A host (configured by `host`) whose API answers a PNG as base64.
pub fn drawing(host: TestHost) -> TestHost {
    serve(host, b64_answer(PNG, "png"), Vec::new())
}

/// Draws `request()` on `host`.
pub fn generate(host: &TestHost) -> Result<ImageOutput, PluginError> {
    host.run(|| OpenAiImages::generate(request()))
}

/// The image bytes and content type of an output.
pub fn bytes(output: &ImageOutput) -> (&str, &[u8]) {
    match &output.image {
        ImageData::Bytes(b) => (b.content_type.as_str(), b.data.as_slice()),
        ImageData::Url(url) => panic!("expected bytes, got the URL {url}"),
    }
}

/// The generation request of a run on `host`.
pub fn generation(host: &TestHost) -> RecordedRequest {
    let requests = host.requests();
    let first = requests.first().expect("a request was sent").clone();
    assert_eq!(first.method, HttpMethod::Post, "{requests:#?}");
    first
}

/// The JSON body of the generation request of a run on `host`.
pub fn sent_body(host: &TestHost) -> Value {
    generation(host).json()
}
