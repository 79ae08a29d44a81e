//! `/health` (liveness: the process answers) and `/health/ready` (readiness: the database,
//! the queue and the plugins work), for load balancers and uptime monitors.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
}

/// The process answers.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Whether this process can serve, and each dependency's state.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    status: &'static str,
    checks: ReadinessChecks,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessChecks {
    database: DependencyCheck,
    queue: DependencyCheck,
    plugins: PluginsCheck,
}

/// One dependency: `backend` when known, `depth` for the queue, `error` when not ok.
#[derive(Serialize, ToSchema)]
pub struct DependencyCheck {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    depth: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PluginsCheck {
    ok: bool,
    generation: u64,
    loaded: Vec<LoadedPluginRef>,
    last_reload_error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoadedPluginRef {
    name: String,
    world: &'static str,
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
async fn live() -> Json<Health> {
    Json(Health { status: "ok" })
}

fn failed(backend: Option<String>, error: String) -> DependencyCheck {
    DependencyCheck {
        ok: false,
        backend,
        depth: None,
        error: Some(error),
    }
}

/// Readiness: 503 when the database or the queue does not answer within 2 s.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "A dependency is down", body = Readiness),
    ))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let set = state.registry.current();
    let status = state.registry.status();
    let loaded = set
        .plugins()
        .map(|p| LoadedPluginRef {
            name: p.name().to_string(),
            world: p.world().wit_name(),
        })
        .collect();
    let database_backend = format!("{:?}", state.db.backend()).to_lowercase();
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => DependencyCheck {
            ok: true,
            backend: Some(database_backend),
            depth: None,
            error: None,
        },
        Ok(Err(err)) => failed(None, err.to_string()),
        Err(_) => failed(None, "no answer within 2 s".into()),
    };
    let queue_backend = Some(state.queue.backend().to_string());
    let queue = match tokio::time::timeout(CHECK_TIMEOUT, state.queue.depth()).await {
        Ok(Ok(depth)) => DependencyCheck {
            ok: true,
            backend: queue_backend,
            depth: Some(depth),
            error: None,
        },
        Ok(Err(err)) => failed(queue_backend, err.to_string()),
        Err(_) => failed(queue_backend, "no answer within 2 s".into()),
    };
    let ready = database.ok && queue.ok;
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        checks: ReadinessChecks {
            database,
            queue,
            plugins: PluginsCheck {
                ok: true,
                generation: status.generation,
                loaded,
                last_reload_error: status.last_error,
            },
        },
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
