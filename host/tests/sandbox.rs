//! A misbehaving plugin fails its own call with the right typed error, within its limit,
//! while calls to a healthy plugin keep succeeding.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ava_host::plugins::CallError;
use axum::Router;
use axum::routing::get;
use common::{LocalServer, TestHost, chat};

const TIMEOUT_MS: u64 = 500;
/// Slack for the scheduler of a loaded two-core machine; the deadline itself is enforced
/// to the epoch tick.
const SLACK: Duration = Duration::from_millis(400);

const CONFIG: &str = r#"
[plugins.persona]
use = "healthy"

[plugin.healthy]
path = "{plugins}/local-persona.wasm"

[plugin.bad]
path = "{plugins}/misbehave.wasm"
limits = { memory_mib = 32, timeout_ms = 500, max_output_bytes = 1048576, concurrency = 4 }
"#;

/// Runs `message` on the misbehaving plugin while the healthy one is called in a loop;
/// returns the bad call's error, how long it took, and how many healthy calls succeeded.
async fn misbehave_beside_healthy(host: &TestHost, message: &str) -> (CallError, Duration, usize) {
    let set = host.registry.current();
    let bad = set.persona_named("bad").unwrap();
    let healthy = set.persona().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let successes = Arc::new(AtomicUsize::new(0));

    let loop_done = done.clone();
    let loop_successes = successes.clone();
    let healthy_loop = tokio::spawn(async move {
        while !loop_done.load(Ordering::SeqCst) {
            match healthy.reply(&chat("How is your day going?")).await {
                Ok(reply) => {
                    assert!(!reply.text.is_empty());
                    loop_successes.fetch_add(1, Ordering::SeqCst);
                }
                Err(err) => panic!("a healthy call failed beside a misbehaving one: {err}"),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });

    let started = Instant::now();
    let result = bad.reply(&chat(message)).await;
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    healthy_loop.await.unwrap();
    let err = result.expect_err("the misbehaving call must fail");
    (err, elapsed, successes.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_times_out_at_its_limit() {
    let host = TestHost::start(CONFIG, &[]).await;
    let (err, elapsed, healthy) = misbehave_beside_healthy(&host, "loop").await;
    assert!(
        matches!(err, CallError::Timeout { ref plugin, limit } if plugin == "bad" && limit == Duration::from_millis(TIMEOUT_MS)),
        "{err:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(TIMEOUT_MS),
        "ended early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS) + SLACK,
        "took {elapsed:?}"
    );
    assert!(
        healthy > 0,
        "no healthy call got through while the loop ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_memory_limit() {
    let host = TestHost::start(CONFIG, &[]).await;
    let (err, elapsed, _) = misbehave_beside_healthy(&host, "oom").await;
    assert!(
        matches!(err, CallError::MemoryLimit { limit_bytes, .. } if limit_bytes == 32 << 20),
        "{err:?}"
    );
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS) + SLACK,
        "took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_overflows_the_stack() {
    let host = TestHost::start(CONFIG, &[]).await;
    let (err, _, _) = misbehave_beside_healthy(&host, "recurse").await;
    assert!(matches!(err, CallError::StackOverflow { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_reply_is_refused() {
    let host = TestHost::start(CONFIG, &[]).await;
    let (err, _, _) = misbehave_beside_healthy(&host, "huge:4194304").await;
    assert!(
        matches!(err, CallError::OutputTooLarge { size, limit, .. } if size == 4 << 20 && limit == 1 << 20),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_stream_is_cut_off() {
    let host = TestHost::start(CONFIG, &[]).await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let err = bad
        .stream_reply(&chat("stream:4194304"), tx)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::OutputTooLarge { limit, .. } if limit == 1 << 20),
        "{err:?}"
    );
    let mut received = 0;
    while let Ok(piece) = rx.try_recv() {
        received += piece.len();
    }
    assert!(
        received <= 1 << 20,
        "{received} bytes went out past the limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_with_its_message() {
    let host = TestHost::start(CONFIG, &[]).await;
    let (err, _, _) = misbehave_beside_healthy(&host, "panic").await;
    match err {
        CallError::Panic { plugin, message } => {
            assert_eq!(plugin, "bad");
            assert!(
                message.contains("misbehave panicked on purpose"),
                "{message}"
            );
        }
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleeping_in_the_host_past_the_limit_times_out() {
    let host = TestHost::start(CONFIG, &[]).await;
    let (err, elapsed, healthy) = misbehave_beside_healthy(&host, "sleep:60000").await;
    assert!(matches!(err, CallError::Timeout { .. }), "{err:?}");
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS) + SLACK,
        "took {elapsed:?}"
    );
    assert!(healthy > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuel_bounds_cpu_deterministically() {
    let host = TestHost::start(
        r#"
        [plugin.bad]
        path = "{plugins}/misbehave.wasm"
        limits = { fuel = 5000000, timeout_ms = 5000 }
        "#,
        &[],
    )
    .await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    let err = bad.reply(&chat("loop")).await.unwrap_err();
    assert!(
        matches!(err, CallError::FuelExhausted { fuel: 5000000, .. }),
        "{err:?}"
    );
    // A small call fits in the same budget.
    assert_eq!(
        bad.reply(&chat("hello")).await.unwrap().text,
        "misbehave: hello"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_off_the_allowlist_is_refused_before_any_connection() {
    let server = LocalServer::start(Router::new().route("/", get(|| async { "hello" }))).await;
    let host = TestHost::start(CONFIG, &[]).await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    let reply = bad
        .reply(&chat(&format!("fetch:{}", server.url("/"))))
        .await
        .unwrap();
    assert!(
        reply.text.starts_with("error request denied"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("not on the allowlist of plugin `bad`"),
        "{}",
        reply.text
    );
    // Black-hole destinations are refused the same way, without a network attempt.
    let reply = bad.reply(&chat("fetch:http://[100::1]:9/")).await.unwrap();
    assert!(
        reply.text.starts_with("error request denied"),
        "{}",
        reply.text
    );
    assert_eq!(server.connections(), 0, "the local server saw a connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_request_goes_through_and_a_redirect_off_the_allowlist_does_not() {
    let elsewhere =
        LocalServer::start(Router::new().route("/", get(|| async { "elsewhere" }))).await;
    let target = elsewhere.url("/");
    let server = LocalServer::start(Router::new().route("/ok", get(|| async { "fine" })).route(
        "/away",
        get(move || {
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        }),
    ))
    .await;
    let config = format!(
        "[plugin.bad]\npath = \"{{plugins}}/misbehave.wasm\"\nallow_hosts = [\"http://{}\"]\n",
        server.addr
    );
    let host = TestHost::start(&config, &[]).await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    let ok = bad
        .reply(&chat(&format!("fetch:{}", server.url("/ok"))))
        .await
        .unwrap();
    assert_eq!(ok.text, "status 200");
    let away = bad
        .reply(&chat(&format!("fetch:{}", server.url("/away"))))
        .await
        .unwrap();
    assert!(
        away.text.starts_with("error request denied"),
        "{}",
        away.text
    );
    assert_eq!(elsewhere.connections(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_plugin_makes_callers_wait_then_reports_busy() {
    let host = TestHost::start(
        r#"
        [plugin.bad]
        path = "{plugins}/misbehave.wasm"
        limits = { concurrency = 1, timeout_ms = 300 }
        "#,
        &[],
    )
    .await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    let first = bad.clone();
    let hog = tokio::spawn(async move { first.reply(&chat("sleep:250")).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Waits for the hog to finish within its own deadline, then runs.
    let waited = bad.reply(&chat("quick")).await.unwrap();
    assert_eq!(waited.text, "misbehave: quick");
    assert_eq!(hog.await.unwrap().unwrap().text, "slept");

    let first = bad.clone();
    let hog = tokio::spawn(async move { first.reply(&chat("sleep:10000")).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let err = bad.reply(&chat("quick")).await.unwrap_err();
    assert!(
        matches!(err, CallError::Busy { concurrency: 1, .. }),
        "{err:?}"
    );
    assert!(matches!(hog.await.unwrap(), Err(CallError::Timeout { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_flood_is_capped_and_the_call_succeeds() {
    let host = TestHost::start(CONFIG, &[]).await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    assert_eq!(bad.reply(&chat("log-flood")).await.unwrap().text, "flooded");
}

/// Printing more than the host keeps (64 KiB of each stream) does not fail the call, and a
/// panic after a flood of stderr is still reported with its message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_flood_is_dropped_and_the_call_succeeds() {
    let host = TestHost::start(CONFIG, &[]).await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    assert_eq!(
        bad.reply(&chat("print-flood")).await.unwrap().text,
        "printed"
    );
    match bad.reply(&chat("print-then-panic")).await.unwrap_err() {
        CallError::Panic { message, .. } => {
            assert!(message.contains("panicked after printing"), "{message}");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_starts_from_a_fresh_instance() {
    let host = TestHost::start(CONFIG, &[]).await;
    let bad = host.registry.current().persona_named("bad").unwrap();
    for _ in 0..3 {
        assert_eq!(bad.reply(&chat("count")).await.unwrap().text, "1");
    }
    // Only the key-value store persists between calls.
    assert_eq!(
        bad.reply(&chat("kv-set:k=v1")).await.unwrap().text,
        "stored"
    );
    assert_eq!(bad.reply(&chat("kv-get:k")).await.unwrap().text, "v1");
}
