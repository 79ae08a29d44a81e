//! A plugin sees only its own configuration and secrets, and secrets never reach the logs.
//!
//! This test binary captures every log line of every crate at TRACE level, so a secret
//! printed anywhere (a plugin's log, reqwest, hyper, the host) fails it.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use common::{LocalServer, TestHost, chat};
use hmac::{Hmac, Mac};

const SECRET: &str = "sk_test_SECRETa1b2c3d4e5";

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buffer.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        buffer
    })
    .clone()
}

fn logs() -> String {
    String::from_utf8_lossy(&capture_logs().lock().unwrap()).into_owned()
}

/// An upstream that records the `X-Secret` it receives and echoes a secret in its body, as a
/// careless API might.
async fn upstream() -> (LocalServer, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = Router::new()
        .route(
            "/secret",
            get(move |headers: HeaderMap| {
                let record = record.clone();
                async move {
                    if let Some(v) = headers.get("x-secret") {
                        record.lock().unwrap().push(v.to_str().unwrap().to_string());
                    }
                    "ok"
                }
            }),
        )
        .route("/echo", get(|| async { format!("your key is {SECRET}") }));
    (LocalServer::start(router).await, seen)
}

async fn host(server: &LocalServer) -> TestHost {
    let config = format!(
        r#"
        [plugin.a]
        path = "{{plugins}}/misbehave.wasm"
        allow_hosts = ["http://{addr}"]
        config = {{ greeting = "hello-from-a", api_key = {{ env = "A_API_KEY" }} }}

        [plugin.b]
        path = "{{plugins}}/misbehave.wasm"
        allow_hosts = ["http://{addr}"]
        "#,
        addr = server.addr
    );
    TestHost::start(&config, &[("A_API_KEY", SECRET)]).await
}

async fn ask(host: &TestHost, plugin: &str, message: &str) -> String {
    host.registry
        .current()
        .persona_named(plugin)
        .unwrap()
        .reply(&chat(message))
        .await
        .unwrap()
        .text
}

#[tokio::test]
async fn a_plugin_reads_its_own_config_and_not_another_plugins() {
    capture_logs();
    let (server, _) = upstream().await;
    let host = host(&server).await;
    assert_eq!(ask(&host, "a", "config:greeting").await, "hello-from-a");
    assert_eq!(ask(&host, "b", "config:greeting").await, "none");
}

#[tokio::test]
async fn a_secret_is_not_readable_as_config_even_by_its_owner() {
    capture_logs();
    let (server, _) = upstream().await;
    let host = host(&server).await;
    assert_eq!(ask(&host, "a", "config:api_key").await, "none");
    assert_eq!(ask(&host, "a", "has-secret:api_key").await, "yes");
    assert_eq!(ask(&host, "b", "has-secret:api_key").await, "no");
}

#[tokio::test]
async fn only_the_owner_can_sign_with_its_secret() {
    capture_logs();
    let (server, _) = upstream().await;
    let host = host(&server).await;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"x");
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(ask(&host, "a", "hmac:api_key").await, expected);
    assert_eq!(
        ask(&host, "b", "hmac:api_key").await,
        "error secret `api_key` is not granted"
    );
}

#[tokio::test]
async fn only_the_owner_can_send_its_secret_and_only_to_its_allowlist() {
    capture_logs();
    let (server, seen) = upstream().await;
    let host = host(&server).await;
    let url = server.url("/secret");
    assert_eq!(
        ask(&host, "a", &format!("secret-header:api_key@{url}")).await,
        "status 200"
    );
    assert_eq!(*seen.lock().unwrap(), vec![SECRET.to_string()]);

    let before = server.connections();
    assert_eq!(
        ask(&host, "b", &format!("secret-header:api_key@{url}")).await,
        "error secret `api_key` is not granted"
    );
    assert_eq!(
        server.connections(),
        before,
        "b's request must not be sent at all"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn secrets_never_appear_in_the_logs() {
    capture_logs();
    let (server, _) = upstream().await;
    let host = host(&server).await;
    // The secret travels in a header, and comes back in a body the plugin logs.
    let url = server.url("/secret");
    assert_eq!(
        ask(&host, "a", &format!("secret-header:api_key@{url}")).await,
        "status 200"
    );
    assert_eq!(
        ask(&host, "a", &format!("fetch-log:{}", server.url("/echo"))).await,
        "logged"
    );

    let logs = logs();
    assert!(
        logs.contains("upstream said: your key is [redacted]"),
        "the plugin's log line is missing:\n{logs}"
    );
    assert!(!logs.contains(SECRET), "a secret reached the logs:\n{logs}");
}

#[tokio::test]
async fn the_operator_view_names_secrets_without_their_values() {
    capture_logs();
    let (server, _) = upstream().await;
    let host = host(&server).await;
    let set = host.registry.current();
    let a = set.plugin("a").unwrap();
    let view = serde_json::to_string(&ava_host::api::admin::describe(a, &[])).unwrap();
    assert!(view.contains("api_key"), "{view}");
    assert!(!view.contains(SECRET), "{view}");
    assert!(!format!("{a:?} {:?}", a.grants()).contains(SECRET));
}

#[tokio::test]
async fn a_secret_does_not_follow_a_redirect_to_another_origin() {
    capture_logs();
    let (landing, landed) = upstream().await;
    let target = landing.url("/secret");
    let origin_seen = Arc::new(Mutex::new(Vec::new()));
    let record = origin_seen.clone();
    let origin = LocalServer::start(
        Router::new()
            .route(
                "/away",
                get(move || {
                    let target = target.clone();
                    async move { axum::response::Redirect::temporary(&target) }
                }),
            )
            .route(
                "/here",
                get(|| async { axum::response::Redirect::temporary("/secret") }),
            )
            .route(
                "/secret",
                get(move |headers: HeaderMap| {
                    let record = record.clone();
                    async move {
                        if let Some(v) = headers.get("x-secret") {
                            record.lock().unwrap().push(v.to_str().unwrap().to_string());
                        }
                        "ok"
                    }
                }),
            ),
    )
    .await;
    let config = format!(
        r#"
        [plugin.a]
        path = "{{plugins}}/misbehave.wasm"
        allow_hosts = ["http://{}", "http://{}"]
        config = {{ api_key = {{ env = "A_API_KEY" }} }}
        "#,
        origin.addr, landing.addr
    );
    let host = TestHost::start(&config, &[("A_API_KEY", SECRET)]).await;

    let away = format!("secret-header:api_key@{}", origin.url("/away"));
    assert_eq!(ask(&host, "a", &away).await, "status 200");
    assert_eq!(landing.connections(), 1, "the redirect was not followed");
    assert!(
        landed.lock().unwrap().is_empty(),
        "the secret followed the redirect"
    );

    let here = format!("secret-header:api_key@{}", origin.url("/here"));
    assert_eq!(ask(&host, "a", &here).await, "status 200");
    assert_eq!(*origin_seen.lock().unwrap(), vec![SECRET.to_string()]);
}
