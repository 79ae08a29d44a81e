//! `/admin/*`: the operator's view of the plugins (with their live figures), a reload
//! trigger, and the job queue's dead letters. Protected by `AVA_OPERATOR_TOKEN`; without
//! one configured, these routes do not exist (404).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::views::ErrorBody;
use crate::app::AppState;
use crate::jobs::DeadJob;
use crate::plugins::LoadedPlugin;
use crate::plugins::stats::{KvStats, PluginStats};

/// The most dead jobs one answer lists (as `ava jobs dead`).
const DEAD_LIST_LIMIT: usize = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(reload))
        .routes(routes!(dead_jobs))
        .routes(routes!(retry_job))
}

fn authorize(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(expected) = state
        .settings
        .operator_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Err(ApiError::NotFound("Not found".into()));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if ava_sdk::crypto::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("Operator token required".into()))
    }
}

fn ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What an operator wants to know about one plugin; never a secret's value.
#[derive(Serialize, ToSchema)]
pub struct PluginView {
    name: String,
    /// The WIT world it implements, e.g. `chat-persona`.
    world: &'static str,
    /// The slots it serves (`billing`, `persona`, `images`, `jobs`); empty when loaded but unused.
    slots: Vec<String>,
    version: String,
    /// The contract version it was built against.
    contract: String,
    description: String,
    sha256: String,
    path: String,
    /// The hosts it may call.
    allow_hosts: Vec<String>,
    config_keys: Vec<String>,
    /// The names (never the values) of the secrets it holds.
    secrets: Vec<String>,
    limits: String,
    job_kinds: Vec<String>,
    /// Figures since this process started (kept across reloads of the same name).
    stats: PluginStats,
}

pub fn describe(plugin: &LoadedPlugin, slots: &[&str]) -> PluginView {
    let info = plugin.info();
    let grants = plugin.grants();
    PluginView {
        name: plugin.name().to_string(),
        world: plugin.world().wit_name(),
        slots: slots.iter().map(|s| s.to_string()).collect(),
        version: info.version.clone(),
        contract: info.contract.clone(),
        description: info.description.clone(),
        sha256: plugin.module().sha256.clone(),
        path: plugin.module().path.display().to_string(),
        allow_hosts: grants.allowlist.describe(),
        config_keys: info
            .config
            .iter()
            .filter(|k| !k.secret)
            .map(|k| k.name.clone())
            .collect(),
        secrets: grants.secret_names().map(str::to_string).collect(),
        limits: plugin.limits().describe(),
        job_kinds: plugin.kinds().to_vec(),
        stats: plugin.stats(),
    }
}

/// `plugin`'s key-value store against its quota, or `None` (logged) when the store fails.
async fn kv_stats(plugin: &LoadedPlugin) -> Option<KvStats> {
    match plugin.rt.services.kv.figures(plugin.name()).await {
        Ok(figures) => Some(KvStats::new(figures, plugin.limits().kv_quota)),
        Err(err) => {
            tracing::warn!(plugin = plugin.name(), error = %err, "cannot read the plugin's key-value usage");
            None
        }
    }
}

/// A plugin named in the config but disabled.
#[derive(Serialize, ToSchema)]
pub struct DisabledPlugin {
    name: String,
    path: String,
}

/// The plugins this process runs.
#[derive(Serialize, ToSchema)]
pub struct AdminPlugins {
    /// Counts the plugin sets loaded: 1 at start, +1 per accepted reload.
    generation: u64,
    /// Why the latest reload was refused; `null` once a later one succeeded.
    last_reload_error: Option<String>,
    /// The last refused reload, kept after later successes.
    last_refused_reload: Option<RefusedReloadView>,
    /// When the running set was loaded, ms since the epoch.
    loaded_at: i64,
    plugins: Vec<PluginView>,
    disabled: Vec<DisabledPlugin>,
}

/// A refused reload: when (ms since the epoch) and why.
#[derive(Serialize, ToSchema)]
pub struct RefusedReloadView {
    at: i64,
    error: String,
}

