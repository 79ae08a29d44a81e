//! What operators see of a running `ava` (real processes): Sentry events for a 5xx, a plugin
//! trap and a job given up, tagged and with nothing secret in them; `/metrics` in a format
//! `promtool` accepts, moving with traffic; request ids; the request deadline; a bounded
//! graceful shutdown; the worker's own `/health` and `/metrics`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use common::{LocalServer, render};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[plugins.persona]
use = "misbehave"

[plugins.jobs]
use = ["photo-job"]

[plugins.images]
use = "local-images"

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
limits = { timeout_ms = 10000 }

[plugin.local-images]
path = "{plugins}/local-images.wasm"

[plugin.photo-job]
path = "{plugins}/photo-job.wasm"
"#;

const STRIPE_KEY: &str = "sk_test_observability_0123456789";
const PASSWORD: &str = "correct horse battery staple";
const SECRET_WORDS: &str = "my-very-private-words-42";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An `ava` process over a fresh data folder, killed on drop.
struct Ava {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl Ava {
    fn data_dir(dir: &Path) -> PathBuf {
        let data = dir.join("data");
        if !data.exists() {
            std::fs::create_dir_all(&data).unwrap();
            std::fs::create_dir_all(common::shared_cache_dir()).unwrap();
            std::os::unix::fs::symlink(common::shared_cache_dir(), data.join("plugin-cache"))
                .unwrap();
        }
        data
    }

