//! The cost of one plugin call: a fresh `Store`, an instance from the `InstancePre`, a call of
//! a trivial export (`kinds()` of the `noop-job` plugin, one short string), and the drop,
//! through the same code path every real call takes (limits, permits, epoch deadline, output
//! check). `metadata()` of `misbehave` (a record of nine strings) is measured too, as a small
//! real export.
//!
//! Compared with the same work done by a native Rust function, and with calls on one reused
//! instance. Besides criterion's figures this prints p50/p99 over single calls, calls/s with
//! two threads, start-to-ready with cached plugins and the first compile time of each plugin.
//!
//! The persona of contract 0.1.0 (`contract-v0-1`) is measured against the same code built
//! for 0.2.0 (`contract-v0-1-twin`): what an old plugin costs on a newer host.
//!
//! Run: `scripts/build-plugins.sh && cargo bench -p ava-host --bench plugin_call`.
//! `AVA_BENCH_ONLY=persona` measures only the persona reply, ten times over (for a profiler).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ava_host::plugins::{
    ConfigSource, LoadedPlugin, MemoryKv, Registry, Runtime, RuntimeOptions, Services,
};
use ava_sdk::{ConfigKey, PluginInfo};
use criterion::Criterion;
use url::Url;

fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins")
}

fn runtime(cache: &Path, max_instances: u32) -> Arc<Runtime> {
    Runtime::new(RuntimeOptions {
        max_instances,
        max_memory_mib: 256,
        cache_dir: cache.to_path_buf(),
        secrets_dir: cache.join("secrets"),
        public_url: Url::parse("http://127.0.0.1:8080").unwrap(),
        env: Arc::new(|_| None),
        services: Services {
            kv: Arc::new(MemoryKv::default()),
            photos: None,
        },
    })
    .unwrap()
}

async fn registry(dir: &Path, cache: &Path, config: &str) -> Arc<Registry> {
    let path = dir.join("ava.toml");
    std::fs::write(
        &path,
        config.replace("{plugins}", &plugins_dir().display().to_string()),
    )
    .unwrap();
    Registry::start(runtime(cache, 64), ConfigSource::file(&path, false))
        .await
        .unwrap()
}

const BENCH_CONFIG: &str = r#"
[plugin.noop-job]
path = "{plugins}/noop-job.wasm"
limits = { concurrency = 64 }

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
limits = { concurrency = 64 }

[plugin.local-persona]
path = "{plugins}/local-persona.wasm"
limits = { concurrency = 64 }

[plugin.contract-v0-1]
path = "{plugins}/contract-v0-1.wasm"
limits = { concurrency = 64 }

[plugin.contract-v0-1-twin]
path = "{plugins}/contract-v0-1-twin.wasm"
limits = { concurrency = 64 }
"#;

const DEFAULT_SET: &str = r#"
[plugins.persona]
use = "local-persona"
[plugins.images]
use = "local-images"
[plugins.billing]
use = "dev-billing"
[plugins.jobs]
use = ["photo-job"]
[plugin.local-persona]
path = "{plugins}/local-persona.wasm"
[plugin.local-images]
path = "{plugins}/local-images.wasm"
[plugin.photo-job]
path = "{plugins}/photo-job.wasm"
[plugin.dev-billing]
path = "{plugins}/dev-billing.wasm"
allow_hosts = ["self"]
config = { webhook_secret = { generate = true } }
"#;

/// What `noop-job`'s `kinds()` does, natively.
fn native_kinds() -> Vec<String> {
    vec![std::hint::black_box("noop").to_string()]
}