/// The plugins per slot with their grants, limits and live figures.
#[utoipa::path(get, path = "/admin/plugins", tag = "admin", security(("operator" = [])),
    responses(
        (status = 200, body = AdminPlugins),
        (status = 401, description = "Not the operator token", body = ErrorBody),
        (status = 404, description = "No operator token configured: the dashboard is off", body = ErrorBody),
    ))]
async fn list(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<AdminPlugins>> {
    authorize(&state, &headers)?;
    let set = state.registry.current();
    let status = state.registry.status();
    let mut plugins = Vec::new();
    for p in set.plugins() {
        let slots: Vec<&str> = set.slots_of(p.name()).iter().map(|s| s.name()).collect();
        let mut view = describe(p, &slots);
        view.stats.kv = kv_stats(p).await;
        plugins.push(view);
    }
    let disabled = set
        .disabled()
        .map(|(name, path)| DisabledPlugin {
            name: name.to_string(),
            path: path.display().to_string(),
        })
        .collect();
    Ok(Json(AdminPlugins {
        generation: status.generation,
        last_reload_error: status.last_error,
        last_refused_reload: status.last_refused.map(|r| RefusedReloadView {
            at: ms(r.at),
            error: r.error,
        }),
        loaded_at: ms(status.loaded_at),
        plugins,
        disabled,
    }))
}

/// The generation a reload produced.
#[derive(Serialize, ToSchema)]
pub struct ReloadOutcome {
    generation: u64,
}

/// Reads the config again and swaps in the new set if it loads.
#[utoipa::path(post, path = "/admin/plugins/reload", tag = "admin", security(("operator" = [])),
    responses(
        (status = 200, description = "The new set runs", body = ReloadOutcome),
        (status = 401, description = "Not the operator token", body = ErrorBody),
        (status = 404, description = "The dashboard is off", body = ErrorBody),
        (status = 422, description = "Refused; the running plugins keep serving", body = ErrorBody),
    ))]
async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<ReloadOutcome>> {
    authorize(&state, &headers)?;
    match state.registry.reload().await {
        Ok(generation) => Ok(Json(ReloadOutcome { generation })),
        Err(err) => Err(ApiError::Unprocessable(format!(
            "reload refused, the running plugins keep serving: {err}"
        ))),
    }
}

/// A job given up after its last attempt.
#[derive(Serialize, ToSchema)]
pub struct DeadJobView {
    id: String,
    kind: String,
    /// Deliveries made before it was given up.
    attempts: u32,
    /// Why its last attempt failed.
    reason: String,
    enqueued_at: i64,
    died_at: i64,
}

/// The dead letters, oldest first.
#[derive(Serialize, ToSchema)]
pub struct DeadJobs {
    jobs: Vec<DeadJobView>,
}

fn dead_view(dead: DeadJob) -> DeadJobView {
    DeadJobView {
        id: dead.job.id,
        kind: dead.job.kind,
        attempts: dead.attempts,
        reason: dead.reason,
        enqueued_at: dead.job.enqueued_at_ms,
        died_at: dead.died_at_ms,
    }
}

/// The jobs given up after their last attempt, oldest first (`ava jobs dead`).
#[utoipa::path(get, path = "/admin/jobs/dead", tag = "admin", security(("operator" = [])),
    responses(
        (status = 200, body = DeadJobs),
        (status = 401, description = "Not the operator token", body = ErrorBody),
        (status = 404, description = "The dashboard is off", body = ErrorBody),
    ))]
async fn dead_jobs(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<DeadJobs>> {
    authorize(&state, &headers)?;
    let dead = state
        .queue
        .dead(DEAD_LIST_LIMIT)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(DeadJobs {
        jobs: dead.into_iter().map(dead_view).collect(),
    }))
}

/// Queues a dead job again with its attempts reset (`ava jobs retry`).
#[utoipa::path(post, path = "/admin/jobs/{id}/retry", tag = "admin", security(("operator" = [])),
    params(("id" = String, Path, description = "A dead job's id")),
    responses(
        (status = 204, description = "Queued again"),
        (status = 401, description = "Not the operator token", body = ErrorBody),
        (status = 404, description = "No such dead job (or the dashboard is off)", body = ErrorBody),
    ))]
async fn retry_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    authorize(&state, &headers)?;
    let revived = state
        .queue
        .revive(&id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if revived {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("No dead job {id}")))
    }
}
