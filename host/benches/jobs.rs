//! The job queue and the photo pipeline under load.
//!
//! 1. Queue throughput: `AVA_BENCH_JOBS` (default 20,000) `noop` jobs are enqueued, then a
//!    worker (`AVA_BENCH_CONCURRENCY`, default 64) runs them through the `noop-job` plugin:
//!    claim, a plugin call, acknowledge. Jobs per second until the queue is empty, on the
//!    embedded queue over SQLite and over PostgreSQL, and on Redis (`REDIS_URL`, default
//!    `redis://127.0.0.1:6379`; `off` skips it).
//! 2. Chat → photo ready: `AVA_BENCH_PHOTOS` (default 50) turns, one after another, each
//!    asking for a selfie over HTTP; the time from sending the message to the photo's
//!    `ready` event, with `local-persona`, `photo-job` and `local-images` on SQLite and the
//!    in-process worker, as `ava serve` runs by default.
//!
//! Run: `scripts/build-plugins.sh && cargo bench -p ava-host --bench jobs`.
//! `AVA_TEST_POSTGRES_URL` ("off" skips PostgreSQL), `AVA_BENCH_ONLY=queue|photos`.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use ava_host::app::App;
use ava_host::config::Settings;
use ava_host::jobs::{DeadJob, Delivery, NewJob, Queue, QueueResult};
use serde_json::{Value, json};
use support::{env_or, plugins_dir, postgres_database, rss_mib};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn settings(
    dir: &Path,
    config: &str,
    database_url: Option<String>,
    redis_url: Option<String>,
) -> Settings {
    let path = dir.join("ava.toml");
    std::fs::write(
        &path,
        config.replace("{plugins}", &plugins_dir().display().to_string()),
    )
    .unwrap();
    let mut settings = support::settings(
        "127.0.0.1:0".parse().unwrap(),
        dir.join("data"),
        path,
        database_url,
    );
    settings.redis_url = redis_url;
    // Its own keys, so a run never meets another's jobs.
    settings.redis_prefix = format!("ava-bench-{}", std::process::id());
    settings.worker.worker_concurrency = env_or("AVA_BENCH_CONCURRENCY", 64);
    settings
}

const NOOP: &str = r#"
[plugins.jobs]
use = ["noop-job"]

[plugin.noop-job]
path = "{plugins}/noop-job.wasm"
limits = { concurrency = 64 }
"#;

/// The queue, counting the acknowledgements that took: proof every job ran to its end.
struct Counting {
    inner: std::sync::Arc<dyn Queue>,
    acked: std::sync::atomic::AtomicU64,
}

