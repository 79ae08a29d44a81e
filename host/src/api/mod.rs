//! The HTTP API: one router module per route group, merged here.

pub mod admin;
pub mod error;
pub mod health;

use axum::Router;

use crate::app::AppState;

/// Every route.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).merge(admin::router())
}
