//! The `replicate` plugin, compiled and running in the host, against a local server that speaks
//! Replicate's predictions API and serves the output file: a prediction followed from
//! `starting` to `succeeded` and its PNG downloaded, a failed, a canceled and a throttled one,
//! and a prediction canceled at the deadline, with the token the host injects.

mod common;

use std::sync::{Arc, Mutex};

use ava_host::plugins::CallError;
use ava_host::plugins::types::{
    ImageData, ImageRequest, PluginError, Unavailable, UpstreamFailure,
};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{LocalServer, TestHost};
use serde_json::{Value, json};

/// A real PNG, the plugin's own test fixture.
const PNG: &[u8] = include_bytes!("../../plugins/replicate/tests/fixtures/out-0.png");
const TOKEN: &str = "r8_LocalTestToken0000000000000000000000";
const ID: &str = "q8w4kx7n9hrma0cm3yxt5ps2bg";

/// How the fake Replicate lets the prediction end.
#[derive(Clone, Copy)]
enum Ending {
    /// `starting`, then `processing`, then `succeeded` with the PNG.
    Success,
    /// `failed` with an NSFW refusal.
    Failure,
    /// `canceled` by someone else.
    Canceled,
    /// The create is throttled with `Retry-After: 7`.
    Throttled,
    /// `processing` forever.
    Stuck,
}

/// A request as the fake Replicate received it.
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
}

#[derive(Clone)]
struct FakeReplicate {
    ending: Ending,
    /// `http://127.0.0.1:<port>`, for the URLs in its answers.
    base: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<Received>>>,
    polls: Arc<Mutex<u32>>,
}

impl FakeReplicate {
    fn prediction(&self, status: &str, output: Value, error: Value) -> Value {
        let base = self.base.lock().unwrap().clone();
        json!({
            "id": ID,
            "model": "black-forest-labs/flux-schnell",
            "version": "dp-4d0bcc010b3049749a251855f12800be",
            "input": {},
            "logs": "",
            "output": output,
            "error": error,
            "status": status,
            "created_at": "2026-01-01T00:00:00.000Z",
            "urls": {
                "get": format!("{base}/v1/predictions/{ID}"),
                "cancel": format!("{base}/v1/predictions/{ID}/cancel"),
                "web": format!("https://replicate.com/p/{ID}")
            }
        })
    }

