//! The `openai-persona` plugin, running in the host, against a local server that speaks the
//! Chat Completions API: the request it sends, and each way the server can answer.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::LocalServer;
use common::app::{Backend, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

/// What the fake server answers next, and what it received.
#[derive(Clone, Default)]
struct Upstream {
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

#[derive(Clone, Default)]
enum Answer {
    #[default]
    Text,
    PhotoTool,
    RateLimited,
    ServerError,
    Slow,
    Garbage,
    Stream,
}

fn completion(message: Value) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "test-model-2026",
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132 }
    })
}

async fn completions(State(up): State<Upstream>, headers: HeaderMap, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap();
    up.received.lock().unwrap().push((headers, request.clone()));
    let answer = up.answer.lock().unwrap().clone();
    match answer {
        Answer::Text => axum::Json(completion(json!({ "role": "assistant", "content": "Hello from the model!" }))).into_response(),
        Answer::PhotoTool => {
            let followup = request["messages"].as_array().unwrap().iter().any(|m| m["role"] == "tool");
            if followup {
                axum::Json(completion(json!({ "role": "assistant", "content": "Here's me at the beach!" }))).into_response()
            } else {
                axum::Json(completion(json!({
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [{
                        "id": "call_1",
                        "type": "function",
                        "function": { "name": "send_photo", "arguments": "{\"scene\": \"at the beach at sunset\", \"caption\": \"Wish you were here\"}" }
                    }]
                })))
                .into_response()
            }
        }
        Answer::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            axum::Json(json!({ "error": { "message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded" } })),
        )
            .into_response(),
        Answer::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "error": { "message": "The server had an error", "type": "server_error" } })),
        )
            .into_response(),
        Answer::Slow => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            axum::Json(completion(json!({ "role": "assistant", "content": "too late" }))).into_response()
        }
        Answer::Garbage => (StatusCode::OK, [("content-type", "text/html")], "<html>502 Bad Gateway</html>").into_response(),
        Answer::Stream => {
            let chunk = |content: &str| {
                format!(
                    "data: {}\n\n",
                    json!({ "id": "c", "object": "chat.completion.chunk", "model": "test-model-2026",
                            "choices": [{ "index": 0, "delta": { "content": content }, "finish_reason": null }] })
                )
            };
            let body = format!("{}{}{}data: [DONE]\n\n", chunk("Hel"), chunk("lo "), chunk("there"));
            (StatusCode::OK, [("content-type", "text/event-stream")], body).into_response()
        }
    }
}

struct Setup {
    t: TestApp,
    up: Upstream,
    _server: LocalServer,
    token: String,
}

async fn setup() -> Setup {
    let up = Upstream::default();
    let server = LocalServer::start(
        Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(up.clone()),
    )
    .await;
    let config = format!(
        r#"
        [app]
        paywall = false

        [plugins.persona]
        use = "openai"

        [plugin.openai]
        path = "{{plugins}}/openai-persona.wasm"
        allow_hosts = ["http://{addr}"]
        limits = {{ timeout_ms = 5000 }}
        config = {{ base_url = "http://{addr}/v1", model = "test-model", temperature = 0.5, max_tokens = 300, timeout_ms = 400, api_key = {{ generate = true }} }}
        "#,
        addr = server.addr
    );
    let t = TestApp::with_config(Backend::Sqlite, &config).await;
    let (token, _) = t.register("llm@example.com").await;
    t.call(
        Method::PUT,
        "/preferences",
        Some(&token),
        Some(json!({ "photos_enabled": true })),
    )
    .await;
    Setup {
        t,
        up,
        _server: server,
        token,
    }
}

impl Setup {
    fn answer(&self, answer: Answer) {
        *self.up.answer.lock().unwrap() = answer;
    }

    async fn chat(&self, message: &str) -> (StatusCode, Value) {
        self.t
            .post("/chat", &self.token, json!({ "message": message }))
            .await
    }

