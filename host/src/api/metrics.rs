//! `/metrics`: Prometheus' text exposition of this process's figures. nginx refuses it from
//! outside; Prometheus scrapes each replica directly on the internal network.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::views::ErrorBody;
use crate::app::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// The figures: requests per route, plugin calls, jobs, queue depth, streams, pool use.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 503, description = "Another metrics recorder owns this process", body = ErrorBody),
    ))]
async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let text = crate::telemetry::metrics::render(&state.db, state.queue.as_ref())
        .await
        .ok_or_else(|| ApiError::Unavailable("Metrics are not recorded by this process".into()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
