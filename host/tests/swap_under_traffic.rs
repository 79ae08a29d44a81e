//! The platform's promise under load: while subscribers chat (some asking for photos), an
//! `ava worker` process draws the photos and other users open checkouts, `ava.toml` is
//! edited to swap all three provider slots at once: the persona (local-persona →
//! openai-persona), the image provider (local-images → openai-images) and the billing
//! provider (dev-billing → stripe), each new one against a local server speaking its API.
//!
//! No request fails, neither process restarts, and from the swap on every call is served by
//! the new plugin: in the replies, in the photos' provider, in the checkout links, and in
//! the per-plugin figures of the server (`/admin/plugins`) and of the worker (`/metrics`).

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use base64::Engine;
use common::LocalServer;
use common::app::{Backend, TestApp};
use common::processes::{Proc, free_port};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PNG: &[u8] = include_bytes!("../../plugins/openai-images/tests/fixtures/image.png");
const CHECKOUT: &str =
    include_str!("../../plugins/stripe/tests/fixtures/api/checkout_session.json");
const SELFIE: &str = "send me a selfie at the beach please";

/// Chat users, each sending turns back to back (paced), and how often one asks for a photo.
const CHAT_USERS: usize = 6;
const PHOTO_EVERY: usize = 6;
const PACE: Duration = Duration::from_millis(30);

/// The slots' plugins before and after the swap.
const BEFORE: [&str; 3] = ["local-persona", "local-images", "dev-billing"];
const AFTER: [&str; 3] = ["openai-persona", "openai-images", "stripe"];

/// The three upstream APIs the new plugins call, on one local server. Each records when
/// it was first called (ms since the test's start).
#[derive(Clone)]
struct Upstream {
    t0: Instant,
    first_image: Arc<AtomicU64>,
    chats: Arc<AtomicU64>,
    images: Arc<AtomicU64>,
    checkouts: Arc<AtomicU64>,
}

fn completion(message: Value) -> Value {
    json!({
        "id": "chatcmpl-swap",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "swap-model",
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15 }
    })
}

/// Chat Completions: echoes the last user message, or calls the photo tool for a selfie.
async fn chat_completions(State(up): State<Upstream>, body: String) -> axum::Json<Value> {
    up.chats.fetch_add(1, Ordering::SeqCst);
    let request: Value = serde_json::from_str(&body).unwrap();
    let messages = request["messages"].as_array().unwrap();
    if messages.iter().any(|m| m["role"] == "tool") {
        return axum::Json(completion(
            json!({ "role": "assistant", "content": "openai: here I am at the beach" }),
        ));
    }
    let last = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    if last == SELFIE {
        return axum::Json(completion(json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": "call_1",
                "type": "function",
                "function": { "name": "send_photo", "arguments": "{\"scene\": \"at the beach\"}" }
            }]
        })));
    }
    axum::Json(completion(
        json!({ "role": "assistant", "content": format!("openai: {last}") }),
    ))
}

/// The Images API: one PNG as base64.
async fn image_generations(State(up): State<Upstream>) -> axum::Json<Value> {
    let at = up.t0.elapsed().as_millis() as u64;
    up.first_image.fetch_min(at, Ordering::SeqCst);
    up.images.fetch_add(1, Ordering::SeqCst);
    axum::Json(json!({
        "created": 1_767_225_600,
        "data": [{ "b64_json": base64::engine::general_purpose::STANDARD.encode(PNG) }],
        "output_format": "png"
    }))
}

/// Stripe's checkout sessions.
async fn checkout_sessions(State(up): State<Upstream>) -> impl axum::response::IntoResponse {
    up.checkouts.fetch_add(1, Ordering::SeqCst);
    ([("content-type", "application/json")], CHECKOUT)
}

impl Upstream {
    async fn start(t0: Instant) -> (Self, LocalServer) {
        let up = Self {
            t0,
            first_image: Arc::new(AtomicU64::new(u64::MAX)),
            chats: Arc::default(),
            images: Arc::default(),
            checkouts: Arc::default(),
        };
        let server = LocalServer::start(
            Router::new()
                .route("/v1/chat/completions", post(chat_completions))
                .route("/v1/images/generations", post(image_generations))
                .route("/v1/checkout/sessions", post(checkout_sessions))
                .with_state(up.clone()),
        )
        .await;
        (up, server)
    }
}

