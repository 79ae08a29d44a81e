//! Process settings: every flag is also an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::api::client_ip::TrustedProxies;

/// Where Ava listens, keeps its data and finds its services.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(long, env = "AVA_ADDR", default_value = "0.0.0.0:8080", global = true)]
    pub addr: SocketAddr,

    /// Folder for the SQLite database, photos, generated secrets and compiled plugins.
    #[arg(long, env = "AVA_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// The plugin configuration file.
    #[arg(long, env = "AVA_CONFIG", default_value = "./ava.toml", global = true)]
    pub config: PathBuf,

    /// Database URL (`sqlite://...` or `postgres://...`); default: SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Redis URL for the job queue and live updates; unset: the embedded queue.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,

    /// What every Redis key and channel of this deployment starts with, so several can
    /// share one Redis.
    #[arg(long, env = "AVA_REDIS_PREFIX", default_value = "ava", global = true)]
    pub redis_prefix: String,

    /// The public base URL users reach Ava at (checkout return URLs, dev pages).
    #[arg(long, env = "AVA_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Bearer token for the operator endpoints (`/admin/...`); unset: they are disabled.
    #[arg(
        long,
        env = "AVA_OPERATOR_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub operator_token: Option<String>,

    /// The built SPA (`npm run build` in frontend/), served at `/`.
    #[arg(
        long,
        env = "AVA_WEB_DIR",
        default_value = "frontend/dist",
        global = true
    )]
    pub web_dir: PathBuf,

    /// Sentry DSN; empty: error reporting disabled.
    #[arg(long, env = "SENTRY_DSN", hide_env_values = true, global = true)]
    pub sentry_dsn: Option<String>,

    /// `development` or `production` (JSON logs, Sentry environment).
    #[arg(long, env = "APP_ENV", default_value = "development", global = true)]
    pub app_env: String,

    /// Log filter, in `tracing` syntax (e.g. `info,ava_host=debug`).
    #[arg(long, env = "AVA_LOG", default_value = "info", global = true)]
    pub log: String,

    #[command(flatten)]
    pub http: HttpSettings,

    #[command(flatten)]
    pub worker: WorkerSettings,
}

/// How the HTTP side behaves behind a proxy, under load and when stopped.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpSettings {
    /// Comma-separated address ranges (CIDR) of the reverse proxies in front of Ava: only
    /// from these are `X-Forwarded-For` / `X-Real-IP` believed (per-IP rate limits, logs).
    /// Empty: trust no one.
    #[arg(
        long,
        env = "AVA_TRUSTED_PROXIES",
        default_value = "127.0.0.0/8,::1/128",
        global = true
    )]
    pub trusted_proxies: TrustedProxies,

    /// After SIGTERM: how long requests and streams in flight may take to end before the
    /// server exits anyway.
    #[arg(
        long,
        env = "AVA_SHUTDOWN_SECONDS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_seconds: u64,

    /// A request (other than the streams) still unanswered after this many seconds is
    /// answered 504. Plugins have their own, shorter limits; this bounds everything else.
    #[arg(
        long,
        env = "AVA_REQUEST_TIMEOUT_SECONDS",
        default_value_t = 120,
        global = true
    )]
    pub request_timeout_seconds: u64,

    /// Where `ava worker` answers `/health` and `/metrics` (Prometheus); unset: it opens no
    /// port. `ava serve` answers both on its own address.
    #[arg(long, env = "AVA_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: TrustedProxies::default(),
            shutdown_seconds: 20,
            request_timeout_seconds: 120,
            metrics_addr: None,
        }
    }
}

/// How the worker runs (`ava worker`, or inside `ava serve`).
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerSettings {
    /// Jobs one worker process handles at once.
    #[arg(
        long,
        env = "AVA_WORKER_CONCURRENCY",
        default_value_t = 8,
        global = true
    )]
    pub worker_concurrency: usize,

    /// Whether `ava serve` also runs a worker. Default: yes without `REDIS_URL` (one
    /// process runs everything), no with it (workers are their own processes).
    #[arg(long, env = "AVA_SERVE_WORKER", global = true)]
    pub serve_worker: Option<bool>,

    /// How long a claimed job stays leased to its worker: a worker that dies holding it,
    /// its job is handed out again after this. Longer than the slowest job.
    #[arg(
        long,
        env = "AVA_JOB_VISIBILITY_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub job_visibility_seconds: u64,

    /// How long jobs in flight may finish after SIGTERM before the worker leaves them to
    /// be reclaimed.
    #[arg(
        long,
        env = "AVA_WORKER_SHUTDOWN_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub worker_shutdown_seconds: u64,

    /// The wait after a job's first failed attempt; it doubles with each further one.
    #[arg(
        long,
        env = "AVA_JOB_BACKOFF_MS",
        default_value_t = 2000,
        global = true
    )]
    pub job_backoff_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            worker_concurrency: 8,
            serve_worker: None,
            job_visibility_seconds: 300,
            worker_shutdown_seconds: 30,
            job_backoff_ms: 2000,
        }
    }
}

impl Settings {
    /// Whether this is a production deployment.
    pub fn is_production(&self) -> bool {
        self.app_env.eq_ignore_ascii_case("production")
    }

    /// The public base URL without a trailing slash: the configured one, or the listen
    /// address (with `localhost` for an unspecified address).
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if self.addr.ip().is_unspecified() => {
                format!("http://localhost:{}", self.addr.port())
            }
            None => format!("http://{}", self.addr),
        }
    }

    /// Where compiled plugins are cached.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.data_dir.join("plugin-cache")
    }

    /// Where photos are stored.
    pub fn photos_dir(&self) -> PathBuf {
        self.data_dir.join("photos")
    }

    /// Whether `ava serve` runs a worker too.
    pub fn serve_runs_worker(&self) -> bool {
        self.worker.serve_worker.unwrap_or(self.redis_url.is_none())
    }

    /// Where generated secrets (`{ generate = true }`) are kept.
    pub fn secrets_dir(&self) -> PathBuf {
        self.data_dir.join("secrets")
    }
}
