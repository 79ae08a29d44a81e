//! The production topology of docker-compose.yml as real processes on this machine: the
//! Debian nginx running the project's nginx.conf (rendered by scripts/nginx-conf.sh, which
//! only swaps addresses, paths and ports) with TLS from a certificate this test makes, in
//! front of two `ava serve` replicas and one `ava worker`, on a fresh PostgreSQL database and
//! the local Redis. Everything is checked through nginx as a client would see it, then the
//! SPA's paid journey runs through it in Chromium.

mod common;
#[path = "common/redis.rs"]
mod redis;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use common::LocalServer;
use common::app::{drop_database, fresh_postgres_database};
use common::processes::{
    NginxLayout, Proc, ava_command, free_port, make_certificates, repo, start_nginx, tail,
};
use futures::StreamExt;
use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

const OPERATOR_TOKEN: &str = "topology-operator-token";
const STRIPE_WEBHOOK_SECRET: &str = "whsec_topology_test_secret";
const FIXTURE_USER: &str = "0193e5a4-7c1e-7b2a-9f00-3c4d5e6f7a8b";

/// A fake Stripe API: every subscription it is asked for is active, for `user`.
#[derive(Clone, Default)]
struct Stripe {
    user: std::sync::Arc<std::sync::Mutex<String>>,
}

async fn stripe_subscription(State(s): State<Stripe>, _uri: Uri) -> axum::Json<Value> {
    let text = include_str!("../../plugins/stripe/tests/fixtures/api/subscription.json")
        .replace(FIXTURE_USER, &s.user.lock().unwrap());
    let mut sub: Value = serde_json::from_str(&text).unwrap();
    sub["status"] = json!("active");
    axum::Json(sub)
}

/// The plugin file both phases share; `persona` and `billing` pick the slots.
fn config(persona: &str, billing: &str, stripe: &str) -> String {
    common::render(&format!(
        r#"
[plugins.persona]
use = "{persona}"
[plugins.images]
use = "local-images"
[plugins.billing]
use = "{billing}"
[plugins.jobs]
use = ["photo-job"]

[plugin.misbehave]
path = "{{plugins}}/misbehave.wasm"
limits = {{ timeout_ms = 20000 }}

[plugin.local-persona]
path = "{{plugins}}/local-persona.wasm"
limits = {{ memory_mib = 32, timeout_ms = 5000, concurrency = 64 }}

[plugin.local-images]
path = "{{plugins}}/local-images.wasm"
limits = {{ memory_mib = 128, timeout_ms = 20000, concurrency = 8 }}

[plugin.photo-job]
path = "{{plugins}}/photo-job.wasm"
limits = {{ memory_mib = 64, timeout_ms = 60000, concurrency = 16 }}

[plugin.stripe]
path = "{{plugins}}/stripe.wasm"
allow_hosts = ["http://{stripe}"]
config = {{ api_base = "http://{stripe}", price_id = "price_topology", secret_key = {{ env = "STRIPE_SECRET_KEY" }}, webhook_secret = {{ env = "STRIPE_WEBHOOK_SECRET" }} }}

[plugin.dev-billing]
path = "{{plugins}}/dev-billing.wasm"
allow_hosts = ["self"]
config = {{ webhook_secret = {{ env = "DEV_BILLING_WEBHOOK_SECRET" }} }}
"#
    ))
}

/// nginx, two `ava serve`, one `ava worker`, PostgreSQL and Redis.
struct Topology {
    /// Certificates, logs, data, the configs: removed when the topology is dropped.
    _dir: tempfile::TempDir,
    /// `https://localhost:<port>`: nginx's TLS server, Ava's public URL.
    public: String,
    http_port: u16,
    https_port: u16,
    /// Each replica's own address, for what only the internal network sees.
    replicas: Vec<String>,
    worker_metrics: String,
    config_path: PathBuf,
    stripe: String,
    client: Client,
    ca: Vec<u8>,
    database: String,
    redis_prefix: String,
    procs: Vec<Proc>,
}