/// `ava.toml` with every plugin declared and `slots` (persona, images, billing) in use:
/// the swap edits only the three `use` lines, as an operator would.
fn config(slots: [&str; 3], upstream: &str) -> String {
    let [persona, images, billing] = slots;
    format!(
        r#"
[plugins.persona]
use = "{persona}"

[plugins.images]
use = "{images}"

[plugins.billing]
use = "{billing}"

[plugins.jobs]
use = ["photo-job"]

[plugin.local-persona]
path = "{{plugins}}/local-persona.wasm"

[plugin.openai-persona]
path = "{{plugins}}/openai-persona.wasm"
allow_hosts = ["{upstream}"]
limits = {{ timeout_ms = 10000 }}
config = {{ base_url = "{upstream}/v1", model = "swap-model", timeout_ms = 8000, api_key = {{ generate = true }} }}

[plugin.local-images]
path = "{{plugins}}/local-images.wasm"
limits = {{ memory_mib = 128, timeout_ms = 20000 }}

[plugin.openai-images]
path = "{{plugins}}/openai-images.wasm"
allow_hosts = ["{upstream}"]
limits = {{ timeout_ms = 20000 }}
config = {{ base_url = "{upstream}", model = "gpt-image-1", timeout_ms = 15000, api_key = {{ generate = true }} }}

[plugin.photo-job]
path = "{{plugins}}/photo-job.wasm"
limits = {{ timeout_ms = 30000 }}

[plugin.dev-billing]
path = "{{plugins}}/dev-billing.wasm"
allow_hosts = ["self"]
config = {{ webhook_secret = {{ generate = true }} }}

[plugin.stripe]
path = "{{plugins}}/stripe.wasm"
allow_hosts = ["{upstream}"]
config = {{ api_base = "{upstream}", price_id = "price_1SXjzpLkdIwHu7ixMonthly", secret_key = {{ generate = true }}, webhook_secret = {{ generate = true }} }}
"#
    )
}

/// One answered request of the load: when it started (ms since t0), its status, and what
/// it showed of the plugin behind it.
#[derive(Debug, Clone)]
struct Served {
    started: u64,
    status: StatusCode,
    /// The reply's text, or the checkout link.
    shown: String,
    /// For a turn that sends a photo: its id.
    photo: Option<String>,
    /// Whose request it was.
    token: String,
}

#[derive(Default)]
struct Load {
    turns: Mutex<Vec<Served>>,
    checkouts: Mutex<Vec<Served>>,
}

/// A subscriber with photos on.
async fn chat_user(t: &TestApp, n: usize) -> String {
    let (token, _) = t.subscriber(&format!("chat{n}@example.com")).await;
    let (status, body) = t
        .call(
            reqwest::Method::PUT,
            "/preferences",
            Some(&token),
            Some(json!({ "photos_enabled": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    token
}

async fn chat_loop(
    t: Arc<TestApp>,
    token: String,
    load: Arc<Load>,
    stop: Arc<AtomicBool>,
    t0: Instant,
) {
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let message = if i % PHOTO_EVERY == 0 {
            SELFIE.to_string()
        } else {
            format!("tell me about your day, part {i}")
        };
        let started = t0.elapsed().as_millis() as u64;
        let (status, body) = t.post("/chat", &token, json!({ "message": message })).await;
        load.turns.lock().unwrap().push(Served {
            started,
            status,
            shown: body["reply"]["content"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string()),
            photo: body["reply"]["photo"]["id"].as_str().map(str::to_string),
            token: token.clone(),
        });
        tokio::time::sleep(PACE).await;
    }
}

async fn checkout_loop(
    t: Arc<TestApp>,
    tokens: Vec<String>,
    load: Arc<Load>,
    stop: Arc<AtomicBool>,
    t0: Instant,
) {
    for token in tokens.iter().cycle() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let started = t0.elapsed().as_millis() as u64;
        let (status, body) = t
            .call(
                reqwest::Method::POST,
                "/billing/checkout",
                Some(token),
                None,
            )
            .await;
        load.checkouts.lock().unwrap().push(Served {
            started,
            status,
            shown: body["checkout_url"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string()),
            photo: None,
            token: token.clone(),
        });
        tokio::time::sleep(PACE * 3).await;
    }
}

/// Whether what a request showed came from the slot's new plugin.
fn is_new_reply(reply: &str) -> bool {
    reply.starts_with("openai: ")
}

fn is_new_checkout(url: &str) -> bool {
    url.starts_with("https://checkout.stripe.com/")
}

/// Asserts that the requests went over from the old plugin to the new one once and for
/// all: some served by each, and none by the old one after the first served by the new.
/// Returns when the first new one started.
fn assert_swapped_once(what: &str, served: &[Served], is_new: impl Fn(&str) -> bool) -> u64 {
    let first_new = served
        .iter()
        .filter(|s| is_new(&s.shown))
        .map(|s| s.started)
        .min()
        .unwrap_or_else(|| panic!("no {what} was served by the new plugin"));
    let old = served.iter().filter(|s| !is_new(&s.shown)).count();
    assert!(old > 0, "the swap came before any {what}");
    let late_old: Vec<_> = served
        .iter()
        .filter(|s| s.started > first_new && !is_new(&s.shown))
        .collect();
    assert!(
        late_old.is_empty(),
        "{what}s served by the old plugin after the new one served: {late_old:?}"
    );
    first_new
}

/// `ava_plugin_calls_total` of a Prometheus text: per plugin and export, per outcome.
fn plugin_calls(metrics: &str) -> BTreeMap<(String, String, String), u64> {
    let mut calls = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("ava_plugin_calls_total{") else {
            continue;
        };
        let (labels, value) = rest.split_once("} ").unwrap();
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap()
        };
        *calls
            .entry((label("plugin"), label("op"), label("outcome")))
            .or_default() += value.trim().parse::<u64>().unwrap();
    }
    calls
}