    /// `message` through `/chat/stream`: its events, each as (name, JSON data).
    async fn chat_stream(&self, message: &str) -> Vec<(String, Value)> {
        let response = self
            .t
            .client
            .post(self.t.url("/chat/stream"))
            .bearer_auth(&self.token)
            .json(&json!({ "message": message }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        let mut parser = ava_sdk::sse::SseParser::default();
        parser.feed(text.as_bytes());
        std::iter::from_fn(|| parser.next_event())
            .map(|event| (event.event, serde_json::from_str(&event.data).unwrap()))
            .collect()
    }

    async fn stored(&self) -> usize {
        let (_, body) = self.t.get("/messages", &self.token).await;
        body["messages"].as_array().unwrap().len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_carries_the_model_the_persona_and_the_tools() {
    let s = setup().await;
    let (status, turn) = s.chat("Hello!").await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["reply"]["content"], "Hello from the model!");

    let received = s.up.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let key = std::fs::read_to_string(s.t.data_dir().join("secrets/openai.api_key")).unwrap();
    assert_eq!(headers["authorization"], format!("Bearer {}", key.trim()));
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["max_tokens"], 300);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(system.contains("Ava"), "{system}");
    assert!(
        system.contains("auburn hair"),
        "the appearance is in the prompt: {system}"
    );
    assert_eq!(messages.last().unwrap()["role"], "user");
    assert_eq!(messages.last().unwrap()["content"], "Hello!");
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(tools[0]["function"]["name"], "send_photo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_becomes_a_photo_request() {
    let s = setup().await;
    s.answer(Answer::PhotoTool);
    let (status, turn) = s.chat("Send me a selfie from the beach!").await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["reply"]["content"], "Here's me at the beach!");
    let prompt = turn["reply"]["photo"]["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("auburn hair") && prompt.contains("beach at sunset"),
        "{prompt}"
    );
    assert_eq!(turn["reply"]["photo"]["caption"], "Wish you were here");
    assert_eq!(
        s.up.received.lock().unwrap().len(),
        2,
        "the tool result was sent back once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_503_with_retry_after_and_stores_nothing() {
    let s = setup().await;
    s.answer(Answer::RateLimited);
    let response =
        s.t.client
            .post(s.t.url("/chat"))
            .bearer_auth(&s.token)
            .json(&json!({ "message": "hi" }))
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
    assert_eq!(s.stored().await, 0);
}

/// Once the stream has begun, the status is in the `error` event: so is the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_in_a_stream_is_an_error_event_with_retry_after() {
    let s = setup().await;
    s.answer(Answer::RateLimited);
    let events = s.chat_stream("hi").await;
    let [(name, error)] = &events[..] else {
        panic!("one event expected: {events:?}");
    };
    assert_eq!(name, "error");
    assert_eq!(error["status"], 503, "{error}");
    assert_eq!(error["retry_after"], 7, "{error}");
    assert!(error["detail"].is_string());
    assert_eq!(s.stored().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_502_and_stores_nothing() {
    let s = setup().await;
    s.answer(Answer::ServerError);
    let (status, body) = s.chat("hi").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(s.stored().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out_as_503() {
    let s = setup().await;
    s.answer(Answer::Slow);
    let started = std::time::Instant::now();
    let (status, body) = s.chat("hi").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the 400 ms request timeout was not applied"
    );
    assert_eq!(s.stored().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_body_is_502() {
    let s = setup().await;
    s.answer(Answer::Garbage);
    let (status, body) = s.chat("hi").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("malformed"),
        "{body}"
    );
    assert_eq!(s.stored().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_completion_streams_through_to_the_client() {
    let s = setup().await;
    s.answer(Answer::Stream);
    let mut deltas = Vec::new();
    let mut done = None;
    for (event, data) in s.chat_stream("hi").await {
        match event.as_str() {
            "delta" => deltas.push(data["text"].as_str().unwrap().to_string()),
            "done" => done = Some(data),
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    assert_eq!(deltas, ["Hel", "lo ", "there"]);
    assert_eq!(done.unwrap()["reply"]["content"], "Hello there");
    let (_, sent) = s.up.received.lock().unwrap()[0].clone();
    assert_eq!(sent["stream"], true);
    assert_eq!(s.stored().await, 2);
}