/// What `misbehave`'s `metadata()` does, natively.
fn native_metadata() -> PluginInfo {
    PluginInfo::new("misbehave", "0.1.0", "Test plugin: misbehaves on request")
        .key(ConfigKey::optional(
            "greeting",
            "any value, for config isolation tests",
        ))
        .key(ConfigKey::optional_secret(
            "api_key",
            "a secret, for secret isolation tests",
        ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// p50/p99 of single calls on one thread, then calls/s from two threads.
fn report<F, Fut>(label: &str, rt: &tokio::runtime::Runtime, call: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(20_000);
    rt.block_on(async {
        for _ in 0..2_000 {
            call().await;
        }
        for _ in 0..20_000 {
            let started = Instant::now();
            call().await;
            samples.push(started.elapsed());
        }
    });
    samples.sort();
    println!(
        "{label}, fresh instance per call, 1 thread: p50 {:.2} µs, p99 {:.2} µs ({} calls)",
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.len()
    );

    // Two threads, each with its own single-threaded executor, calling as fast as they can.
    let window = Duration::from_secs(3);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let call = call.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let end = Instant::now() + window;
                    let mut calls = 0u64;
                    while Instant::now() < end {
                        call().await;
                        calls += 1;
                    }
                    calls
                })
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    println!(
        "{label}, fresh instance per call, 2 threads: {:.0} calls/s",
        total as f64 / window.as_secs_f64()
    );
}

fn startup_and_compile(rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // First load compiles and fills the cache; the timed load is a fresh runtime on it.
    rt.block_on(registry(dir.path(), &cache, DEFAULT_SET));
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let registry = rt.block_on(registry(dir.path(), &cache, DEFAULT_SET));
        runs.push(started.elapsed());
        assert_eq!(registry.current().plugins().count(), 4);
    }
    runs.sort();
    println!(
        "engine + 4 default plugins to ready, cached: median {:.1} ms (of {:?})",
        runs[2].as_secs_f64() * 1e3,
        runs.iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );

    for name in [
        "local-persona",
        "local-images",
        "photo-job",
        "dev-billing",
        "misbehave",
    ] {
        let fresh = tempfile::tempdir().unwrap();
        let config = format!(
            "[plugin.{name}]\npath = \"{{plugins}}/{name}.wasm\"\n{}",
            if name == "dev-billing" {
                "config = { webhook_secret = { generate = true } }\n"
            } else {
                ""
            }
        );
        let registry = rt.block_on(registry(fresh.path(), &fresh.path().join("cache"), &config));
        let set = registry.current();
        let module = set.plugin(name).unwrap().module();
        let size = std::fs::metadata(&module.path).unwrap().len();
        println!(
            "first compile of {name} ({} KiB): {:?}",
            size / 1024,
            module.provenance
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry = rt.block_on(registry(
        dir.path(),
        &dir.path().join("cache"),
        BENCH_CONFIG,
    ));
    if std::env::var("AVA_BENCH_ONLY").as_deref() == Ok("persona") {
        // Only the persona reply, for long enough to profile it.
        for _ in 0..10 {
            persona_reply(&rt, &registry);
        }
        return;
    }
    let noop: Arc<LoadedPlugin> = registry.current().plugin("noop-job").unwrap().clone();
    let misbehave: Arc<LoadedPlugin> = registry.current().plugin("misbehave").unwrap().clone();

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("plugin_call");
    group.bench_function("fresh_instance_trivial", |b| {
        b.to_async(&rt)
            .iter(|| async { noop.job_kinds().await.unwrap() })
    });
    group.bench_function("one_instance_trivial_x100", |b| {
        b.to_async(&rt)
            .iter(|| async { noop.kinds_on_one_instance(100).await.unwrap() })
    });
    group.bench_function("native_trivial", |b| b.iter(native_kinds));
    group.bench_function("fresh_instance_metadata", |b| {
        b.to_async(&rt)
            .iter(|| async { misbehave.metadata().await.unwrap() })
    });
    group.bench_function("native_metadata", |b| b.iter(native_metadata));
    group.finish();
    criterion.final_summary();

    let plugin = noop.clone();
    report("trivial export (noop-job kinds)", &rt, move || {
        let plugin = plugin.clone();
        async move {
            plugin.job_kinds().await.unwrap();
        }
    });
    let plugin = misbehave.clone();
    report("metadata (misbehave)", &rt, move || {
        let plugin = plugin.clone();
        async move {
            plugin.metadata().await.unwrap();
        }
    });
    persona_reply(&rt, &registry);
    contract_versions(&rt, &registry);
    startup_and_compile(&rt);
}

/// The same persona code built against contract 0.1.0 and against 0.2.0, called the same
/// way, interleaved in rounds so drift on the machine hits both alike.
fn contract_versions(rt: &tokio::runtime::Runtime, registry: &Registry) {
    let request = Arc::new(chat_request());
    for round in 1..=3 {
        for name in ["contract-v0-1", "contract-v0-1-twin"] {
            let set = registry.current();
            let contract = set.plugin(name).unwrap().info().contract.clone();
            let persona = set.persona_named(name).unwrap();
            let request = request.clone();
            report(
                &format!("{name} reply (contract {contract}), round {round}"),
                rt,
                move || {
                    let (persona, request) = (persona.clone(), request.clone());
                    async move {
                        persona.reply(&request).await.unwrap();
                    }
                },
            );
        }
    }
}

fn persona_reply(rt: &tokio::runtime::Runtime, registry: &Registry) {
    let persona = registry.current().persona_named("local-persona").unwrap();
    let request = Arc::new(chat_request());
    report("local-persona reply (a real turn)", rt, move || {
        let (persona, request) = (persona.clone(), request.clone());
        async move {
            persona.reply(&request).await.unwrap();
        }
    });
}

/// A chat turn with a full persona card and a 20-message history, as the host sends.
fn chat_request() -> ava_host::plugins::types::ChatRequest {
    use ava_host::plugins::types::{ChatMessage, ChatMode, ChatRequest, Persona, Role};
    ChatRequest {
        persona: Persona {
            id: "p1".into(),
            name: "Ava".into(),
            style: "warm".into(),
            description: "Ava is a warm, quick-witted companion who loves old films.".into(),
            personality: "attentive, playful, curious, kind".into(),
            scenario: "Ava and the user talk every day.".into(),
            greeting: "Hey, it's Ava. How's your day going?".into(),
            example_dialogue: String::new(),
            system_prompt: String::new(),
            post_history_instructions: String::new(),
            appearance: "shoulder-length auburn hair, green eyes".into(),
        },
        mode: ChatMode::Secretary,
        user_name: Some("Sam".into()),
        memory: Some("Sam likes hiking and has a dog called Rex.".into()),
        history: (0..20)
            .map(|i| ChatMessage {
                role: if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: format!("message number {i} about the weekend plans"),
                sent_at_ms: 1_767_225_600_000 + i,
            })
            .collect(),
        message: "How was your day? Tell me something nice.".into(),
        photos_allowed: false,
    }
}
