//! What the integration tests share: real plugin binaries, a runtime over a temporary
//! configuration, and local HTTP servers standing in for the outside world.

#![allow(dead_code)]

pub mod app;
pub mod processes;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ava_host::plugins::types::{ChatMode, ChatRequest, Persona};
use ava_host::plugins::{ConfigSource, MemoryKv, Registry, Runtime, RuntimeOptions, Services};
use axum::Router;
use url::Url;

/// The built plugin `name`, from `dist/plugins` (built by `scripts/build-plugins.sh`).
pub fn plugin_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("AVA_TEST_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins"));
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh (the test command does)",
        path.display()
    );
    path
}

/// A compile cache shared by the test processes (in cargo's target folder), so each plugin
/// binary is compiled once, not once per test.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// A runtime and a registry over `config` (TOML, with `{plugins}` replaced by the plugin
/// folder), with `env` as the whole environment.
pub struct TestHost {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub runtime: Arc<Runtime>,
    pub registry: Arc<Registry>,
    pub env: Arc<Mutex<BTreeMap<String, String>>>,
}

pub fn render(config: &str) -> String {
    let plugins = plugin_path("misbehave").parent().unwrap().to_path_buf();
    config.replace("{plugins}", &plugins.display().to_string())
}

/// Logs to the test output when `AVA_TEST_LOG` holds a filter (e.g. `debug`).
pub fn init_logs() {
    if let Ok(filter) = std::env::var("AVA_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

impl TestHost {
    pub async fn start(config: &str, env: &[(&str, &str)]) -> Self {
        Self::try_start(config, env)
            .await
            .unwrap_or_else(|e| panic!("plugins did not load: {e}"))
    }

    pub async fn try_start(config: &str, env: &[(&str, &str)]) -> Result<Self, String> {
        init_logs();
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("ava.toml");
        std::fs::write(&config_path, render(config)).unwrap();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = Arc::new(Mutex::new(env));
        let lookup_env = env.clone();
        let source_env = env.clone();
        let runtime = Runtime::new(RuntimeOptions {
            max_instances: 64,
            max_memory_mib: 256,
            cache_dir: shared_cache_dir(),
            secrets_dir: dir.path().join("secrets"),
            public_url: Url::parse("http://127.0.0.1:8080").unwrap(),
            env: Arc::new(move |name| lookup_env.lock().unwrap().get(name).cloned()),
            services: Services {
                kv: Arc::new(MemoryKv::default()),
                photos: None,
            },
        })?;
        let source = ConfigSource {
            path: config_path.clone(),
            env: Arc::new(move || {
                source_env
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }),
            optional: false,
        };
        let registry = Registry::start(runtime.clone(), source)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            dir,
            config_path,
            runtime,
            registry,
            env,
        })
    }

    /// Replaces the configuration file (atomically, as an editor would).
    pub fn write_config(&self, config: &str) {
        let tmp = self.config_path.with_extension("tmp");
        std::fs::write(&tmp, render(config)).unwrap();
        std::fs::rename(&tmp, &self.config_path).unwrap();
    }
}

/// A chat request with `message`, for persona calls.
pub fn chat(message: &str) -> ChatRequest {
    ChatRequest {
        persona: Persona {
            id: "p1".into(),
            name: "Ava".into(),
            style: "warm".into(),
            description: "A thoughtful companion.".into(),
            personality: "kind, curious".into(),
            scenario: String::new(),
            greeting: "Hi, I'm Ava.".into(),
            example_dialogue: String::new(),
            system_prompt: String::new(),
            post_history_instructions: String::new(),
            appearance: "a woman with long auburn hair and green eyes".into(),
        },
        mode: ChatMode::Secretary,
        user_name: Some("Sam".into()),
        memory: None,
        history: Vec::new(),
        message: message.into(),
        photos_allowed: true,
    }
}

/// A local HTTP server; counts the connections it accepts.
pub struct LocalServer {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl LocalServer {
    pub async fn start(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let service = hyper_util::service::TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
                });
            }
        });
        Self {
            addr,
            connections,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
