//! The `openai-images` plugin, compiled and running in the host, against a local server that
//! speaks OpenAI's Images API: a gpt-image-1 image answered as base64, a DALL·E 3 image
//! answered as a link and downloaded from the same server, a moderation refusal, a throttled
//! request and a rejected key, with the key the host injects.

mod common;

use std::sync::{Arc, Mutex};

use ava_host::plugins::CallError;
use ava_host::plugins::types::{ImageData, ImageRequest, PluginError, Unavailable};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use common::{LocalServer, TestHost};
use serde_json::{Value, json};

/// A real PNG, the plugin's own test fixture.
const PNG: &[u8] = include_bytes!("../../plugins/openai-images/tests/fixtures/image.png");
const KEY: &str = "sk-proj-LocalTestKey000000000000000000000";
const IMAGE_PATH: &str = "/files/img-1.png";
const SAFETY: &str = "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_123.";

/// How the fake API answers a generation (given the right key).
#[derive(Clone, Copy)]
enum Answer {
    /// gpt-image-1's answer: the PNG as `b64_json`.
    Base64,
    /// A link to the PNG on the same server.
    Link,
    /// A moderation refusal.
    Refusal,
    /// 429 with `Retry-After: 7`.
    Throttled,
}

/// A request as the fake API received it.
#[derive(Clone, Debug)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct FakeOpenAi {
    answer: Answer,
    /// `http://127.0.0.1:<port>`, for the links in its answers.
    base: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeOpenAi {
    fn record(&self, method: Method, uri: &Uri, headers: HeaderMap, body: String) {
        self.received.lock().unwrap().push(Received {
            method,
            path: uri.path().to_string(),
            headers,
            body,
        });
    }
}

fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    (
        status,
        axum::Json(
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        ),
    )
        .into_response()
}

async fn generations(
    State(fake): State<FakeOpenAi>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let authorized = headers
        .get("authorization")
        .is_some_and(|v| v == format!("Bearer {KEY}").as_str());
    fake.record(method, &uri, headers, body);
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided: sk-wrong. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    match fake.answer {
        Answer::Base64 => axum::Json(json!({
            "created": 1_767_225_600,
            "data": [{"b64_json": base64::engine::general_purpose::STANDARD.encode(PNG)}],
            "output_format": "png",
            "size": "1024x1536",
            "quality": "medium"
        }))
        .into_response(),
        Answer::Link => {
            let base = fake.base.lock().unwrap().clone();
            axum::Json(json!({
                "created": 1_767_225_600,
                "data": [{"url": format!("{base}{IMAGE_PATH}"), "revised_prompt": "A portrait of Mira"}]
            }))
            .into_response()
        }
        Answer::Refusal => error(
            StatusCode::BAD_REQUEST,
            SAFETY,
            "image_generation_user_error",
            Some("moderation_blocked"),
        ),
        Answer::Throttled => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for gpt-image-1 on images per minute (IPM): Limit 5, Used 5, Requested 1.",
                "requests",
                Some("rate_limit_exceeded"),
            );
            response
                .headers_mut()
                .insert("retry-after", "7".parse().unwrap());
            response
        }
    }
}

/// `GET /v1/models/{model}`: the models this fake has, for the key it knows.
async fn describe_model(
    State(fake): State<FakeOpenAi>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let authorized = headers
        .get("authorization")
        .is_some_and(|v| v == format!("Bearer {KEY}").as_str());
    fake.record(method, &uri, headers, String::new());
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided: sk-wrong.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    if !["gpt-image-1", "dall-e-3"].contains(&id.as_str()) {
        return error(
            StatusCode::NOT_FOUND,
            &format!("The model `{id}` does not exist or you do not have access to it."),
            "invalid_request_error",
            Some("model_not_found"),
        );
    }
    axum::Json(json!({"id": id, "object": "model", "created": 1_698_785_189, "owned_by": "system"}))
        .into_response()
}

async fn file(
    State(fake): State<FakeOpenAi>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(method, &uri, headers, String::new());
    ([("content-type", "image/png")], PNG).into_response()
}

struct Setup {
    host: TestHost,
    fake: FakeOpenAi,
    _server: LocalServer,
}

/// The plugin in the `images` slot, drawing with `model`, against a fake API answering with
/// `answer`; the host holds `key` as `OPENAI_API_KEY`.
async fn setup(answer: Answer, model: &str, key: &str) -> Setup {
    let fake = FakeOpenAi {
        answer,
        base: Arc::default(),
        received: Arc::default(),
    };
    let server = LocalServer::start(
        Router::new()
            .route("/v1/images/generations", post(generations))
            .route(IMAGE_PATH, get(file))
            .route("/v1/models/{id}", get(describe_model))
            .with_state(fake.clone()),
    )
    .await;
    *fake.base.lock().unwrap() = format!("http://{}", server.addr);
    let config = format!(
        r#"
        [plugins.images]
        use = "openai-images"

        [plugin.openai-images]
        path = "{{plugins}}/openai-images.wasm"
        allow_hosts = ["http://{addr}"]
        limits = {{ timeout_ms = 20000 }}
        config = {{ base_url = "http://{addr}", model = "{model}", quality = "medium", timeout_ms = 10000, api_key = {{ env = "OPENAI_API_KEY" }} }}
        "#,
        addr = server.addr
    );
    let host = TestHost::start(&config, &[("OPENAI_API_KEY", key)]).await;
    Setup {
        host,
        fake,
        _server: server,
    }
}

impl Setup {
    fn received(&self) -> Vec<Received> {
        self.fake.received.lock().unwrap().clone()
    }