/// The `stats.calls` of each plugin on the server's `/admin/plugins`.
async fn server_calls(t: &TestApp) -> BTreeMap<String, u64> {
    t.plugin_stats()
        .await
        .into_iter()
        .map(|(name, stats)| (name, stats["calls"].as_u64().unwrap()))
        .collect()
}

/// Waits for `done`, checking every 50 ms, for at most `limit`.
async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn every_slot_swaps_under_traffic_with_no_failed_request(backend: Backend) {
    let t0 = Instant::now();
    let (upstream, server) = Upstream::start(t0).await;
    let base = format!("http://{}", server.addr);
    // The server runs no worker of its own: the `ava worker` process draws every photo.
    let t = Arc::new(
        TestApp::with_settings(backend, &config(BEFORE, &base), |s| {
            s.worker.serve_worker = Some(false);
        })
        .await,
    );

    let logs = tempfile::tempdir().unwrap();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_ava"));
    command
        .arg("worker")
        .env("AVA_CONFIG", t.dir.path().join("ava.toml"))
        .env("AVA_DATA_DIR", t.data_dir())
        .env("AVA_METRICS_ADDR", &metrics_addr)
        .env("AVA_JOB_BACKOFF_MS", "200")
        .env("AVA_LOG", "warn")
        .env_remove("REDIS_URL");
    match &t.app.state.settings.database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let mut worker = Proc::spawn("worker", command, logs.path());
    let worker_pid = worker.child.id();
    let metrics_url = format!("http://{metrics_addr}/metrics");
    let client = t.client.clone();
    let worker_metrics = async || -> Option<String> {
        let response = client.get(&metrics_url).send().await.ok()?;
        response.text().await.ok()
    };
    wait_until(
        "the worker's /metrics",
        Duration::from_secs(60),
        async || {
            worker.assert_running();
            worker_metrics().await.is_some()
        },
    )
    .await;

    let load = Arc::new(Load::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for n in 0..CHAT_USERS {
        let token = chat_user(&t, n).await;
        tasks.push(tokio::spawn(chat_loop(
            t.clone(),
            token,
            load.clone(),
            stop.clone(),
            t0,
        )));
    }
    let mut buyers = Vec::new();
    for n in 0..3 {
        buyers.push(t.register(&format!("buyer{n}@example.com")).await.0);
    }
    tasks.push(tokio::spawn(checkout_loop(
        t.clone(),
        buyers,
        load.clone(),
        stop.clone(),
        t0,
    )));

    // Before the swap: turns answered, checkouts opened and photos drawn by the old set.
    wait_until(
        "photos drawn before the swap",
        Duration::from_secs(60),
        async || {
            worker.assert_running();
            let calls = worker_metrics()
                .await
                .map(|m| plugin_calls(&m))
                .unwrap_or_default();
            calls
                .get(&("local-images".into(), "generate".into(), "ok".into()))
                .copied()
                .unwrap_or(0)
                >= 2
        },
    )
    .await;
    assert_eq!(upstream.chats.load(Ordering::SeqCst), 0);

    let swap_written = t0.elapsed().as_millis() as u64;
    let tmp = t.dir.path().join("ava.toml.tmp");
    std::fs::write(&tmp, common::render(&config(AFTER, &base))).unwrap();
    std::fs::rename(&tmp, t.dir.path().join("ava.toml")).unwrap();

    // The swap reached both processes: each served a call by each new plugin.
    wait_until(
        "every new plugin serving",
        Duration::from_secs(60),
        async || {
            worker.assert_running();
            upstream.chats.load(Ordering::SeqCst) > 0
                && upstream.checkouts.load(Ordering::SeqCst) > 0
                && upstream.images.load(Ordering::SeqCst) >= 2
        },
    )
    .await;
    // And the load goes on over the new set for a while.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }

    let turns = load.turns.lock().unwrap().clone();
    let checkouts = load.checkouts.lock().unwrap().clone();
    let failed: Vec<_> = turns
        .iter()
        .chain(&checkouts)
        .filter(|s| s.status != StatusCode::OK)
        .collect();
    assert!(
        failed.is_empty(),
        "requests failed during the swap: {failed:?}"
    );
    // A photo turn's text is the persona's own wording around the tool call, not the echo:
    // photo turns are judged by the photos' provider below.
    let text_turns: Vec<Served> = turns
        .iter()
        .filter(|s| s.photo.is_none())
        .cloned()
        .collect();
    let reply_swap = assert_swapped_once("turn", &text_turns, is_new_reply);
    let checkout_swap = assert_swapped_once("checkout", &checkouts, is_new_checkout);
    assert!(reply_swap >= swap_written && checkout_swap >= swap_written);

    // Every photo is drawn, none failed; from the new provider's first image on, every
    // photo asked for is drawn by it (a job holds the set it started with).
    let photos: Vec<(u64, String, String)> = turns
        .iter()
        .filter_map(|s| Some((s.started, s.photo.clone()?, s.token.clone())))
        .collect();
    assert!(
        photos.len() >= 4,
        "too few photos asked for: {}",
        photos.len()
    );
    let mut drawn = BTreeMap::new();
    wait_until("every photo drawn", Duration::from_secs(90), async || {
        worker.assert_running();
        for (started, id, token) in &photos {
            if drawn.contains_key(id) {
                continue;
            }
            let (status, photo) = t.get(&format!("/photos/{id}"), token).await;
            assert_eq!(status, StatusCode::OK, "{photo}");
            match photo["status"].as_str().unwrap() {
                "ready" => {
                    let provider = photo["provider"].as_str().unwrap().to_string();
                    drawn.insert(id.clone(), (*started, provider));
                }
                "pending" => {}
                _ => panic!("photo {id} was not drawn: {photo}"),
            }
        }
        drawn.len() == photos.len()
    })
    .await;
    let first_image = upstream.first_image.load(Ordering::SeqCst);
    let mut by_provider: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, (started, provider)) in &drawn {
        *by_provider.entry(provider.as_str()).or_default() += 1;
        if *started > first_image {
            assert_eq!(
                provider, "openai-images",
                "photo {id}, asked for after the swap"
            );
        }
    }
    assert!(
        by_provider.get("local-images").is_some_and(|&n| n > 0),
        "{by_provider:?}"
    );
    assert!(
        by_provider.get("openai-images").is_some_and(|&n| n > 0),
        "{by_provider:?}"
    );

    // The figures say the same. The worker: one successful drawing per photo, by the plugin
    // that drew it, and no call of any plugin failed.
    let calls = plugin_calls(&worker_metrics().await.unwrap());
    for provider in ["local-images", "openai-images"] {
        assert_eq!(
            calls
                .get(&(provider.to_string(), "generate".into(), "ok".into()))
                .copied()
                .unwrap_or(0),
            by_provider[provider] as u64,
            "{calls:?}"
        );
    }
    let worker_failures: Vec<_> = calls
        .iter()
        .filter(|((_, _, outcome), _)| outcome != "ok")
        .collect();
    assert!(worker_failures.is_empty(), "{worker_failures:?}");
    let worker_metrics_text = worker_metrics().await.unwrap();
    assert!(
        worker_metrics_text.contains("ava_plugin_reloads_total{outcome=\"applied\"} 1"),
        "{worker_metrics_text}"
    );
    assert!(worker_metrics_text.contains("ava_plugin_generation 2"));

    // The server: the old persona and billing plugins take no calls any more; the new ones
    // take every one.
    let (status, listed) = t.get("/admin/plugins", "test-operator").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed["last_reload_error"].is_null(), "{listed}");
    let before = server_calls(&t).await;
    assert!(
        before["openai-persona"] > 0 && before["stripe"] > 0,
        "{before:?}"
    );
    let token = chat_user(&t, 99).await;
    for i in 0..5 {
        let (status, body) = t
            .post("/chat", &token, json!({ "message": format!("after {i}") }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["reply"]["content"], format!("openai: after {i}"));
    }
    let after = server_calls(&t).await;
    assert_eq!(after["local-persona"], before["local-persona"]);
    assert_eq!(after["dev-billing"], before["dev-billing"]);
    assert!(
        after["openai-persona"] >= before["openai-persona"] + 5,
        "{after:?}"
    );

    // Nothing restarted: the same worker process, one reload in each process.
    worker.assert_running();
    assert_eq!(worker.child.id(), worker_pid);
    let (_, ready) = t
        .call(reqwest::Method::GET, "/health/ready", None, None)
        .await;
    assert_eq!(ready["checks"]["plugins"]["generation"], 2, "{ready}");
    eprintln!(
        "{} turns, {} checkouts, {} photos ({by_provider:?}); the swap written at {swap_written} ms, \
         served from {reply_swap} ms (turns), {checkout_swap} ms (checkouts), {first_image} ms (images)",
        turns.len(),
        checkouts.len(),
        drawn.len()
    );
}

on_both_databases!(every_slot_swaps_under_traffic_with_no_failed_request);
