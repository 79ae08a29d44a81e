//! What the HTTP benchmarks share: settings from the environment, the process's memory, the
//! plugin folder, a scratch PostgreSQL database.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The runtime the server runs on in a benchmark: two workers, as on this machine's two
/// vCPUs.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `name` from the environment, parsed, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's resident memory and its peak, in MiB.
pub fn rss_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (kib("VmRSS:") / 1024, kib("VmHWM:") / 1024)
}

/// The settings of a benchmarked server: production logging (errors only), no Redis, no
/// operator token; callers change what their run needs.
pub fn settings(
    addr: std::net::SocketAddr,
    data_dir: PathBuf,
    config: PathBuf,
    database_url: Option<String>,
) -> ava_host::config::Settings {
    ava_host::config::Settings {
        addr,
        data_dir,
        config,
        database_url,
        redis_url: None,
        redis_prefix: "ava".into(),
        public_url: None,
        operator_token: None,
        web_dir: "frontend/dist".into(),
        sentry_dsn: None,
        app_env: "production".into(),
        log: "error".into(),
        http: Default::default(),
        worker: Default::default(),
    }
}

/// Where `scripts/build-plugins.sh` puts the plugins.
pub fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins")
}

/// A fresh database on the PostgreSQL server at `AVA_TEST_POSTGRES_URL` (`off` skips it),
/// named after `prefix` and this process: its URL, or `None` without a server.
pub async fn postgres_database(prefix: &str) -> Option<String> {
    use sqlx::{Connection, Executor};
    let admin_url = std::env::var("AVA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if admin_url == "off" {
        return None;
    }
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
    let name = format!("{prefix}_{}", std::process::id());
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .ok()?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .ok()?;
    let mut url = url::Url::parse(&admin_url).ok()?;
    url.set_path(&name);
    Some(url.to_string())
}
