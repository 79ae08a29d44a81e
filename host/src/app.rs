//! Assembling Ava: the database, the plugin runtime, the registry and its watcher, the
//! services, the routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use url::Url;

use crate::accounts::Accounts;
use crate::billing::Billing;
use crate::chat::Chat;
use crate::config::{AvaConfig, Settings};
use crate::db::Db;
use crate::db::kv::SqlKv;
use crate::plugins::{
    ConfigSource, Registry, ReloadWatcher, Runtime, RuntimeOptions, Services, process_env,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub registry: Arc<Registry>,
    pub accounts: Arc<Accounts>,
    pub chat: Arc<Chat>,
    pub billing: Arc<Billing>,
    pub settings: Arc<Settings>,
}

/// The routes with their state.
pub fn router(state: AppState) -> Router {
    crate::api::router().with_state(state)
}

/// The database named by the settings (SQLite in the data folder by default), migrated.
pub async fn database(settings: &Settings) -> anyhow::Result<Db> {
    let db = match &settings.database_url {
        Some(url) => Db::connect(url).await,
        None => Db::connect_embedded(&settings.data_dir).await,
    }
    .context("cannot open the database")?;
    db.migrate().await.context("cannot migrate the database")?;
    Ok(db)
}

/// The plugin runtime for these settings and configuration.
pub fn runtime(
    settings: &Settings,
    config: &AvaConfig,
    services: Services,
) -> anyhow::Result<Arc<Runtime>> {
    let public_url = Url::parse(&settings.public_base_url()).with_context(|| {
        format!(
            "AVA_PUBLIC_URL {:?} is not a URL",
            settings.public_base_url()
        )
    })?;
    Runtime::new(RuntimeOptions {
        max_instances: config.max_instances(),
        max_memory_mib: config.runtime.max_memory_mib,
        cache_dir: settings.plugin_cache_dir(),
        secrets_dir: settings.secrets_dir(),
        public_url,
        env: process_env(),
        services,
    })
    .map_err(anyhow::Error::msg)
}

/// A running Ava: its state, and the background tasks that live as long as it does.
pub struct App {
    pub state: AppState,
    _watcher: ReloadWatcher,
    housekeeping: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.housekeeping.abort();
    }
}

impl App {
    /// Opens the database, loads the plugins, starts watching `ava.toml`.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        let source = ConfigSource::file(&settings.config, false);
        let config = source.read()?;
        let db = database(&settings).await?;
        let services = Services {
            kv: Arc::new(SqlKv::new(db.clone())),
            photos: None,
        };
        let runtime = runtime(&settings, &config, services)?;
        let registry = Registry::start(runtime, source)
            .await
            .context("the plugins did not load")?;
        let watcher = crate::plugins::watch(registry.clone()).map_err(anyhow::Error::msg)?;
        let cache_ttl = std::time::Duration::from_secs(u64::from(config.app.cache_seconds));
        let accounts = Arc::new(Accounts::new(db.clone(), cache_ttl));
        let chat = Chat::new(db.clone(), registry.clone(), config.app.clone());
        let billing = Arc::new(Billing::new(
            db.clone(),
            registry.clone(),
            chat.clone(),
            settings.public_base_url(),
        ));
        let housekeeping = tokio::spawn(housekeeping(accounts.clone(), db.clone()));
        Ok(Self {
            state: AppState {
                db,
                registry,
                accounts,
                chat,
                billing,
                settings: Arc::new(settings),
            },
            _watcher: watcher,
            housekeeping,
        })
    }

    /// The routes.
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` resolves, then lets requests in flight finish.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server failed")
    }
}

/// Hourly: expired sessions and plugin values, idle rate-limit keys.
async fn housekeeping(accounts: Arc<Accounts>, db: Db) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(err) = accounts.housekeeping().await {
            tracing::warn!(error = %err, "session housekeeping failed");
        }
        let now = crate::db::now_ms() as u64;
        if let Err(err) = SqlKv::new(db.clone()).purge_expired(now).await {
            tracing::warn!(error = %err, "plugin storage housekeeping failed");
        }
    }
}

/// Runs the HTTP server until SIGINT or SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let addr = settings.addr;
    let app = App::start(settings).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        plugins = app.state.registry.current().plugins().count(),
        database = ?app.state.db.backend(),
        ready_in_ms = started.elapsed().as_millis() as u64,
        "Ava is listening"
    );
    app.serve(listener, shutdown_signal()).await?;
    app.state.db.close().await;
    tracing::info!("Ava stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
