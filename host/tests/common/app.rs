//! A real Ava server for API tests: `App::start` on a random port, over SQLite in a
//! temporary folder or over a fresh PostgreSQL database (dropped afterwards).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ava_host::app::App;
use ava_host::config::Settings;
use ava_host::db::subscriptions::Subscription;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::render;

/// The PostgreSQL server the tests create databases on.
fn postgres_admin_url() -> String {
    std::env::var("AVA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and a client for it.
pub struct TestApp {
    pub app: App,
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    postgres_db: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The default plugin set: the offline persona, and the misbehaving one for fault tests.
pub const PLUGINS: &str = r#"
[plugins.persona]
use = "local-persona"

[plugin.local-persona]
path = "{plugins}/local-persona.wasm"

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
limits = { timeout_ms = 2000 }
"#;

impl TestApp {
    /// A server over `backend` with the default plugins and the paywall on.
    pub async fn start(backend: Backend) -> Self {
        Self::with_config(backend, PLUGINS).await
    }

    /// A server over `backend` with `config` as `ava.toml` (`{plugins}` is the plugin folder).
    pub async fn with_config(backend: Backend, config: &str) -> Self {
        Self::with_settings(backend, config, |_| {}).await
    }

    /// Like [`with_config`](Self::with_config), with the settings changed by `tweak` first.
    pub async fn with_settings(
        backend: Backend,
        config: &str,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        super::init_logs();
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("ava.toml");
        std::fs::write(&config_path, render(config)).unwrap();
        let (database_url, postgres_db) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let (url, name) = fresh_postgres_database().await;
                (Some(url), Some(name))
            }
        };
        Self::launch(
            dir,
            dir_data(&config_path),
            config_path,
            database_url,
            postgres_db,
            tweak,
        )
        .await
    }

    /// A second server over the same database and `ava.toml`, as another replica behind a
    /// load balancer would be. The database stays until the first one is dropped.
    pub async fn replica(&self) -> Self {
        Self::launch(
            tempfile::tempdir().unwrap(),
            self.data_dir(),
            self.dir.path().join("ava.toml"),
            self.app.state.settings.database_url.clone(),
            None,
            |_| {},
        )
        .await
    }

    async fn launch(
        dir: tempfile::TempDir,
        data_dir: PathBuf,
        config_path: PathBuf,
        database_url: Option<String>,
        postgres_db: Option<String>,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        // Plugins compiled once for every test, not once per server.
        let cache = data_dir.join("plugin-cache");
        if !cache.exists() {
            std::fs::create_dir_all(&data_dir).unwrap();
            std::fs::create_dir_all(super::shared_cache_dir()).unwrap();
            std::os::unix::fs::symlink(super::shared_cache_dir(), &cache).unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // No SPA unless a test puts one there (tests/web.rs).
        let web_dir = data_dir.join("web");
        let mut settings = Settings {
            addr,
            data_dir,
            config: config_path,
            database_url,
            redis_url: None,
            redis_prefix: "ava".into(),
            public_url: Some(format!("http://{addr}")),
            operator_token: Some("test-operator".into()),
            web_dir,
            sentry_dsn: None,
            app_env: "development".into(),
            log: "warn".into(),
            http: Default::default(),
            worker: Default::default(),
        };
        tweak(&mut settings);
        let app = App::start(settings).await.expect("the app starts");
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let router = app.router();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await
            .unwrap();
        });
        Self {
            app,
            base: format!("http://{addr}"),
            client: {
                ava_host::tls::install_crypto_provider();
                reqwest::Client::new()
            },
            dir,
            postgres_db,
            shutdown: Some(shutdown),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `method path` with an optional bearer token and JSON body; returns the status
    /// and the JSON body (`Value::Null` when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{path} answered {status} with non-JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// The `stats` of every loaded plugin on `/admin/plugins` (calls, errors, kv, ...), by
    /// plugin name, as the operator sees them.
    pub async fn plugin_stats(&self) -> std::collections::BTreeMap<String, Value> {
        let (status, body) = self.get("/admin/plugins", "test-operator").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["plugins"]
            .as_array()
            .unwrap_or_else(|| panic!("no plugin list: {body}"))
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_string(), p["stats"].clone()))
            .collect()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Registers `email` and returns `(token, user id)`.
    pub async fn register(&self, email: &str) -> (String, String) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/auth/register",
                None,
                Some(json!({ "email": email, "password": "correct horse battery" })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["token"].as_str().unwrap().to_string(),
            body["user"]["id"].as_str().unwrap().to_string(),
        )
    }

    /// Gives `user_id` a subscription with `status`, as the billing webhooks would.
    pub async fn set_subscription(&self, user_id: &str, status: &str) {
        let now = ava_host::db::now_ms();
        let db = &self.app.state.db;
        let mut tx = db.write().await.unwrap();
        ava_host::db::subscriptions::upsert(
            &mut **tx,
            &Subscription {
                user_id: user_id.to_string(),
                provider: "test".into(),
                customer_id: Some("cus_test".into()),
                subscription_id: Some("sub_test".into()),
                status: status.to_string(),
                current_period_end: Some(now + 30 * 86_400_000),
                cancel_at_period_end: false,
                price_id: None,
                state_as_of: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        // What the billing service does after recording a subscription change.
        self.app.state.chat.forget_user(user_id);
    }

    /// A registered user with an active subscription: `(token, user id)`.
    pub async fn subscriber(&self, email: &str) -> (String, String) {
        let (token, id) = self.register(email).await;
        self.set_subscription(&id, "active").await;
        (token, id)
    }

    /// Where the data lives.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(name) = self.postgres_db.take() {
            // Drop runs outside any runtime guarantee: use a thread with its own.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(drop_database(&name));
            })
            .join();
        }
    }
}

async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&postgres_admin_url())
        .await
        .expect("the test PostgreSQL server (AVA_TEST_POSTGRES_URL) is reachable")
}

/// The data folder beside a test's `ava.toml`.
fn dir_data(config_path: &std::path::Path) -> PathBuf {
    config_path.parent().unwrap().join("data")
}

/// Creates an empty database for one test; sweeps the ones older tests left behind.
pub async fn fresh_postgres_database() -> (String, String) {
    use sqlx::Executor;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("ava_t_{now}_{:012x}", rand::random::<u64>() >> 16);
    let mut conn = admin().await;
    let stale: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'ava_t_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for old in stale {
        let created: u64 = old
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if created + 3600 < now {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {old} WITH (FORCE)"
                )))
                .await;
        }
    }
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
    url.set_path(&name);
    (url.to_string(), name)
}

pub async fn drop_database(name: &str) {
    use sqlx::Executor;
    let mut conn = admin().await;
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        ))),
    )
    .await;
}

/// Runs an async test body against SQLite and against PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::app::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::app::Backend::Postgres).await
                }
            }
        )*
    };
}
