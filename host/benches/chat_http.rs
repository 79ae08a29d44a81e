//! `POST /chat` under load: the real server (local-persona, paywall on, SQLite and then
//! PostgreSQL) and, in the same run, a bare axum handler answering the same JSON. The load
//! generator is `wrk` (Debian package), a separate process on loopback, rotating over the
//! tokens of many subscribed users.
//!
//! Run: `scripts/build-plugins.sh && cargo bench -p ava-host --bench chat_http`.
//! `AVA_BENCH_SECONDS` (default 10), `AVA_BENCH_CONNECTIONS` (64), `AVA_BENCH_USERS` (200),
//! `AVA_TEST_POSTGRES_URL` (postgres://postgres@127.0.0.1:5432/test; "off" skips PostgreSQL),
//! `AVA_BENCH_ONLY=sqlite` (only the SQLite run, e.g. under a profiler).

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ava_host::app::App;
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use support::{CHAT_LUA, Load, env_or, plugins_dir, postgres_database, rss_mib, wrk};

/// The allocator the `ava` binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Starts Ava over `database_url`, with `users` subscribers; returns the app, its URL and
/// the tokens file.
async fn start(dir: &Path, database_url: Option<String>, users: usize) -> (App, String, PathBuf) {
    let config = dir.join("ava.toml");
    std::fs::write(
        &config,
        format!(
            "[plugins.persona]\nuse = \"local-persona\"\n[plugin.local-persona]\npath = \"{}/local-persona.wasm\"\nlimits = {{ concurrency = 128 }}\n",
            plugins_dir().display()
        ),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = support::settings(addr, dir.join("data"), config, database_url);
    let app = App::start(settings).await.unwrap();
    let state = app.state.clone();

    let tokens = support::subscribers(&state, users).await;
    let tokens_path = dir.join("tokens.txt");
    std::fs::write(&tokens_path, tokens).unwrap();
    let router = app.router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    (app, format!("http://{addr}/chat"), tokens_path)
}

/// The same answer, without any of the work: the ceiling of this machine and stack.
async fn bare(canned: Arc<Value>) -> String {
    let router = Router::new().route(
        "/chat",
        post(
            move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let canned = canned.clone();
                async move {
                    assert!(headers.contains_key("authorization") && body["message"].is_string());
                    axum::Json((*canned).clone())
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/chat")
}

fn report(label: &str, load: &Load) {
    let (rss, peak) = rss_mib();
    println!(
        "{label}: {:.0} req/s, p50 {}, p99 {}, {} requests, {} non-2xx, RSS {rss} MiB (peak {peak} MiB)",
        load.rps, load.p50, load.p99, load.requests, load.errors
    );
}

fn main() {
    let seconds: u64 = env_or("AVA_BENCH_SECONDS", 10);
    let connections: u64 = env_or("AVA_BENCH_CONNECTIONS", 64);
    let users: usize = env_or("AVA_BENCH_USERS", 200);
    let rt = support::runtime();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("chat.lua");
    std::fs::write(&script, CHAT_LUA).unwrap();
    let mut results = Vec::new();

    let sqlite_dir = dir.path().join("sqlite");
    std::fs::create_dir_all(&sqlite_dir).unwrap();
    let (app, url, tokens) = rt.block_on(start(&sqlite_dir, None, users));
    // A real turn's JSON, for the bare handler to answer.
    let token = std::fs::read_to_string(&tokens)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let canned: Value = rt.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "message": "How was your day? Tell me something nice." }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    wrk(&url, &script, &tokens, 3, connections);
    let sqlite = wrk(&url, &script, &tokens, seconds, connections);
    report("POST /chat, SQLite", &sqlite);
    results.push(("sqlite", sqlite.rps));
    drop(app);
    if std::env::var("AVA_BENCH_ONLY").as_deref() == Ok("sqlite") {
        return;
    }

    let pg_dir = dir.path().join("postgres");
    std::fs::create_dir_all(&pg_dir).unwrap();
    if let Some(pg_url) = rt.block_on(postgres_database("ava_bench")) {
        let (app, url, tokens) = rt.block_on(start(&pg_dir, Some(pg_url), users));
        wrk(&url, &script, &tokens, 3, connections);
        let postgres = wrk(&url, &script, &tokens, seconds, connections);
        report("POST /chat, PostgreSQL", &postgres);
        results.push(("postgres", postgres.rps));
        drop(app);
    } else {
        println!("POST /chat, PostgreSQL: skipped (no server at AVA_TEST_POSTGRES_URL)");
    }

    let bare_url = rt.block_on(bare(Arc::new(canned)));
    wrk(&bare_url, &script, &tokens, 3, connections);
    let bare = wrk(&bare_url, &script, &tokens, seconds, connections);
    report("bare axum handler, same JSON", &bare);
    for (label, rps) in results {
        println!(
            "{label}: {:.0}% of the bare handler",
            100.0 * rps / bare.rps
        );
    }
}
