//! The layers every HTTP request passes, outermost first: a request id (kept when the proxy
//! sent one, echoed in the answer), a Sentry scope of its own, a tracing span, a JSON 500 for
//! a panic, then the per-route metrics and the request deadline.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sentry::integrations::tower::{NewSentryLayer, SentryHttpLayer};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `router` with the layers.
pub fn layered<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    timeout: Duration,
) -> Router<S> {
    router
        .layer(axum::middleware::from_fn_with_state(timeout, measure))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(NewSentryLayer::<Request>::new_from_top())
                .layer(SentryHttpLayer::new())
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(span)
                        // WARN: a 5xx is reported where its cause is known (with its tags),
                        // not a second time here.
                        .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
                )
                .layer(CatchPanicLayer::custom(panicked)),
        )
}

/// The span of one request: its method, path (no query: it may hold a token) and id.
fn span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), path = request.uri().path(), request_id = id)
}

/// Counts and times the request under its route's pattern (never the raw path, whose ids
/// would make a series per user), tags its error reports, and bounds how long it may take.
async fn measure(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().as_str().to_string();
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    super::error_reports::tag_request(&route, &request_id);
    let started = Instant::now();
    let response = match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(route, "request timed out");
            json_error(
                StatusCode::GATEWAY_TIMEOUT,
                "The request took too long; try again",
            )
        }
    };
    let status = response.status().as_u16().to_string();
    metrics::counter!("ava_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("ava_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A panicking handler answers like any other failure (the panic hook reported it).
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}

fn json_error(status: StatusCode, detail: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "detail": detail }))).into_response()
}
