//! Assembling Ava: the database, the plugin runtime, the registry and its watcher, the
//! services, the routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::response::IntoResponse;
use url::Url;

use crate::accounts::Accounts;
use crate::billing::Billing;
use crate::chat::Chat;
use crate::config::{AvaConfig, Settings};
use crate::db::Db;
use crate::db::kv::SqlKv;
use crate::jobs::Queue;
use crate::jobs::backoff::Backoff;
use crate::jobs::embedded::SqlQueue;
use crate::jobs::redis::{RedisQueue, RedisQueueOptions};
use crate::jobs::worker::{Worker, WorkerOptions};
use crate::photos::Photos;
use crate::photos::events::{LocalBus, PhotoBus, PhotoFeed};
use crate::photos::redis_bus::RedisBus;
use crate::photos::storage::DiskStorage;
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
    pub photos: Arc<Photos>,
    /// Photo events for this process's SSE streams.
    pub photo_feed: PhotoFeed,
    pub queue: Arc<dyn Queue>,
    pub settings: Arc<Settings>,
    /// Set when the server begins to stop: endless streams end on it.
    pub shutting_down: Arc<tokio::sync::watch::Sender<bool>>,
}

/// The routes with their state.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.settings.http.request_timeout_seconds.max(1));
    crate::telemetry::http::layered(crate::api::router(), timeout).with_state(state)
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
    Runtime::new(RuntimeOptions {
        max_instances: config.max_instances(),
        max_memory_mib: config.runtime.max_memory_mib,
        cache_dir: settings.plugin_cache_dir(),
        secrets_dir: settings.secrets_dir(),
        public_url: public_url(settings)?,
        env: process_env(),
        services,
    })
    .map_err(anyhow::Error::msg)
}

/// `AVA_PUBLIC_URL` as a URL: what `self` means in allowlists, and the base of relative
/// checkout URLs.
pub fn public_url(settings: &Settings) -> anyhow::Result<Url> {
    Url::parse(&settings.public_base_url()).with_context(|| {
        format!(
            "AVA_PUBLIC_URL {:?} is not a URL",
            settings.public_base_url()
        )
    })
}

/// A running Ava: its state, and the background tasks that live as long as it does.
pub struct App {
    pub state: AppState,
    _watcher: ReloadWatcher,
    housekeeping: tokio::task::JoinHandle<()>,
    /// The in-process worker, when this process runs one, and how to stop it.
    worker: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.housekeeping.abort();
        if let Some((_, worker)) = &self.worker {
            worker.abort();
        }
    }
}

/// The job queue for these settings: the Redis stream (with the database's jobs table as
/// its outbox) when `REDIS_URL` is set, otherwise the jobs table itself.
pub async fn job_queue(settings: &Settings, db: &Db) -> anyhow::Result<Arc<dyn Queue>> {
    let visibility = Duration::from_secs(settings.worker.job_visibility_seconds.max(1));
    let outbox = SqlQueue::new(db.clone(), visibility);
    let Some(url) = &settings.redis_url else {
        return Ok(outbox);
    };
    let queue = RedisQueue::connect(
        url,
        RedisQueueOptions {
            prefix: format!("{}:jobs", settings.redis_prefix),
            visibility,
            outbox: Some(outbox),
            ..RedisQueueOptions::default()
        },
    )
    .await
    .context("cannot reach Redis for the job queue")?;
    Ok(queue)
}

