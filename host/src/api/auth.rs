//! `/auth`: register, login, logout, me.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser, ClientIp};
use super::views;
use crate::app::AppState;
use crate::db::{preferences, subscriptions, users};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    email: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    email: String,
    password: String,
}

async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Registration>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = state
        .accounts
        .register(&body.email, &body.password, body.display_name.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": session.token, "user": views::user(&session.user) })),
    ))
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Json<Value>> {
    let session = state
        .accounts
        .login(&body.email, &body.password, ip)
        .await?;
    Ok(Json(
        json!({ "token": session.token, "user": views::user(&session.user) }),
    ))
}

async fn logout(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    state.accounts.logout(&user.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    let pool = state.db.pool();
    let account = users::by_id(pool, &user.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("Not authenticated".into()))?;
    let prefs = preferences::get(pool, &user.id).await?;
    let subscription = subscriptions::get(pool, &user.id).await?;
    Ok(Json(json!({
        "user": views::user(&account),
        "preferences": prefs.as_ref().map(views::preferences),
        "subscription": views::subscription(subscription.as_ref()),
    })))
}