#[async_trait::async_trait]
impl Queue for Counting {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn enqueue(&self, jobs: &[NewJob]) -> QueueResult<()> {
        self.inner.enqueue(jobs).await
    }
    fn committed(&self) {
        self.inner.committed()
    }
    async fn claim(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> QueueResult<Vec<Delivery>> {
        self.inner.claim(consumer, max, wait).await
    }
    async fn ack(&self, delivery: &Delivery) -> QueueResult<bool> {
        let acked = self.inner.ack(delivery).await?;
        if acked {
            self.acked
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(acked)
    }
    async fn retry(&self, delivery: &Delivery, delay: Duration, reason: &str) -> QueueResult<bool> {
        self.inner.retry(delivery, delay, reason).await
    }
    async fn bury(&self, delivery: &Delivery, reason: &str) -> QueueResult<bool> {
        self.inner.bury(delivery, reason).await
    }
    async fn dead(&self, limit: usize) -> QueueResult<Vec<DeadJob>> {
        self.inner.dead(limit).await
    }
    async fn revive(&self, id: &str) -> QueueResult<bool> {
        self.inner.revive(id).await
    }
    async fn depth(&self) -> QueueResult<u64> {
        self.inner.depth().await
    }
}

/// Enqueues the jobs, then runs a worker until every one is acknowledged: jobs per second.
async fn queue_throughput(label: &str, database_url: Option<String>, redis_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let jobs: usize = env_or("AVA_BENCH_JOBS", 20_000);
    let app = App::start_with_worker(false, settings(dir.path(), NOOP, database_url, redis_url))
        .await
        .unwrap();
    let queue = app.state.queue.clone();
    let batch: Vec<NewJob> = (0..jobs)
        .map(|_| NewJob::new("noop", "{}".into()))
        .collect();
    for chunk in batch.chunks(1000) {
        queue.enqueue(chunk).await.unwrap();
    }
    // With Redis, the jobs reach the stream straight away; wait until they are all there.
    while queue.depth().await.unwrap() < jobs as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let counting = std::sync::Arc::new(Counting {
        inner: queue.clone(),
        acked: Default::default(),
    });
    let mut worker = ava_host::app::worker(&app.state, "bench");
    worker.queue = counting.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    while counting.acked.load(std::sync::atomic::Ordering::Relaxed) < jobs as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    assert_eq!(queue.depth().await.unwrap(), 0);
    assert!(queue.dead(1).await.unwrap().is_empty());
    let _ = stop.send(());
    running.await.unwrap();
    let (rss, peak) = rss_mib();
    println!(
        "queue {label}: {jobs} noop jobs in {:.2} s = {:.0} jobs/s (concurrency {}, RSS {rss} MiB, peak {peak} MiB)",
        elapsed.as_secs_f64(),
        jobs as f64 / elapsed.as_secs_f64(),
        app.state.settings.worker.worker_concurrency,
    );
}

const PHOTOS: &str = r#"
[app]
paywall = false

[plugins.persona]
use = "local-persona"

[plugins.images]
use = "local-images"

[plugins.jobs]
use = ["photo-job"]

[plugin.local-persona]
path = "{plugins}/local-persona.wasm"

[plugin.local-images]
path = "{plugins}/local-images.wasm"
limits = { memory_mib = 128, timeout_ms = 20000 }

[plugin.photo-job]
path = "{plugins}/photo-job.wasm"
"#;

/// Sequential turns asking for a photo: the time until each photo is ready.
async fn chat_to_photo() {
    let dir = tempfile::tempdir().unwrap();
    let turns: usize = env_or("AVA_BENCH_PHOTOS", 50);
    let mut settings = settings(dir.path(), PHOTOS, None, None);
    settings.worker.worker_concurrency = 8;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = App::start(settings).await.unwrap();
    let router = app.router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let registered: Value = client
        .post(format!("{base}/auth/register"))
        .json(&json!({ "email": "bench@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["token"].as_str().unwrap().to_string();
    let prefs = client
        .put(format!("{base}/preferences"))
        .bearer_auth(&token)
        .json(&json!({ "photos_enabled": true }))
        .send()
        .await
        .unwrap();
    assert!(prefs.status().is_success());

    let mut feed = app.state.photo_feed.subscribe();
    let mut latencies = Vec::with_capacity(turns);
    for i in 0..turns {
        let started = Instant::now();
        let turn: Value = client
            .post(format!("{base}/chat"))
            .bearer_auth(&token)
            .json(&json!({ "message": format!("send me a selfie from the park, #{i}") }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = turn["reply"]["photo"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no photo in {turn}"))
            .to_string();
        loop {
            let event = feed.recv().await.unwrap();
            if event.photo_id == id {
                assert_eq!(event.status, "ready");
                break;
            }
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let (rss, peak) = rss_mib();
    println!(
        "chat -> photo ready (local-images 768x1024, SQLite, in-process worker): {turns} turns, p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (RSS {rss} MiB, peak {peak} MiB)",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.9).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0,
    );
}

fn main() {
    ava_host::tls::install_crypto_provider();
    let only = std::env::var("AVA_BENCH_ONLY").unwrap_or_default();
    let rt = support::runtime();
    rt.block_on(async {
        if only.is_empty() || only == "queue" {
            queue_throughput("embedded, SQLite", None, None).await;
            if let Some(url) = postgres_database("ava_bench_jobs").await {
                queue_throughput("embedded, PostgreSQL", Some(url), None).await;
            }
            let redis =
                std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            if redis != "off" {
                queue_throughput("Redis, SQLite outbox", None, Some(redis)).await;
            }
        }
        if only.is_empty() || only == "photos" {
            chat_to_photo().await;
        }
    });
}
