//! Verified webhooks under load: `POST /billing/webhook` on the real server with the
//! development provider, each event signed like Stripe's, verified by the plugin and
//! applied in its own transaction (SQLite, then PostgreSQL).
//!
//! Every request is a distinct event (a duplicate would be cheaper): the events are built
//! and signed before the clock starts, for many users, rotating over a subscription update
//! with the subscription in it and two invoice events without (those make the host re-fetch
//! the subscription through the plugin). The load generator is a small HTTP/1.1 client in
//! this process, one keep-alive connection per task, so its cost is in the figures too.
//!
//! Run: `scripts/build-plugins.sh && cargo bench -p ava-host --bench webhooks`.
//! `AVA_BENCH_SECONDS` (default 10), `AVA_BENCH_CONNECTIONS` (32), `AVA_BENCH_USERS` (1000),
//! `AVA_TEST_POSTGRES_URL` ("off" skips PostgreSQL), `AVA_BENCH_ONLY=sqlite`.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ava_host::app::App;
use ava_host::db::users::{self, User};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{env_or, plugins_dir, postgres_database, rss_mib};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Requests built per second of the run: more than the server could take.
const EVENTS_PER_SECOND: usize = 12_000;

/// Starts Ava over `database_url` with the development provider and `users` accounts;
/// returns the app, its address and the webhook secret.
async fn start(
    dir: &Path,
    database_url: Option<String>,
    users: usize,
) -> (App, SocketAddr, String) {
    let config = dir.join("ava.toml");
    std::fs::write(
        &config,
        format!(
            "[plugins.billing]\nuse = \"dev-billing\"\n[plugin.dev-billing]\npath = \"{}/dev-billing.wasm\"\n\
             allow_hosts = [\"self\"]\nlimits = {{ concurrency = 128 }}\n\
             config = {{ webhook_secret = {{ generate = true }} }}\n",
            plugins_dir().display()
        ),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let data_dir = dir.join("data");
    let settings = support::settings(addr, data_dir.clone(), config, database_url);
    let app = App::start(settings).await.unwrap();
    let db = &app.state.db;
    let mut tx = db.write().await.unwrap();
    for i in 0..users {
        let user = User {
            id: user_id(i),
            email: format!("hook{i}@example.com"),
            display_name: None,
            created_at: 0,
        };
        users::insert(&mut **tx, &user, "not-a-hash").await.unwrap();
    }
    tx.commit().await.unwrap();
    let router = app.router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let secret = std::fs::read_to_string(data_dir.join("secrets/dev-billing.webhook_secret"))
        .unwrap()
        .trim()
        .to_string();
    (app, addr, secret)
}

fn user_id(i: usize) -> String {
    format!("00000000-0000-7000-8000-{i:012}")
}

/// Event `i`: for user `i % users`, created `i` seconds after `base`.
fn event(i: usize, users: usize, base: u64) -> Value {
    let u = i % users;
    let created = base + i as u64;
    let (user, sub, customer) = (user_id(u), format!("sub_bench{u}"), format!("cus_bench{u}"));
    let (kind, object) = match i % 3 {
        0 => (
            "customer.subscription.updated",
            json!({
                "id": sub, "object": "subscription", "customer": customer, "status": "active",
                "cancel_at_period_end": false, "metadata": { "user_id": user },
                "items": { "object": "list", "data": [{
                    "id": format!("si_bench{u}"), "object": "subscription_item",
                    "current_period_start": created, "current_period_end": created + 2_592_000,
                    "price": { "id": "price_bench", "object": "price" },
                }]},
            }),
        ),
        1 => (
            "invoice.payment_failed",
            json!({
                "id": format!("in_bench{i}"), "object": "invoice", "customer": customer,
                "status": "open", "billing_reason": "subscription_cycle",
                "parent": { "type": "subscription_details", "subscription_details": {
                    "subscription": sub, "metadata": { "user_id": user } } },
            }),
        ),
        _ => (
            "invoice.paid",
            json!({
                "id": format!("in_bench{i}"), "object": "invoice", "customer": customer,
                "status": "paid", "billing_reason": "subscription_cycle",
                "parent": { "type": "subscription_details", "subscription_details": {
                    "subscription": sub, "metadata": { "user_id": user } } },
            }),
        ),
    };
    json!({
        "id": format!("evt_bench{i}"), "object": "event", "api_version": "2025-03-31.basil",
        "type": kind, "created": created, "livemode": false, "pending_webhooks": 1,
        "data": { "object": object },
    })
}

/// The raw HTTP/1.1 request delivering `body`, signed at `t` with `secret`.
fn request(body: &[u8], secret: &str, t: u64) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let signature = hex::encode(mac.finalize().into_bytes());
    let mut out = format!(
        "POST /billing/webhook HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n\
         Ava-Dev-Signature: t={t},v1={signature}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// One connection's share of the load: latencies in µs, and non-200 answers.
async fn fire(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
    until: Instant,
) -> (Vec<u32>, u64) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut buf = Vec::with_capacity(4096);
    while Instant::now() < until {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else {
            break;
        };
        let started = Instant::now();
        stream.write_all(request).await.unwrap();
        let status = read_response(&mut stream, &mut buf).await;
        latencies.push(started.elapsed().as_micros() as u32);
        if status != 200 {
            failures += 1;
        }
    }
    (latencies, failures)
}

/// Reads one response (headers and a `Content-Length` body) and returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the server closed the connection");
                buf.extend_from_slice(&chunk[..n]);
            }
            return head[9..12].parse().unwrap();
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Runs the load for `seconds` with `connections` and prints the figures.
async fn run(
    label: &str,
    app: &App,
    addr: SocketAddr,
    secret: &str,
    users: usize,
    seconds: u64,
    connections: usize,
) {
    let base = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 10_000_000;
    let t = base + 10_000_000;
    let count = EVENTS_PER_SECOND * seconds as usize;
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..count)
            .map(|i| {
                request(
                    &serde_json::to_vec(&event(i, users, base)).unwrap(),
                    secret,
                    t,
                )
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(fire(addr, requests.clone(), next.clone(), until)))
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await.unwrap();
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    let (rss, peak) = rss_mib();
    let prebuilt = requests.iter().map(Vec::len).sum::<usize>() >> 20;
    println!(
        "{label}: {:.0} events/s, p50 {:.2} ms, p99 {:.2} ms, {} events, {failures} non-200, \
         RSS {rss} MiB (peak {peak} MiB, of which {prebuilt} MiB are the prebuilt requests)",
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        latencies.len(),
    );
    let outcomes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT outcome, COUNT(*) FROM billing_events GROUP BY outcome ORDER BY outcome",
    )
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    println!("{label}: recorded {outcomes:?}");
    assert_eq!(
        outcomes.iter().map(|(_, n)| *n as usize).sum::<usize>(),
        latencies.len() - failures as usize,
        "every accepted event is recorded once"
    );
}

fn main() {
    let seconds: u64 = env_or("AVA_BENCH_SECONDS", 10);
    let connections: usize = env_or("AVA_BENCH_CONNECTIONS", 32);
    let users: usize = env_or("AVA_BENCH_USERS", 1000);
    let rt = support::runtime();
    let dir = tempfile::tempdir().unwrap();
    let only_sqlite = std::env::var("AVA_BENCH_ONLY").as_deref() == Ok("sqlite");
    rt.block_on(async {
        let postgres = if only_sqlite {
            None
        } else {
            postgres_database("ava_bench_hooks").await
        };
        if !only_sqlite && postgres.is_none() {
            println!("webhooks, PostgreSQL: skipped (no server at AVA_TEST_POSTGRES_URL)");
        }
        let runs = [("SQLite", None)]
            .into_iter()
            .chain(postgres.map(|url| ("PostgreSQL", Some(url))));
        for (database, url) in runs {
            let folder = dir.path().join(database);
            std::fs::create_dir_all(&folder).unwrap();
            let (app, addr, secret) = start(&folder, url, users).await;
            let label = format!("webhooks, {database}");
            run(&label, &app, addr, &secret, users, seconds, connections).await;
        }
    });
}
