//! Assembling the server: the plugin runtime, the registry and its watcher, the routes.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use url::Url;

use crate::config::Settings;
use crate::plugins::{
    ConfigSource, MemoryKv, Registry, ReloadWatcher, Runtime, RuntimeOptions, Services, process_env,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub settings: Arc<Settings>,
}

/// The routes with their state.
pub fn router(state: AppState) -> Router {
    crate::api::router().with_state(state)
}

/// The plugin runtime for these settings.
pub fn runtime(settings: &Settings, services: Services) -> anyhow::Result<Arc<Runtime>> {
    let source = ConfigSource::file(&settings.config, false);
    let config = source.read()?;
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

/// Loads the plugins named by `settings` and starts watching for changes.
pub async fn plugins(
    settings: &Settings,
    services: Services,
) -> anyhow::Result<(Arc<Registry>, ReloadWatcher)> {
    let runtime = runtime(settings, services)?;
    let registry = Registry::start(runtime, ConfigSource::file(&settings.config, false))
        .await
        .context("the plugins did not load")?;
    let watcher = crate::plugins::watch(registry.clone()).map_err(anyhow::Error::msg)?;
    Ok((registry, watcher))
}

/// Runs the HTTP server until SIGINT or SIGTERM, then lets requests in flight finish.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let services = Services {
        kv: Arc::new(MemoryKv::default()),
        photos: None,
    };
    let started = std::time::Instant::now();
    let (registry, _watcher) = plugins(&settings, services).await?;
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("cannot listen on {}", settings.addr))?;
    let set = registry.current();
    tracing::info!(
        addr = %listener.local_addr()?,
        plugins = set.plugins().count(),
        ready_in_ms = started.elapsed().as_millis() as u64,
        "Ava is listening"
    );
    let state = AppState {
        registry,
        settings: Arc::new(settings),
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
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
