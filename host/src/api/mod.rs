//! The HTTP API: one router module per route group, merged here.

pub mod admin;
pub mod auth;
pub mod avatars;
pub mod billing;
pub mod chat;
pub mod dev_pages;
pub mod error;
pub mod extract;
pub mod health;
pub mod messages;
pub mod photos;
pub mod preferences;
pub mod views;

use axum::Router;

use crate::app::AppState;

/// Every route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
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
