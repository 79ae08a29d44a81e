//! Process settings: every flag is also an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

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

    /// Sentry DSN; empty: error reporting disabled.
    #[arg(long, env = "SENTRY_DSN", hide_env_values = true, global = true)]
    pub sentry_dsn: Option<String>,

    /// `development` or `production` (JSON logs, Sentry environment).
    #[arg(long, env = "APP_ENV", default_value = "development", global = true)]
    pub app_env: String,

    /// Log filter, in `tracing` syntax (e.g. `info,ava_host=debug`).
    #[arg(long, env = "AVA_LOG", default_value = "info", global = true)]
    pub log: String,
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

    /// Where generated secrets (`{ generate = true }`) are kept.
    pub fn secrets_dir(&self) -> PathBuf {
        self.data_dir.join("secrets")
    }
}
