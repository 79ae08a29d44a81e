//! `/admin/*` with the operator token: the live figures of each plugin (calls, errors,
//! traps, timeouts, latency), and the dead jobs with a retry.

mod common;

use std::time::Duration;

use ava_host::jobs::NewJob;
use common::app::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OPERATOR: &str = "test-operator";

const MISBEHAVING_PERSONA: &str = r#"
[plugins.persona]
use = "misbehave"

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
limits = { timeout_ms = 1000 }
"#;

async fn stats_of(t: &TestApp, plugin: &str) -> Value {
    let (status, body) = t.get("/admin/plugins", OPERATOR).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == plugin)
        .unwrap_or_else(|| panic!("{plugin} not listed: {body}"))["stats"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_routes_need_the_operator_token() {
    let t = TestApp::start(Backend::Sqlite).await;
    let (user, _) = t.register("user@example.com").await;
    for (method, path) in [
        (Method::GET, "/admin/plugins"),
        (Method::POST, "/admin/plugins/reload"),
        (Method::GET, "/admin/jobs/dead"),
        (Method::POST, "/admin/jobs/x/retry"),
    ] {
        for token in [None, Some(user.as_str()), Some("wrong")] {
            let (status, body) = t.call(method.clone(), path, token, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            assert_eq!(body["detail"], "Operator token required");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_plugin_counts_its_calls_failures_and_latency() {
    let t = TestApp::with_config(Backend::Sqlite, MISBEHAVING_PERSONA).await;
    // Loading the plugin may already call it (its description): count from here.
    let before = stats_of(&t, "misbehave").await;
    let count = |stats: &Value, key: &str| stats[key].as_u64().unwrap();

    let (token, _) = t.subscriber("fan@example.com").await;
    for message in ["hello", "again", "panic", "loop"] {
        t.post("/chat", &token, json!({ "message": message })).await;
    }
    let stats = stats_of(&t, "misbehave").await;
    assert!(
        count(&stats, "calls") >= count(&before, "calls") + 4,
        "{stats}"
    );
    assert_eq!(
        count(&stats, "traps"),
        count(&before, "traps") + 1,
        "{stats}"
    );
    assert_eq!(
        count(&stats, "timeouts"),
        count(&before, "timeouts") + 1,
        "{stats}"
    );
    let p50 = stats["p50_ms"].as_f64().unwrap();
    let p99 = stats["p99_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{stats}");
    // The timeout (1 s) is among the calls: the slowest call took at least that long.
    assert!(p99 >= 700.0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_are_listed_with_why_and_can_be_retried() {
    let t = TestApp::start(Backend::Sqlite).await;
    let (status, body) = t.get("/admin/jobs/dead", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["jobs"], json!([]));

    // A job no handler takes, with one attempt: the in-process worker gives it up.
    let mut job = NewJob::new("test.nobody-handles-this", "{}".into());
    job.max_attempts = 1;
    let id = job.id.clone();
    t.app.state.queue.enqueue(&[job]).await.unwrap();
    let mut dead = Value::Null;
    for _ in 0..100 {
        let (_, body) = t.get("/admin/jobs/dead", OPERATOR).await;
        if let Some(found) = body["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
        {
            dead = found.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        dead["kind"], "test.nobody-handles-this",
        "the job never died"
    );
    assert_eq!(dead["attempts"], 1);
    assert!(!dead["reason"].as_str().unwrap().is_empty(), "{dead}");
    assert!(dead["died_at"].as_i64().unwrap() >= dead["enqueued_at"].as_i64().unwrap());

    let path = format!("/admin/jobs/{id}/retry");
    let (status, _) = t.call(Method::POST, &path, Some(OPERATOR), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = t
        .call(
            Method::POST,
            "/admin/jobs/no-such-job/retry",
            Some(OPERATOR),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