    /// `ava <mode>` listening on a free port (`AVA_ADDR`, or `AVA_METRICS_ADDR` for the
    /// worker), up when its `/health` answers.
    async fn start(mode: &str, env: &[(&str, &str)], dir: Option<tempfile::TempDir>) -> Self {
        let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let config = dir.path().join("ava.toml");
        std::fs::write(&config, render(CONFIG)).unwrap();
        let port = free_port();
        let addr_var = if mode == "worker" {
            "AVA_METRICS_ADDR"
        } else {
            "AVA_ADDR"
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_ava"));
        command
            .arg(mode)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(addr_var, format!("127.0.0.1:{port}"))
            .env("AVA_CONFIG", &config)
            .env("AVA_DATA_DIR", Self::data_dir(dir.path()))
            .env("AVA_LOG", "info")
            .env("AVA_JOB_BACKOFF_MS", "50")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join(format!("{mode}.log"))).unwrap(),
            ));
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().unwrap();
        ava_host::tls::install_crypto_provider();
        let mut ava = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = ava.client.get(ava.url("/health")).send().await
                && r.status() == 200
            {
                return ava;
            }
            if let Some(exit) = ava.child.try_wait().unwrap() {
                panic!("ava {mode} exited early ({exit}):\n{}", ava.log(mode));
            }
            assert!(Instant::now() < deadline, "ava {mode} did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self, mode: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{mode}.log"))).unwrap_or_default()
    }

    async fn db(&self) -> ava_host::db::Db {
        ava_host::db::Db::connect_embedded(&self.dir.path().join("data"))
            .await
            .unwrap()
    }

    /// A signed-up user with an active subscription: their token.
    async fn subscriber(&self, email: &str) -> String {
        let r: Value = self
            .client
            .post(self.url("/auth/register"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let user_id = r["user"]["id"].as_str().unwrap().to_string();
        let db = self.db().await;
        let now = ava_host::db::now_ms();
        let mut tx = db.write().await.unwrap();
        ava_host::db::subscriptions::upsert(
            &mut **tx,
            &ava_host::db::subscriptions::Subscription {
                user_id,
                provider: "test".into(),
                customer_id: None,
                subscription_id: None,
                status: "active".into(),
                current_period_end: Some(now + 86_400_000),
                cancel_at_period_end: false,
                price_id: None,
                state_as_of: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
        r["token"].as_str().unwrap().to_string()
    }

    async fn chat(&self, token: &str, message: &str) -> reqwest::Response {
        self.client
            .post(self.url("/chat"))
            .bearer_auth(token)
            .json(&json!({ "message": message }))
            .send()
            .await
            .unwrap()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; how long it took.
    fn wait_exit(&mut self, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                assert!(exit.success(), "{exit:?}");
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "ava did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Ava {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stand-in for Sentry's ingest endpoint: keeps every envelope posted to it.
#[derive(Clone, Default)]
struct Ingest(Arc<Mutex<Vec<String>>>);

async fn envelope(State(ingest): State<Ingest>, body: Bytes) -> &'static str {
    ingest
        .0
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    "{}"
}

impl Ingest {
    /// The events received so far (envelope items of type `event`), parsed.
    fn events(&self) -> Vec<Value> {
        let bodies = self.0.lock().unwrap().clone();
        let mut events = Vec::new();
        for body in bodies {
            let mut lines = body.lines().skip(1);
            while let (Some(header), Some(item)) = (lines.next(), lines.next()) {
                let header: Value = serde_json::from_str(header).unwrap_or_default();
                if header["type"] == "event" {
                    events.push(serde_json::from_str(item).unwrap());
                }
            }
        }
        events
    }

    fn raw(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// Waits for an event whose `predicate` holds.
    async fn wait_for(&self, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(event) = self.events().into_iter().find(&predicate) {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "no Sentry event for {what}; got: {:#?}",
                self.events()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn tag<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    event["tags"][name].as_str()
}

#[tokio::test]
async fn sentry_receives_5xx_traps_and_dead_jobs_tagged_and_scrubbed() {
    let ingest = Ingest::default();
    let server = LocalServer::start(
        Router::new()
            .route("/api/{project}/envelope/", post(envelope))
            .with_state(ingest.clone()),
    )
    .await;
    let dsn = server.url("/7").replacen("http://", "http://publickey@", 1);
    let ava = Ava::start(
        "serve",
        &[
            ("SENTRY_DSN", dsn.as_str()),
            ("APP_ENV", "staging"),
            ("STRIPE_SECRET_KEY", STRIPE_KEY),
            ("AVA_OPERATOR_TOKEN", "operator-token-observability"),
        ],
        None,
    )
    .await;
    let token = ava.subscriber("reports@example.com").await;

    // A plugin trap: the persona panics mid-turn.
    let trapped = ava.chat(&token, "panic").await;
    assert_eq!(trapped.status(), 502);
    let trap = ingest
        .wait_for("the plugin trap", |e| tag(e, "outcome") == Some("panic"))
        .await;
    assert_eq!(tag(&trap, "plugin"), Some("misbehave"), "{trap:#}");
    assert_eq!(tag(&trap, "slot"), Some("persona"), "{trap:#}");
    assert_eq!(tag(&trap, "route"), Some("/chat"), "{trap:#}");
    assert!(
        tag(&trap, "request_id").is_some_and(|id| !id.is_empty()),
        "{trap:#}"
    );
    assert_eq!(trap["environment"], "staging");
    assert!(trap["release"].as_str().unwrap().starts_with("ava-host@"));

    // The user's own words never leave, even in an ordinary turn before the failure.
    let ok = ava.chat(&token, SECRET_WORDS).await;
    assert_eq!(ok.status(), 200);

    // A 500: the messages table is gone from under the server.
    let db = ava.db().await;
    sqlx::query("DROP TABLE messages")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let broken = ava
        .client
        .get(ava.url("/messages?limit=20"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 500);
    assert_eq!(
        broken.json::<Value>().await.unwrap()["detail"],
        "Internal server error"
    );
    let internal = ingest
        .wait_for("the 500", |e| tag(e, "route") == Some("/messages"))
        .await;
    assert!(tag(&internal, "request_id").is_some(), "{internal:#}");

    // A job given up: nothing handles its kind, and it has one attempt.
    let db = ava.db().await;
    let queue = ava_host::jobs::embedded::SqlQueue::new(db.clone(), Duration::from_secs(30));
    ava_host::jobs::Queue::enqueue(
        queue.as_ref(),
        &[ava_host::jobs::NewJob {
            id: "job-observability-1".into(),
            kind: "nobody.handles".into(),
            payload: json!({ "note": SECRET_WORDS }).to_string(),
            max_attempts: 1,
            enqueued_at_ms: ava_host::db::now_ms(),
        }],
    )
    .await
    .unwrap();
    db.close().await;
    let dead = ingest
        .wait_for("the dead job", |e| {
            tag(e, "job_id") == Some("job-observability-1")
        })
        .await;
    assert_eq!(tag(&dead, "job_kind"), Some("nobody.handles"), "{dead:#}");

    // One report per failure, not one per layer it crossed.
    for event in [&trap, &internal] {
        let id = tag(event, "request_id");
        let same: Vec<_> = ingest
            .events()
            .into_iter()
            .filter(|e| tag(e, "request_id") == id)
            .map(|e| e["message"].clone())
            .collect();
        assert_eq!(same.len(), 1, "reports for one request: {same:?}");
    }

    // Nothing secret anywhere in what was sent.
    let raw = ingest.raw();
    for secret in [
        STRIPE_KEY,
        PASSWORD,
        SECRET_WORDS,
        token.as_str(),
        "operator-token-observability",
    ] {
        assert!(!raw.contains(secret), "{secret:?} reached Sentry:\n{raw}");
    }
}

#[tokio::test]
async fn metrics_move_with_traffic_and_pass_promtool() {
    let ava = Ava::start("serve", &[], None).await;
    let token = ava.subscriber("metrics@example.com").await;
    assert_eq!(ava.chat(&token, "hello").await.status(), 200);
    assert_eq!(ava.chat(&token, "panic").await.status(), 502);
    // An open photo stream, counted while it lives.
    let stream = ava
        .client
        .get(ava.url("/photos/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    let text = ava
        .client
        .get(ava.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needle: &str| {
        assert!(
            text.lines().any(|l| l.contains(needle)),
            "no line with {needle:?} in:\n{text}"
        )
    };
    has(r#"ava_http_requests_total{route="/chat",method="POST",status="200"} 1"#);
    has(r#"ava_http_requests_total{route="/chat",method="POST",status="502"} 1"#);
    has(r#"ava_http_request_duration_seconds_bucket{route="/chat",method="POST",le="+Inf"} 2"#);
    has(r#"ava_plugin_calls_total{plugin="misbehave",op="reply",outcome="ok"}"#);
    has(r#"ava_plugin_calls_total{plugin="misbehave",op="reply",outcome="panic"} 1"#);
    has(r#"ava_plugin_call_duration_seconds_bucket{plugin="misbehave",op="reply""#);
    has(r#"ava_sse_connections{stream="photos"} 1"#);
    has("ava_queue_depth ");
    has(r#"ava_db_pool_connections{state="idle"}"#);
    // A raw path would make one series per id: only route patterns appear.
    assert!(!text.contains("route=\"/auth/register?"), "{text}");

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (apt-get install prometheus; the test command does)");
    use std::io::Write;
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool refused /metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = ava
            .client
            .get(ava.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(r#"ava_sse_connections{stream="photos"} 0"#) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream is still counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn request_ids_are_made_or_kept_and_echoed() {
    let ava = Ava::start("serve", &[], None).await;
    let made = ava.client.get(ava.url("/health")).send().await.unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let kept = ava
        .client
        .get(ava.url("/health"))
        .header("x-request-id", "from-nginx-123")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "from-nginx-123");
}

#[tokio::test]
async fn a_request_past_the_deadline_answers_504_in_json() {
    let ava = Ava::start("serve", &[("AVA_REQUEST_TIMEOUT_SECONDS", "1")], None).await;
    let token = ava.subscriber("slow@example.com").await;
    let started = Instant::now();
    let slow = ava.chat(&token, "sleep:4000").await;
    assert_eq!(slow.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        slow.json::<Value>().await.unwrap()["detail"],
        "The request took too long; try again"
    );
}

#[tokio::test]
async fn sigterm_lets_requests_finish_ends_streams_and_exits_within_the_bound() {
    let mut ava = Ava::start("serve", &[("AVA_SHUTDOWN_SECONDS", "3")], None).await;
    let token = ava.subscriber("stop@example.com").await;
    let events = ava
        .client
        .get(ava.url("/photos/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let in_flight = {
        let client = ava.client.clone();
        let url = ava.url("/chat");
        let token = token.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "message": "sleep:1000" }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    ava.signal("-TERM");
    // The event stream ends rather than holding the shutdown open.
    let rest = tokio::time::timeout(Duration::from_secs(2), events.bytes())
        .await
        .expect("the photo stream ended at shutdown");
    assert!(rest.is_ok(), "{rest:?}");
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        200,
        "the request in flight finished"
    );
    let took = ava.wait_exit(Duration::from_secs(5));
    assert!(took < Duration::from_secs(3), "took {took:?}");

    // A request still running at the deadline does not keep the process.
    let mut ava = Ava::start("serve", &[("AVA_SHUTDOWN_SECONDS", "1")], None).await;
    let token = ava.subscriber("stuck@example.com").await;
    let stuck = {
        let client = ava.client.clone();
        let url = ava.url("/chat");
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "message": "sleep:8000" }))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    ava.signal("-TERM");
    let took = ava.wait_exit(Duration::from_secs(4));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(
        stuck.await.unwrap().is_err(),
        "the stuck request was cut off"
    );
}

#[tokio::test]
async fn the_worker_answers_health_and_metrics_on_its_own_port() {
    let worker = Ava::start("worker", &[], None).await;
    let text = worker
        .client
        .get(worker.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("ava_queue_depth 0"), "{text}");
    assert!(text.contains("ava_db_pool_connections"), "{text}");
}