    fn record(&self, method: Method, uri: &Uri, headers: HeaderMap, body: String) {
        self.received.lock().unwrap().push(Received {
            method,
            path: uri.path().to_string(),
            headers,
            body,
        });
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn create(
    State(fake): State<FakeReplicate>,
    Path((_owner, _name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    fake.record(method, &uri, headers, body);
    match fake.ending {
        Ending::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            axum::Json(json!({
                "title": "Request was throttled",
                "detail": "Request was throttled. Expected available in 7 seconds.",
                "status": 429
            })),
        )
            .into_response(),
        _ => answer(
            StatusCode::CREATED,
            fake.prediction("starting", Value::Null, Value::Null),
        ),
    }
}

async fn poll(
    State(fake): State<FakeReplicate>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(method, &uri, headers, String::new());
    let polls = {
        let mut polls = fake.polls.lock().unwrap();
        *polls += 1;
        *polls
    };
    let base = fake.base.lock().unwrap().clone();
    let prediction = match (fake.ending, polls) {
        (Ending::Success, 1) | (Ending::Stuck, _) => {
            fake.prediction("processing", Value::Null, Value::Null)
        }
        (Ending::Success, _) => fake.prediction(
            "succeeded",
            json!([format!("{base}/files/{ID}/out-0.png")]),
            Value::Null,
        ),
        (Ending::Failure, _) => fake.prediction(
            "failed",
            Value::Null,
            json!("NSFW content detected. Try running it again, or try a different prompt."),
        ),
        (Ending::Canceled | Ending::Throttled, _) => {
            fake.prediction("canceled", Value::Null, Value::Null)
        }
    };
    answer(StatusCode::OK, prediction)
}

async fn cancel(
    State(fake): State<FakeReplicate>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(method, &uri, headers, String::new());
    answer(
        StatusCode::OK,
        fake.prediction("canceled", Value::Null, Value::Null),
    )
}

async fn file(
    State(fake): State<FakeReplicate>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(method, &uri, headers, String::new());
    ([("content-type", "image/png")], PNG).into_response()
}

struct Setup {
    host: TestHost,
    fake: FakeReplicate,
    _server: LocalServer,
}

/// The plugin in the `images` slot against a fake Replicate ending with `ending`, with a
/// prediction deadline of `timeout_ms`.
async fn setup(ending: Ending, timeout_ms: u32) -> Setup {
    let fake = FakeReplicate {
        ending,
        base: Arc::default(),
        received: Arc::default(),
        polls: Arc::default(),
    };
    let server = LocalServer::start(
        Router::new()
            .route("/v1/models/{owner}/{name}/predictions", post(create))
            .route("/v1/predictions/{id}", get(poll))
            .route("/v1/predictions/{id}/cancel", post(cancel))
            .route("/files/{id}/out-0.png", get(file))
            .with_state(fake.clone()),
    )
    .await;
    *fake.base.lock().unwrap() = format!("http://{}", server.addr);
    let config = format!(
        r#"
        [plugins.images]
        use = "replicate"

        [plugin.replicate]
        path = "{{plugins}}/replicate.wasm"
        allow_hosts = ["http://{addr}"]
        limits = {{ timeout_ms = 20000 }}
        config = {{ api_base = "http://{addr}", model = "black-forest-labs/flux-schnell", wait_seconds = 1, poll_interval_ms = 50, timeout_ms = {timeout_ms}, negative_prompt_field = "none", width_field = "none", height_field = "none", aspect_ratio_field = "aspect_ratio", api_token = {{ env = "REPLICATE_API_TOKEN" }} }}
        "#,
        addr = server.addr
    );
    let host = TestHost::start(&config, &[("REPLICATE_API_TOKEN", TOKEN)]).await;
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

const CREATE: &str = "POST /v1/models/black-forest-labs/flux-schnell/predictions";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prediction_is_followed_to_success_and_its_png_returned_as_bytes() {
    let s = setup(Ending::Success, 10_000).await;
    let images = s.host.registry.current().images().unwrap();
    let output = images.generate(&request()).await.unwrap();
    match &output.image {
        ImageData::Bytes(image) => {
            assert_eq!(image.content_type, "image/png");
            assert_eq!(image.data, PNG);
        }
        ImageData::Url(url) => panic!("expected bytes, got the URL {url}"),
    }
    assert_eq!(output.seed, Some(4_242));
    assert_eq!(
        output.model.as_deref(),
        Some("black-forest-labs/flux-schnell")
    );

    let poll = format!("GET /v1/predictions/{ID}");
    assert_eq!(
        s.calls(),
        [
            CREATE.to_string(),
            poll.clone(),
            poll,
            format!("GET /files/{ID}/out-0.png")
        ]
    );
    let received = s.received();
    let created = &received[0];
    assert_eq!(created.header("prefer"), Some("wait=1"));
    assert_eq!(created.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&created.body).unwrap(),
        json!({"input": {
            "prompt": "portrait of Mira, short black hair, freckles",
            "seed": 4_242,
            "aspect_ratio": "3:4"
        }})
    );
    let bearer = format!("Bearer {TOKEN}");
    for request in &received {
        assert_eq!(
            request.header("authorization"),
            Some(bearer.as_str()),
            "{} {}: the host fills the token in on every call to Replicate's origin",
            request.method,
            request.path
        );
    }

    // The host's own path for job handlers: the bytes are checked and named by the host.
    let drawn = images.draw(&request()).await.unwrap();
    assert_eq!(drawn.image.content_type, "image/png");
    assert_eq!(drawn.provider, "replicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_prediction_is_refused_with_replicates_reason() {
    let s = setup(Ending::Failure, 10_000).await;
    assert_same(
        &s.failure().await,
        &PluginError::InvalidInput(
            "Replicate could not make the image: NSFW content detected. Try running it again, or try a different prompt."
                .into(),
        ),
    );
    assert_eq!(
        s.calls().len(),
        2,
        "create and one status check: {:?}",
        s.calls()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_prediction_is_an_upstream_error() {
    let s = setup(Ending::Canceled, 10_000).await;
    assert_same(
        &s.failure().await,
        &PluginError::Upstream(UpstreamFailure {
            status: None,
            code: Some("canceled".into()),
            message: "the prediction was canceled at Replicate before it finished".into(),
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_create_is_unavailable_for_as_long_as_replicate_asks() {
    let s = setup(Ending::Throttled, 10_000).await;
    assert_same(
        &s.failure().await,
        &PluginError::Unavailable(Unavailable {
            message: "Request was throttled. Expected available in 7 seconds.".into(),
            retry_after_ms: Some(7_000),
        }),
    );
    assert_eq!(s.calls(), [CREATE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prediction_past_its_deadline_is_canceled_at_replicate() {
    let s = setup(Ending::Stuck, 600).await;
    let err = s.failure().await;
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.message.contains("within 600 ms")),
        "{err:?}"
    );
    let calls = s.calls();
    assert_eq!(calls.first().map(String::as_str), Some(CREATE));
    assert_eq!(
        calls.last(),
        Some(&format!("POST /v1/predictions/{ID}/cancel")),
        "{calls:?}"
    );
    let polls = calls.iter().filter(|c| c.starts_with("GET")).count();
    assert!(
        (2..=12).contains(&polls),
        "a status check every 50 ms or more, for 600 ms: {calls:?}"
    );
}
