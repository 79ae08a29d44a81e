//! The production topology under load, as processes on this machine (what docker-compose.yml
//! runs, without Docker): the release `ava serve` replicas on a fresh PostgreSQL database,
//! and the Debian nginx on the project's nginx.conf (rendered by scripts/nginx-conf.sh, TLS
//! from a CA made here) in front of them. Measured in one run, alternating, with wrk:
//!
//! 1. `POST /chat` straight to one replica against through nginx (HTTPS, keep-alive) to that
//!    same replica alone: what the proxy costs;
//! 2. through nginx to two replicas against to one: what scaling out buys here;
//! 3. `ava serve` with ava.production.toml (the image's config), exec to the first 200 on
//!    `/health` (the image's HEALTHCHECK) and on `/health/ready`, with an empty
//!    compiled-plugin cache and with a warm one; and the size of what the image copies.
//!
//! Each run prints the CPU each process group used per request, so the figures can be read
//! against the machine: wrk, nginx, the replicas and PostgreSQL share its cores.
//!
//! Run: `scripts/build-plugins.sh && (cd frontend && npm run build) &&
//! cargo bench -p ava-host --bench topology` (needs `wrk` and `nginx`). `AVA_BENCH_SECONDS`
//! (10), `AVA_BENCH_CONNECTIONS` (64), `AVA_BENCH_USERS` (200), `AVA_BENCH_ROUNDS` (2),
//! `AVA_BENCH_STARTS` (5), `AVA_TEST_POSTGRES_URL`.

#[path = "../tests/common/processes.rs"]
mod processes;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ava_host::app::App;
use processes::{NginxLayout, Proc, ava_command, free_port, make_certificates, repo, start_nginx};
use support::{CHAT_LUA, Load, env_or, plugins_dir, postgres_database, wrk};

/// The command names the per-process CPU is reported for (`/proc/<pid>/comm`).
const GROUPS: [&str; 4] = ["ava", "nginx", "postgres", "wrk"];

