//! The HTTP API: one router module per route group, merged here, each route documented in
//! the OpenAPI document it is collected into; and the SPA beside it.

pub mod admin;
pub mod auth;
pub mod avatars;
pub mod billing;
pub mod chat;
pub mod client_ip;
pub mod dev_pages;
pub mod error;
pub mod extract;
pub mod health;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod photos;
pub mod preferences;
pub mod views;
pub mod web;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

/// Every API route, with its documentation. A route can only be added here through
/// `routes!`, which needs its `#[utoipa::path]`: the document cannot miss one.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .merge(health::router())
        .merge(metrics::router())
        .merge(auth::router())
        .merge(avatars::router())
        .merge(preferences::router())
        .merge(chat::router())
        .merge(billing::router())
        .merge(dev_pages::router())
        .merge(messages::router())
        .merge(photos::router())
        .merge(admin::router())
}

/// Every route, and the SPA for what no route matches.
pub fn router() -> Router<AppState> {
    let (api, _) = routes().split_for_parts();
    api.fallback(web::fallback)
        .method_not_allowed_fallback(web::method_not_allowed)
}

/// This document: the API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::json(),
    )
}
