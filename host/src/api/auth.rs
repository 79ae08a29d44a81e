//! `/auth`: register, login, logout, me.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser, ClientIp};
use super::views::{self, ErrorBody, PreferencesView, SubscriptionView, UserView};
use crate::app::AppState;
use crate::db::{preferences, subscriptions, users};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    email: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    email: String,
    password: String,
}

/// A session: the bearer token to send as `Authorization: Bearer <token>`, and its user.
#[derive(Serialize, ToSchema)]
pub struct AuthSession {
    token: String,
    user: UserView,
}

/// The signed-in user with their preferences and subscription.
#[derive(Serialize, ToSchema)]
pub struct Me {
    user: UserView,
    #[schema(nullable = true)]
    preferences: Option<PreferencesView>,
    subscription: SubscriptionView,
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Registration,
    responses(
        (status = 201, description = "Signed up", body = AuthSession),
        (status = 409, description = "An account with this email exists", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`field` names it)", body = ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Registration>,
) -> ApiResult<(StatusCode, Json<AuthSession>)> {
    let session = state
        .accounts
        .register(&body.email, &body.password, body.display_name.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AuthSession {
            user: views::user(&session.user),
            token: session.token,
        }),
    ))
}

/// Signs in. Repeated failures from one address are refused for a while (429).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Signed in", body = AuthSession),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Json<AuthSession>> {
    let session = state
        .accounts
        .login(&body.email, &body.password, ip)
        .await?;
    Ok(Json(AuthSession {
        user: views::user(&session.user),
        token: session.token,
    }))
}

/// Ends this session (its token stops working).
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn logout(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    state.accounts.logout(&user.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is signed in.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Me>> {
    let pool = state.db.pool();
    let account = users::by_id(pool, &user.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("Not authenticated".into()))?;
    let prefs = preferences::get(pool, &user.id).await?;
    let subscription = subscriptions::get(pool, &user.id).await?;
    Ok(Json(Me {
        user: views::user(&account),
        preferences: prefs.as_ref().map(views::preferences),
        subscription: views::subscription(subscription.as_ref()),
    }))
}