/// Where photo events are published: Redis pub/sub when `REDIS_URL` is set (every process
/// hears them), otherwise straight into this process's `feed`.
pub async fn photo_bus(settings: &Settings, feed: &PhotoFeed) -> anyhow::Result<Arc<dyn PhotoBus>> {
    let Some(url) = &settings.redis_url else {
        return Ok(Arc::new(LocalBus(feed.clone())));
    };
    let channel = format!("{}:photos", settings.redis_prefix);
    let bus = RedisBus::connect(url, &channel, feed.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach Redis for photo events: {e}"))?;
    Ok(Arc::new(bus))
}

impl App {
    /// Opens the database, loads the plugins, starts watching `ava.toml`; starts the
    /// in-process worker when [`Settings::serve_runs_worker`].
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        Self::start_with_worker(settings.serve_runs_worker(), settings).await
    }

    /// Like [`App::start`], with or without the worker, whatever the settings say.
    pub async fn start_with_worker(run_worker: bool, settings: Settings) -> anyhow::Result<Self> {
        // Installed before anything counts, so no figure is lost.
        crate::telemetry::metrics::handle();
        let source = ConfigSource::file(&settings.config, false);
        let config = source.read()?;
        let db = database(&settings).await?;
        let photo_feed = PhotoFeed::default();
        let queue = job_queue(&settings, &db).await?;
        let photos = Photos::new(
            db.clone(),
            Arc::new(DiskStorage::new(settings.photos_dir())),
            photo_bus(&settings, &photo_feed).await?,
        );
        let services = Services {
            kv: Arc::new(SqlKv::new(db.clone())),
            photos: Some(photos.clone()),
        };
        let runtime = runtime(&settings, &config, services)?;
        let registry = Registry::start(runtime, source)
            .await
            .context("the plugins did not load")?;
        let watcher = crate::plugins::watch(registry.clone()).map_err(anyhow::Error::msg)?;
        let cache_ttl = std::time::Duration::from_secs(u64::from(config.app.cache_seconds));
        let accounts = Arc::new(Accounts::new(db.clone(), cache_ttl));
        let chat = Chat::new(
            db.clone(),
            registry.clone(),
            config.app.clone(),
            queue.clone(),
        );
        let billing = Arc::new(Billing::new(
            db.clone(),
            registry.clone(),
            chat.clone(),
            settings.public_base_url(),
        ));
        let housekeeping = tokio::spawn(housekeeping(accounts.clone(), db.clone()));
        let state = AppState {
            db,
            registry,
            accounts,
            chat,
            billing,
            photos,
            photo_feed,
            queue,
            settings: Arc::new(settings),
            shutting_down: Arc::new(tokio::sync::watch::Sender::new(false)),
        };
        let worker = run_worker.then(|| {
            let (stop, mut stopped) = tokio::sync::watch::channel(false);
            let worker = worker(&state, "serve");
            let task = tokio::spawn(worker.run(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }));
            (stop, task)
        });
        Ok(Self {
            state,
            _watcher: watcher,
            housekeeping,
            worker,
        })
    }

    /// Stops the in-process worker, letting its jobs in flight finish within the grace.
    pub async fn stop_worker(&mut self) {
        if let Some((stop, task)) = self.worker.take() {
            let _ = stop.send(true);
            let _ = task.await;
        }
    }

    /// The routes.
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` resolves, then lets requests in flight finish
    /// for up to `AVA_SHUTDOWN_SECONDS` (event streams end at once) before returning.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stopping = self.state.shutting_down.clone();
        let signal = async move {
            shutdown.await;
            stopping.send_replace(true);
        };
        let server = axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal);
        let grace = Duration::from_secs(self.state.settings.http.shutdown_seconds);
        let mut stopped = self.state.shutting_down.subscribe();
        let deadline = async move {
            let _ = stopped.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server => served.context("the HTTP server failed"),
            () = deadline => {
                tracing::warn!(grace_seconds = grace.as_secs(), "requests still running at the shutdown deadline are cut off");
                Ok(())
            }
        }
    }
}

/// A worker over this process's queue and plugins, named `<role>-<host>-<pid>`.
pub fn worker(state: &AppState, role: &str) -> Worker {
    let w = &state.settings.worker;
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    Worker {
        queue: state.queue.clone(),
        registry: state.registry.clone(),
        photos: state.photos.clone(),
        options: WorkerOptions {
            consumer: format!("{role}-{host}-{}", std::process::id()),
            concurrency: w.worker_concurrency.max(1),
            shutdown_grace: Duration::from_secs(w.worker_shutdown_seconds),
            backoff: Backoff {
                base: Duration::from_millis(w.job_backoff_ms.max(1)),
                ..Backoff::default()
            },
        },
    }
}

/// Runs a worker (no HTTP server) until SIGINT or SIGTERM, then drains it.
pub async fn work(settings: Settings) -> anyhow::Result<()> {
    let app = App::start_with_worker(false, settings).await?;
    let probe = match app.state.settings.http.metrics_addr {
        Some(addr) => Some(worker_probe(&app.state, addr).await?),
        None => None,
    };
    let worker = worker(&app.state, "worker");
    worker.run(shutdown_signal()).await;
    if let Some(probe) = probe {
        probe.abort();
    }
    app.state.db.close().await;
    Ok(())
}

/// The worker's own small server on `AVA_METRICS_ADDR`: `/health` for the container's
/// health check and `/metrics` for Prometheus (a worker serves no API).
async fn worker_probe(
    state: &AppState,
    addr: SocketAddr,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on AVA_METRICS_ADDR {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "worker metrics listening");
    let routes = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route(
            "/metrics",
            get(
                |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    match crate::telemetry::metrics::render(&state.db, state.queue.as_ref()).await {
                        Some(text) => (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            text,
                        )
                            .into_response(),
                        None => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    }
                },
            ),
        )
        .with_state(state.clone());
    Ok(tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, routes).await {
            tracing::error!(error = %err, "the worker's metrics server failed");
        }
    }))
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
    if !settings.web_dir.join("index.html").is_file() {
        tracing::warn!(
            web_dir = %settings.web_dir.display(),
            "the web app is not built (npm ci && npm run build in frontend/): the API runs without it"
        );
    }
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
    let mut app = app;
    app.serve(listener, shutdown_signal()).await?;
    app.stop_worker().await;
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