fn main() {
    let seconds: u64 = env_or("AVA_BENCH_SECONDS", 10);
    let connections: u64 = env_or("AVA_BENCH_CONNECTIONS", 64);
    let users: usize = env_or("AVA_BENCH_USERS", 200);
    let rounds: usize = env_or("AVA_BENCH_ROUNDS", 2);
    let starts: usize = env_or("AVA_BENCH_STARTS", 5);
    let rt = support::runtime();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let certs = dir.path().join("certs");
    let data = dir.path().join("data");
    for d in [&logs, &certs, &data] {
        std::fs::create_dir_all(d).unwrap();
    }
    make_certificates(&certs);
    let script = dir.path().join("chat.lua");
    std::fs::write(&script, CHAT_LUA).unwrap();

    let database_url = rt
        .block_on(postgres_database("ava_topology"))
        .expect("a PostgreSQL server at AVA_TEST_POSTGRES_URL");
    let config = dir.path().join("ava.toml");
    std::fs::write(
        &config,
        format!(
            "[plugins.persona]\nuse = \"local-persona\"\n[plugin.local-persona]\npath = \"{}/local-persona.wasm\"\nlimits = {{ concurrency = 128 }}\n",
            plugins_dir().display()
        ),
    )
    .unwrap();

    // The subscribers, written by an in-process host (which also migrates the database);
    // the replicas read them from PostgreSQL.
    let tokens = dir.path().join("tokens.txt");
    rt.block_on(async {
        let settings = support::settings(
            "127.0.0.1:0".parse().unwrap(),
            data.clone(),
            config.clone(),
            Some(database_url.clone()),
        );
        let app = App::start(settings).await.unwrap();
        std::fs::write(&tokens, support::subscribers(&app.state, users).await).unwrap();
    });

    let ava = |args: &[&str]| {
        let mut command = ava_command(args, dir.path(), &config, &data, &database_url);
        command
            .env("AVA_TRUSTED_PROXIES", "127.0.0.1/32")
            // What .env.example sets.
            .env("AVA_LOG", "info");
        command
    };
    let mut procs: Vec<Proc> = Vec::new();
    let mut replicas = Vec::new();
    for n in 1..=2 {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut command = ava(&["serve"]);
        command.env("AVA_ADDR", &addr);
        procs.push(Proc::spawn(&format!("serve-{n}"), command, &logs));
        replicas.push(format!("http://{addr}"));
    }
    let mut nginx_to = |name: &str, upstreams: &[String]| {
        let https_port = free_port();
        procs.push(start_nginx(
            name,
            &NginxLayout {
                upstreams,
                certs: &certs,
                http_port: free_port(),
                https_port,
                dir: dir.path(),
            },
            &logs,
        ));
        format!("https://localhost:{https_port}")
    };
    let nginx_one = nginx_to("nginx-one", &replicas[..1]);
    let nginx_two = nginx_to("nginx-two", &replicas);
    for replica in &replicas {
        wait_for(&format!("{replica}/health/ready"), Duration::from_secs(60));
    }
    std::thread::sleep(Duration::from_millis(500));

    let targets = [
        ("direct to one replica", format!("{}/chat", replicas[0])),
        ("nginx (TLS) to one replica", format!("{nginx_one}/chat")),
        ("nginx (TLS) to two replicas", format!("{nginx_two}/chat")),
    ];
    println!("POST /chat, {users} users, {connections} connections, {seconds} s a run, PostgreSQL");
    let mut totals = vec![Vec::new(); targets.len()];
    for round in 1..=rounds {
        for (i, (label, url)) in targets.iter().enumerate() {
            let _ = wrk(url, &script, &tokens, 3, connections);
            let load = wrk(url, &script, &tokens, seconds, connections);
            for p in &mut procs {
                p.assert_running();
            }
            report(&format!("round {round}, {label}"), &load);
            totals[i].push(load.rps);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (direct, one, two) = (mean(&totals[0]), mean(&totals[1]), mean(&totals[2]));
    println!(
        "mean: direct {direct:.0}, nginx to one {one:.0} ({:+.1}% against direct), nginx to two {two:.0} ({:+.1}% against one)",
        100.0 * (one / direct - 1.0),
        100.0 * (two / one - 1.0)
    );
    drop(procs);

    cold_and_warm_starts(dir.path(), &database_url, starts);
    image_contents();
}

fn report(label: &str, load: &Load) {
    let per_request: Vec<String> = GROUPS
        .iter()
        .map(|g| format!("{g} {:.0}", load.cpu_us_per_request(g)))
        .collect();
    let (busy, total) = load.machine;
    println!(
        "{label}: {:.0} req/s, p50 {}, p99 {}, {} requests, {} non-2xx; CPU µs a request: {}; machine busy {:.0}%",
        load.rps,
        load.p50,
        load.p99,
        load.requests,
        load.errors,
        per_request.join(", "),
        100.0 * busy / total.max(f64::EPSILON)
    );
}

/// Polls `url` (plain HTTP) until it answers 200.
fn wait_for(url: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !answers_ok(url) {
        assert!(Instant::now() < deadline, "{url} did not answer 200");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a GET of `url` (`http://host:port/path`) answers 200: one request on a fresh
/// connection, as a health check makes it.
fn answers_ok(url: &str) -> bool {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// `ava serve` on ava.production.toml, as the image starts it: exec to the first 200 on
/// `/health` and on `/health/ready`, `starts` times with an empty data folder (the plugins
/// compiled) and `starts` times on one that a first start filled (the cache read back).
fn cold_and_warm_starts(dir: &Path, database_url: &str, starts: usize) {
    let start = |data: &Path| -> (Duration, Duration) {
        let addr = format!("127.0.0.1:{}", free_port());
        let production = repo().join("ava.production.toml");
        let mut command = ava_command(&["serve"], dir, &production, data, database_url);
        command
            .env("AVA_ADDR", &addr)
            .env("AVA_WEB_DIR", repo().join("frontend/dist"))
            .env("DATABASE_URL", database_url)
            .env("AVA_PUBLIC_URL", "https://ava.example.com")
            .env("AVA_LOG", "info")
            // Read at load; nothing is called at start-up.
            .env("OPENAI_API_KEY", "sk-bench")
            .env("REPLICATE_API_TOKEN", "r8_bench")
            .env("STRIPE_SECRET_KEY", "sk_test_bench")
            .env("STRIPE_WEBHOOK_SECRET", "whsec_bench")
            .env("STRIPE_PRICE_ID", "price_bench");
        let began = Instant::now();
        let mut proc = Proc::spawn("serve-start", command, &dir.join("logs"));
        let limit = Duration::from_secs(120);
        let health = format!("http://{addr}/health");
        while !answers_ok(&health) {
            proc.assert_running();
            assert!(began.elapsed() < limit, "no /health in {limit:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
        let to_health = began.elapsed();
        let ready = format!("http://{addr}/health/ready");
        while !answers_ok(&ready) {
            proc.assert_running();
            assert!(began.elapsed() < limit, "no /health/ready in {limit:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
        (to_health, began.elapsed())
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut cold = Vec::new();
    for n in 0..starts {
        let data = dir.join(format!("cold-{n}"));
        std::fs::create_dir_all(&data).unwrap();
        cold.push(start(&data));
    }
    let warm_data = dir.join("cold-0");
    let warm: Vec<_> = (0..starts).map(|_| start(&warm_data)).collect();
    for (label, runs) in [("cold cache", &cold), ("warm cache", &warm)] {
        let health: Vec<String> = runs.iter().map(|r| format!("{:.0}", ms(r.0))).collect();
        let ready: Vec<String> = runs.iter().map(|r| format!("{:.0}", ms(r.1))).collect();
        println!(
            "ava serve, ava.production.toml, {label}: exec → /health 200 in [{}] ms; → /health/ready 200 in [{}] ms",
            health.join(", "),
            ready.join(", ")
        );
    }
}

/// The size of what the Dockerfile's runtime stage copies from the build stages.
fn image_contents() {
    fn size(path: &Path) -> u64 {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .unwrap()
                .flatten()
                .map(|e| size(&e.path()))
                .sum(),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_ava"));
    let plugins: u64 = std::fs::read_dir(plugins_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        .map(|e| size(&e.path()))
        .sum();
    let web = size(&repo().join("frontend/dist"));
    println!(
        "image contents beside the base: ava {:.1} MiB, plugins {:.1} MiB, SPA {:.1} MiB",
        mib(size(&binary)),
        mib(plugins),
        mib(web)
    );
}
