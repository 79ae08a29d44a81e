//! `/admin/plugins`: the operator's view of the plugins, and a reload trigger. Protected by
//! `AVA_OPERATOR_TOKEN`; without one configured, these routes do not exist (404).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::plugins::LoadedPlugin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/plugins", get(list))
        .route("/admin/plugins/reload", post(reload))
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

/// What an operator wants to know about one plugin; never a secret's value.
pub fn describe(plugin: &LoadedPlugin, slots: &[&str]) -> Value {
    let info = plugin.info();
    let grants = plugin.grants();
    json!({
        "name": plugin.name(),
        "world": plugin.world().wit_name(),
        "slots": slots,
        "version": info.version,
        "contract": info.contract,
        "description": info.description,
        "sha256": plugin.module().sha256,
        "path": plugin.module().path,
        "allow_hosts": grants.allowlist.describe(),
        "config_keys": info.config.iter().filter(|k| !k.secret).map(|k| &k.name).collect::<Vec<_>>(),
        "secrets": grants.secret_names().collect::<Vec<_>>(),
        "limits": plugin.limits().describe(),
        "job_kinds": plugin.kinds(),
    })
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&state, &headers)?;
    let set = state.registry.current();
    let status = state.registry.status();
    let plugins: Vec<Value> = set
        .plugins()
        .map(|p| {
            let slots: Vec<&str> = set.slots_of(p.name()).iter().map(|s| s.name()).collect();
            describe(p, &slots)
        })
        .collect();
    let disabled: Vec<Value> = set
        .disabled()
        .map(|(name, path)| json!({ "name": name, "path": path }))
        .collect();
    Ok(Json(json!({
        "generation": status.generation,
        "last_reload_error": status.last_error,
        "plugins": plugins,
        "disabled": disabled,
    })))
}

async fn reload(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&state, &headers)?;
    match state.registry.reload().await {
        Ok(generation) => Ok(Json(json!({ "generation": generation }))),
        Err(err) => Err(ApiError::Unprocessable(format!(
            "reload refused, the running plugins keep serving: {err}"
        ))),
    }
}