    /// `METHOD path` of every request, in order.
    fn calls(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The plugin's error for a drawing.
    async fn failure(&self) -> PluginError {
        let images = self.host.registry.current().images().unwrap();
        match images.generate(&request()).await {
            Err(CallError::Plugin { error, .. }) => error,
            other => panic!("expected the plugin's error, got {other:?}"),
        }
    }
}

fn request() -> ImageRequest {
    ImageRequest {
        prompt: "portrait of Mira, short black hair, freckles".into(),
        negative_prompt: Some("blurry".into()),
        seed: Some(4_242),
        width: 768,
        height: 1024,
    }
}

/// Asserts `actual` is `expected`. The host's generated records have no `PartialEq`; their
/// `Debug` shows every field, so equal output means equal values.
#[track_caller]
fn assert_same<T: std::fmt::Debug>(actual: &T, expected: &T) {
    assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"));
}

/// The PNG, as bytes, in `image`.
#[track_caller]
fn assert_png(image: &ImageData) {
    match image {
        ImageData::Bytes(image) => {
            assert_eq!(image.content_type, "image/png");
            assert_eq!(image.data, PNG);
        }
        ImageData::Url(url) => panic!("expected bytes, got the URL {url}"),
    }
}

const GENERATE: &str = "POST /v1/images/generations";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base64_image_is_returned_as_bytes_with_the_key_the_host_injected() {
    let s = setup(Answer::Base64, "gpt-image-1", KEY).await;
    let images = s.host.registry.current().images().unwrap();
    let output = images.generate(&request()).await.unwrap();
    assert_png(&output.image);
    assert_eq!(output.seed, None);
    assert_eq!(output.model.as_deref(), Some("gpt-image-1"));

    assert_eq!(s.calls(), [GENERATE]);
    let sent = &s.received()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.json(),
        json!({
            "model": "gpt-image-1",
            "prompt": "portrait of Mira, short black hair, freckles\n\nAvoid: blurry",
            "n": 1,
            "size": "1024x1536",
            "quality": "medium"
        })
    );

    // The host's own path for job handlers: the bytes are checked and named by the host.
    let drawn = images.draw(&request()).await.unwrap();
    assert_eq!(drawn.image.content_type, "image/png");
    assert_eq!(drawn.provider, "openai-images");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_image_is_downloaded_from_the_apis_origin_with_the_key() {
    let s = setup(Answer::Link, "dall-e-3", KEY).await;
    let images = s.host.registry.current().images().unwrap();
    let output = images.generate(&request()).await.unwrap();
    assert_png(&output.image);
    assert_eq!(
        s.calls(),
        [GENERATE.to_string(), format!("GET {IMAGE_PATH}")]
    );
    let received = s.received();
    assert_eq!(
        received[0].json(),
        json!({
            "model": "dall-e-3",
            "prompt": "portrait of Mira, short black hair, freckles\n\nAvoid: blurry",
            "n": 1,
            "size": "1024x1792",
            "quality": "medium",
            "response_format": "b64_json"
        })
    );
    let bearer = format!("Bearer {KEY}");
    for request in &received {
        assert_eq!(
            request.header("authorization"),
            Some(bearer.as_str()),
            "{} {}: the host fills the key in on every call to the API's origin",
            request.method,
            request.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderation_refusal_is_invalid_input_with_openais_message() {
    let s = setup(Answer::Refusal, "gpt-image-1", KEY).await;
    assert_same(
        &s.failure().await,
        &PluginError::InvalidInput(format!("OpenAI refused the prompt: {SAFETY}")),
    );
    assert_eq!(s.calls(), [GENERATE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_request_is_unavailable_for_as_long_as_the_api_asks() {
    let s = setup(Answer::Throttled, "gpt-image-1", KEY).await;
    assert_same(
        &s.failure().await,
        &PluginError::Unavailable(Unavailable {
            message: "Rate limit reached for gpt-image-1 on images per minute (IPM): Limit 5, Used 5, Requested 1.".into(),
            retry_after_ms: Some(7_000),
        }),
    );
    assert_eq!(s.calls(), [GENERATE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_is_unauthorized_and_names_the_secret() {
    let s = setup(Answer::Base64, "gpt-image-1", "sk-wrong").await;
    let err = s.failure().await;
    assert!(
        matches!(&err, PluginError::Unauthorized(m)
            if m.contains("HTTP 401") && m.contains("`api_key`") && m.contains("Incorrect API key")),
        "{err:?}"
    );
    assert_eq!(
        s.received()[0].header("authorization"),
        Some("Bearer sk-wrong")
    );
}

/// `check` (contract 0.2.0) through the real runtime: the key and the model verified with a
/// `GET` of the model, before anyone draws; a wrong key or an unknown model fails it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_verifies_the_key_and_the_model_without_drawing() {
    let ok = setup(Answer::Base64, "gpt-image-1", KEY).await;
    let plugin = ok
        .host
        .registry
        .current()
        .plugin("openai-images")
        .unwrap()
        .clone();
    assert!(plugin.check().await.unwrap(), "a 0.2.0 plugin is checked");
    assert_eq!(ok.calls(), ["GET /v1/models/gpt-image-1"]);

    let wrong_key = setup(Answer::Base64, "gpt-image-1", "sk-wrong").await;
    let plugin = wrong_key
        .host
        .registry
        .current()
        .plugin("openai-images")
        .unwrap()
        .clone();
    let err = plugin.check().await.unwrap_err().to_string();
    assert!(err.contains("api_key") && err.contains("401"), "{err}");

    let unknown = setup(Answer::Base64, "dall-e-4", KEY).await;
    let plugin = unknown
        .host
        .registry
        .current()
        .plugin("openai-images")
        .unwrap()
        .clone();
    let err = plugin.check().await.unwrap_err().to_string();
    assert!(err.contains("dall-e-4"), "{err}");
}