impl Topology {
    async fn start(stripe: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let certs = dir.path().join("certs");
        let data = dir.path().join("data");
        for d in [&logs, &certs, &data] {
            std::fs::create_dir_all(d).unwrap();
        }
        let ca = make_certificates(&certs);
        std::fs::create_dir_all(common::shared_cache_dir()).unwrap();
        std::os::unix::fs::symlink(common::shared_cache_dir(), data.join("plugin-cache")).unwrap();
        let config_path = dir.path().join("ava.toml");
        std::fs::write(&config_path, config("misbehave", "stripe", stripe)).unwrap();
        let (database_url, database) = fresh_postgres_database().await;
        let redis_prefix = redis::unique_prefix("topology");
        let (http_port, https_port) = (free_port(), free_port());
        let public = format!("https://localhost:{https_port}");
        let ca_file = certs.join("ca.pem");

        let ava = |args: &[&str]| {
            let mut command = ava_command(args, dir.path(), &config_path, &data, &database_url);
            command
                .env("REDIS_URL", redis::url())
                .env("AVA_REDIS_PREFIX", &redis_prefix)
                .env("AVA_PUBLIC_URL", &public)
                .env("AVA_OPERATOR_TOKEN", OPERATOR_TOKEN)
                .env("AVA_WEB_DIR", repo().join("frontend/dist"))
                // Only nginx, on loopback's first address, may say who the client is.
                .env("AVA_TRUSTED_PROXIES", "127.0.0.1/32")
                .env("AVA_LOG", "info")
                .env("NO_COLOR", "1")
                .env("STRIPE_SECRET_KEY", "sk_test_topology")
                .env("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET)
                .env("DEV_BILLING_WEBHOOK_SECRET", "whsec_dev_topology")
                // The dev checkout delivers its webhook through nginx: trust the test's CA.
                .env("SSL_CERT_FILE", &ca_file);
            command
        };

        // As compose's `migrate` service: once, before any replica serves.
        let migrate = ava(&["migrate"]).output().unwrap();
        assert!(
            migrate.status.success(),
            "ava migrate: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );

        let mut procs = Vec::new();
        let mut replicas = Vec::new();
        for n in 1..=2 {
            let addr = format!("127.0.0.1:{}", free_port());
            let mut command = ava(&["serve"]);
            command.env("AVA_ADDR", &addr);
            procs.push(Proc::spawn(&format!("serve-{n}"), command, &logs));
            replicas.push(format!("http://{addr}"));
        }
        let worker_addr = format!("127.0.0.1:{}", free_port());
        let mut command = ava(&["worker"]);
        command.env("AVA_METRICS_ADDR", &worker_addr);
        procs.push(Proc::spawn("worker", command, &logs));

        procs.push(start_nginx(
            "nginx",
            &NginxLayout {
                upstreams: &replicas,
                certs: &certs,
                http_port,
                https_port,
                dir: dir.path(),
            },
            &logs,
        ));

        let client = client_from(&ca, None);
        let topology = Self {
            _dir: dir,
            public,
            http_port,
            https_port,
            replicas,
            worker_metrics: format!("http://{worker_addr}"),
            config_path,
            stripe: stripe.to_string(),
            client,
            ca,
            database,
            redis_prefix,
            procs,
        };
        topology.wait_ready().await;
        topology
    }

    async fn wait_ready(&self) {
        let plain = Client::new();
        let mut probes: Vec<String> = self
            .replicas
            .iter()
            .map(|r| format!("{r}/health/ready"))
            .collect();
        probes.push(format!("{}/health", self.worker_metrics));
        let deadline = Instant::now() + Duration::from_secs(480);
        for probe in probes {
            loop {
                if let Ok(r) = plain.get(&probe).send().await
                    && r.status().is_success()
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{probe} not ready in 480 s (a cold plugin cache compiles stripe.wasm, 8 MB, in a debug host):\n{}",
                    self.logs()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        loop {
            if let Ok(r) = self.client.get(self.url("/health")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "nginx not answering:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public)
    }

    fn logs(&self) -> String {
        self.procs
            .iter()
            .map(|p| format!("--- {}\n{}", p.name, tail(&p.log)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn assert_running(&mut self) {
        for p in &mut self.procs {
            p.assert_running();
        }
    }

    async fn register(&self, email: &str) -> (String, String) {
        let response = self
            .client
            .post(self.url("/auth/register"))
            .json(&json!({ "email": email, "password": "correct horse battery staple" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        (
            body["token"].as_str().unwrap().into(),
            body["user"]["id"].as_str().unwrap().into(),
        )
    }

    /// Posts `body` to /billing/webhook through nginx, signed as Stripe signs.
    async fn stripe_webhook(&self, body: &[u8], signed_over: &[u8]) -> (StatusCode, Value) {
        let t = now_secs();
        let mut mac = Hmac::<Sha256>::new_from_slice(STRIPE_WEBHOOK_SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(signed_over);
        let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
        let response = self
            .client
            .post(self.url("/billing/webhook"))
            .header("Stripe-Signature", signature)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Rewrites the plugin file; waits until every replica runs `billing` for billing.
    async fn use_plugins(&self, persona: &str, billing: &str) {
        std::fs::write(&self.config_path, config(persona, billing, &self.stripe)).unwrap();
        let plain = Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for replica in &self.replicas {
            loop {
                let plugins: Value = plain
                    .get(format!("{replica}/admin/plugins"))
                    .bearer_auth(OPERATOR_TOKEN)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let serving = |name: &str| {
                    plugins["plugins"].as_array().unwrap().iter().any(|p| {
                        p["name"] == name && p["slots"].as_array().is_some_and(|s| !s.is_empty())
                    })
                };
                if serving(billing) && serving(persona) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{replica} did not switch to {persona} + {billing}: {plugins}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        // Processes first (Proc's drop), then what they used.
        self.procs.clear();
        let (database, prefix) = (self.database.clone(), self.redis_prefix.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                drop_database(&database).await;
                redis::delete_prefix(&redis::url(), &prefix).await;
            });
        })
        .join();
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client trusting only the test's CA, from `local` (a loopback address) when given; it
/// follows no redirects, so they can be checked.
fn client_from(ca: &[u8], local: Option<IpAddr>) -> Client {
    ava_host::tls::install_crypto_provider();
    let mut builder = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca).unwrap()])
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60));
    if let Some(ip) = local {
        builder = builder.local_address(ip);
    }
    builder.build().unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// The sum of the `metric` samples whose labels include every one of `labels`.
fn metric_sum(text: &str, metric: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn checks_the_static_app_and_its_headers(t: &Topology) {
    let index = t.client.get(t.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert_eq!(header(&index, "cache-control"), "no-cache");
    assert!(header(&index, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&index, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    assert!(header(&index, "strict-transport-security").starts_with("max-age="));
    assert!(header(&index, "server").is_empty() || !header(&index, "server").contains('/'));
    let html = index.text().await.unwrap();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .filter(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("index.html names its script: {html}"))
        .to_string();

    // A page of the SPA that is no file: nginx's fallback to index.html.
    for page in ["/gallery", "/subscribe?cancelled=1", "/settings"] {
        let r = t.client.get(t.url(page)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        assert!(header(&r, "content-security-policy").contains("default-src 'self'"));
        assert_eq!(r.text().await.unwrap(), html, "{page} is the SPA");
    }
    // /chat is both a page and the API: a browser's GET gets the SPA from the host.
    let chat_page = t
        .client
        .get(t.url("/chat"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(chat_page.status(), StatusCode::OK);
    assert!(header(&chat_page, "content-type").starts_with("text/html"));

    // Hashed assets: cached for good, gzipped, with the security headers still on.
    let asset = t
        .client
        .get(t.url(&script))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(header(&asset, "cache-control").contains("immutable"));
    assert_eq!(header(&asset, "content-encoding"), "gzip");
    assert_eq!(header(&asset, "x-content-type-options"), "nosniff");
    let on_disk = std::fs::metadata(repo().join("frontend/dist").join(&script[1..]))
        .unwrap()
        .len();
    let sent = asset.bytes().await.unwrap().len() as u64;
    assert!(sent < on_disk / 2, "gzip: {sent} of {on_disk} bytes");
    // API answers are gzipped too.
    let openapi = t
        .client
        .get(t.url("/openapi.json"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&openapi, "content-encoding"), "gzip");
    let missing = t
        .client
        .get(t.url("/assets/nope-123.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Port 80 only redirects to TLS, and never sends HSTS.
    let plain = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = plain
        .get(format!("http://localhost:{}/chat?x=1", t.http_port))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        header(&redirect, "location"),
        format!("https://localhost:{}/chat?x=1", t.https_port)
    );
    assert!(header(&redirect, "strict-transport-security").is_empty());
    // A client that does not trust the certificate is refused by TLS itself.
    let untrusting = Client::builder()
        .tls_certs_only(Vec::<reqwest::Certificate>::new())
        .build()
        .unwrap();
    assert!(untrusting.get(t.url("/health")).send().await.is_err());
}

async fn checks_every_proxied_route(t: &Topology, token: &str) {
    use reqwest::Method;
    let routes: &[(Method, &str, bool, StatusCode)] = &[
        (Method::GET, "/health", false, StatusCode::OK),
        (Method::GET, "/health/ready", false, StatusCode::OK),
        (Method::GET, "/openapi.json", false, StatusCode::OK),
        (Method::GET, "/auth/me", true, StatusCode::OK),
        (Method::POST, "/chat", true, StatusCode::OK),
        (Method::GET, "/billing/status", true, StatusCode::OK),
        (Method::GET, "/avatars", true, StatusCode::OK),
        (Method::GET, "/preferences", true, StatusCode::OK),
        (Method::GET, "/photos", true, StatusCode::OK),
        (Method::GET, "/messages", true, StatusCode::OK),
        // Under Stripe there is no dev checkout: the host's JSON 404, not nginx's page.
        (Method::GET, "/dev/checkout/x", false, StatusCode::NOT_FOUND),
        (Method::GET, "/admin/plugins", false, StatusCode::OK),
        // Unsigned: refused by the plugin, as the host says.
        (
            Method::POST,
            "/webhook/stripe",
            false,
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, "/auth/nope", false, StatusCode::NOT_FOUND),
    ];
    for (method, path, with_token, expected) in routes {
        let mut request = t.client.request(method.clone(), t.url(path));
        if *with_token {
            request = request.bearer_auth(token);
        } else if path.starts_with("/admin") {
            request = request.bearer_auth(OPERATOR_TOKEN);
        }
        if *method == Method::POST {
            request = request.json(&json!({ "message": "hello through nginx" }));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        // The host answered: its request id comes back (nginx made it, the host kept it).
        let id = header(&response, "x-request-id").to_string();
        let kind = header(&response, "content-type").to_string();
        let body = response.text().await.unwrap();
        assert_eq!(status, *expected, "{method} {path}: {body}");
        assert_eq!(
            id.len(),
            32,
            "{method} {path}: nginx's $request_id reaches the host"
        );
        assert!(
            kind.starts_with("application/json"),
            "{method} {path}: {kind}"
        );
        if !status.is_success() {
            let detail: Value = serde_json::from_str(&body).unwrap();
            assert!(detail["detail"].is_string(), "{method} {path}: {body}");
        }
    }
}

/// How many `/billing/status` answers of `status` each replica has counted.
async fn billing_status_counts(t: &Topology, status: u16) -> Vec<f64> {
    let plain = Client::new();
    let mut counts = Vec::new();
    for replica in &t.replicas {
        let text = plain
            .get(format!("{replica}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        counts.push(metric_sum(
            &text,
            "ava_http_requests_total",
            &["route=\"/billing/status\"", &format!("status=\"{status}\"")],
        ));
    }
    counts
}

/// Requests without a session go round robin; a signed-in user's stay on one replica,
/// which keeps their conversation cached (nginx.conf's `hash`).
async fn checks_both_replicas_serve(t: &Topology, token: &str) {
    for _ in 0..20 {
        let r = t.client.get(t.url("/billing/status")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let counts = billing_status_counts(t, 401).await;
    assert!(
        counts.iter().all(|&n| n >= 5.0) && counts.iter().sum::<f64>() >= 20.0,
        "nginx spreads anonymous requests over both replicas: {counts:?}"
    );
    let before = billing_status_counts(t, 200).await;
    for _ in 0..10 {
        let r = t
            .client
            .get(t.url("/billing/status"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let after = billing_status_counts(t, 200).await;
    let added: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert!(
        added.contains(&10.0) && added.contains(&0.0),
        "one user's requests all reach one replica: {added:?}"
    );
}

async fn checks_metrics_stay_inside(t: &Topology) {
    let outside = t.client.get(t.url("/metrics")).send().await.unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    assert!(!outside.text().await.unwrap().contains("ava_"));
    let plain = Client::new();
    for inside in [
        format!("{}/metrics", t.replicas[0]),
        format!("{}/metrics", t.worker_metrics),
    ] {
        let r = plain.get(&inside).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{inside}");
        assert!(r.text().await.unwrap().contains("# TYPE ava_"), "{inside}");
    }
}

/// The first words of a slow reply arrive while the persona is still writing the rest.
async fn checks_streams_are_unbuffered(t: &Topology, token: &str) {
    let started = Instant::now();
    let response = t
        .client
        .post(t.url("/chat/stream"))
        .bearer_auth(token)
        // As a browser asks: a stream nginx compressed would arrive in lumps.
        .header("Accept-Encoding", "gzip")
        .json(&json!({ "message": "slow-stream:6:500" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    let mut first_delta = None;
    while let Some(chunk) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if first_delta.is_none() && text.contains("event: delta") {
            first_delta = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    let first = first_delta.unwrap_or_else(|| panic!("no delta in {text}"));
    assert!(text.contains("event: done"), "{text}");
    // Six pieces 500 ms apart: the reply takes ≥ 2.5 s, the first piece comes at once.
    assert!(total >= Duration::from_millis(2500), "{total:?}");
    assert!(
        first + Duration::from_millis(1500) < total,
        "first delta at {first:?}, the end at {total:?}: nginx buffered the stream"
    );
}

/// A Stripe event passes nginx byte for byte: its signature covers the raw body, and one
/// formatted in ways a re-encoding proxy would change (CRLF, tabs, non-ASCII) verifies.
async fn checks_webhooks_pass_untouched(t: &Topology, user: &str, token: &str) {
    let body =
        include_str!("../../plugins/stripe/tests/fixtures/events/checkout.session.completed.json")
            .replace(FIXTURE_USER, user)
            .replace(
                "\"created\": 1767225590",
                &format!("\"created\": {}", now_secs()),
            )
            .replace(
                "/billing/cancel\"",
                "/billing/cancel?from=caf\u{e9}-\u{1f319}\"",
            )
            .replace("\n  ", "\n\t")
            .replace('\n', "\r\n");
    let body = format!("{body}\r\n\r\n");
    assert!(body.contains("caf\u{e9}") && body.contains("\r\n\t"));

    // Signed over other bytes than sent (one byte differs): refused.
    let mut other = body.clone().into_bytes();
    let at = other.iter().position(|&b| b == b'\t').unwrap();
    other[at] = b' ';
    let (status, answer) = t.stripe_webhook(body.as_bytes(), &other).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    let (status, answer) = t.stripe_webhook(body.as_bytes(), body.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "applied");
    let (status, answer) = t.stripe_webhook(body.as_bytes(), body.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "duplicate");
    let status: Value = t
        .client
        .get(t.url("/billing/status"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "active", "{status}");
}

async fn login_from(client: &Client, url: &str, n: usize, spoof: bool) -> StatusCode {
    let mut request = client.post(url).json(&json!({
        "email": format!("nobody-{n}@example.com"),
        "password": "not the password",
    }));
    if spoof {
        // A new address each time: were it believed, no limit would ever apply.
        request = request.header("X-Forwarded-For", format!("203.0.113.{}", n % 250 + 1));
        request = request.header("X-Real-IP", format!("198.51.100.{}", n % 250 + 1));
    }
    request.send().await.unwrap().status()
}

/// nginx limits /auth per client address; a spoofed X-Forwarded-For changes nothing, at
/// nginx or (from an address outside AVA_TRUSTED_PROXIES) at the host behind it.
async fn checks_auth_rate_limits(t: &Topology) {
    let local = |last: u8| Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)));
    let spoofer = client_from(&t.ca, local(2));
    let url = t.url("/auth/login");
    let mut statuses = Vec::new();
    for n in 0..8 {
        statuses.push(login_from(&spoofer, &url, n, true).await);
    }
    // A burst of 5 over the first: six wrong passwords, then nginx's 429.
    assert!(
        statuses[..6].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[6..],
        [StatusCode::TOO_MANY_REQUESTS; 2],
        "{statuses:?}"
    );
    let limited = spoofer
        .post(&url)
        .header("X-Forwarded-For", "192.0.2.77")
        .json(&json!({ "email": "a@example.com", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&limited, "content-type").starts_with("application/json"));
    let body: Value = limited.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("wait"), "{body}");
    // Another client is not held back by the first one's limit.
    let other = client_from(&t.ca, local(3));
    assert_eq!(
        login_from(&other, &url, 100, false).await,
        StatusCode::UNAUTHORIZED
    );

    // Straight to a replica from an untrusted address: its own per-address limit (a burst of
    // 30) holds although every attempt claims another address.
    let direct = Client::builder().local_address(local(4)).build().unwrap();
    let url = format!("{}/auth/login", t.replicas[0]);
    let mut refused_at = None;
    for n in 0..40 {
        if login_from(&direct, &url, 1000 + n, true).await == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(n);
            break;
        }
    }
    // 30, or a little later when the bucket refilled (one every 2 s) while they ran.
    assert!(
        refused_at.is_some_and(|n| (30..40).contains(&n)),
        "the host's per-address limit held: refused at {refused_at:?}"
    );
}

/// The SPA's paid journey (frontend/e2e/journey.mjs) in Chromium through nginx: dev billing's
/// checkout, streamed replies, a photo drawn by the worker and shown live.
fn runs_the_browser_journey(t: &Topology) {
    let frontend = repo().join("frontend");
    assert!(
        frontend.join("node_modules/playwright-core").exists(),
        "frontend/node_modules is missing: npm ci in frontend (the test command does)"
    );
    let artifacts = frontend.join("e2e/artifacts/through-nginx");
    let out = Command::new("node")
        .arg("e2e/through.mjs")
        .arg(&t.public)
        .arg(&artifacts)
        .current_dir(&frontend)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("node is installed");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{shown}\n{}", t.logs());
    println!("{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_topology_behind_nginx() {
    let stripe = Stripe::default();
    let server = LocalServer::start(
        Router::new()
            .route("/v1/subscriptions/{id}", get(stripe_subscription))
            .with_state(stripe.clone()),
    )
    .await;
    let mut t = Topology::start(&server.addr.to_string()).await;
    t.assert_running();

    checks_the_static_app_and_its_headers(&t).await;
    let (token, user) = t.register("topology@example.com").await;
    *stripe.user.lock().unwrap() = user.clone();
    checks_webhooks_pass_untouched(&t, &user, &token).await;
    checks_every_proxied_route(&t, &token).await;
    checks_streams_are_unbuffered(&t, &token).await;
    checks_both_replicas_serve(&t, &token).await;
    checks_metrics_stay_inside(&t).await;
    checks_auth_rate_limits(&t).await;
    t.assert_running();

    // The journey needs dev billing's checkout and the offline persona: the operator's
    // edit of the plugin file, picked up by both replicas (and the worker) while they run.
    t.use_plugins("local-persona", "dev-billing").await;
    runs_the_browser_journey(&t);
    t.assert_running();
    drop(t);
    drop(server);
}
