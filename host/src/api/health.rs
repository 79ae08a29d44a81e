//! `/health` (the process answers) and `/health/ready` (it can serve: the database and the
//! job queue answer, plugins loaded).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(live))
        .route("/health/ready", get(ready))
}

async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let set = state.registry.current();
    let status = state.registry.status();
    let plugins: Vec<Value> = set
        .plugins()
        .map(|p| json!({ "name": p.name(), "world": p.world().wit_name() }))
        .collect();
    let database =
        match tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await {
            Ok(Ok(())) => {
                json!({ "ok": true, "backend": format!("{:?}", state.db.backend()).to_lowercase() })
            }
            Ok(Err(err)) => json!({ "ok": false, "error": err.to_string() }),
            Err(_) => json!({ "ok": false, "error": "no answer within 2 s" }),
        };
    // The queue's depth doubles as its ping (Redis, or the jobs table).
    let queue = match tokio::time::timeout(std::time::Duration::from_secs(2), state.queue.depth())
        .await
    {
        Ok(Ok(depth)) => json!({ "ok": true, "backend": state.queue.backend(), "depth": depth }),
        Ok(Err(err)) => {
            json!({ "ok": false, "backend": state.queue.backend(), "error": err.to_string() })
        }
        Err(_) => {
            json!({ "ok": false, "backend": state.queue.backend(), "error": "no answer within 2 s" })
        }
    };
    let ready = database["ok"] == true && queue["ok"] == true;
    // The registry only ever holds a set that loaded and validated in full; a refused reload
    // leaves the previous set serving, so it is reported but does not make the host unready.
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": {
            "database": database,
            "queue": queue,
            "plugins": {
                "ok": true,
                "generation": status.generation,
                "loaded": plugins,
                "last_reload_error": status.last_error,
            }
        }
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
