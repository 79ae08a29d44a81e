//! `/preferences`: mode, active persona, photos, and the 18+ confirmation.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser};
use super::views::{self, ErrorBody, PreferencesView};
use crate::app::AppState;
use crate::db::{now_ms, personas, preferences};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show, update, amend))
}

/// Any subset of the preferences.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PreferencesChanges)]
pub struct Changes {
    /// `secretary` or `intimate` (which needs the 18+ confirmation).
    mode: Option<String>,
    /// `null` is refused: a user always has an active persona.
    active_persona_id: Option<String>,
    photos_enabled: Option<bool>,
    /// `true` records that the user confirmed being 18 or older, now.
    confirm_adult: Option<bool>,
}

/// The user's preferences.
#[utoipa::path(get, path = "/preferences", tag = "preferences", security(("bearer" = [])),
    responses(
        (status = 200, body = PreferencesView),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn show(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<PreferencesView>> {
    let prefs = preferences::get(state.db.pool(), &user.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Preferences not found".into()))?;
    Ok(Json(views::preferences(&prefs)))
}

/// Changes some preferences (PUT and PATCH both take any subset).
#[utoipa::path(put, path = "/preferences", tag = "preferences", security(("bearer" = [])),
    request_body = Changes,
    responses(
        (status = 200, description = "The preferences now", body = PreferencesView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Intimate mode without the 18+ confirmation", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 422, description = "A bad mode", body = ErrorBody),
    ))]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(changes): ApiJson<Changes>,
) -> ApiResult<Json<PreferencesView>> {
    let mut tx = state.db.write().await?;
    let mut prefs = preferences::get(&mut **tx, &user.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Preferences not found".into()))?;
    let now = now_ms();
    match changes.confirm_adult {
        Some(true) if prefs.adult_confirmed_at.is_none() => prefs.adult_confirmed_at = Some(now),
        Some(false) => prefs.adult_confirmed_at = None,
        _ => {}
    }
    if let Some(mode) = changes.mode {
        match mode.as_str() {
            "secretary" => {}
            "intimate" if prefs.adult_confirmed_at.is_some() => {}
            "intimate" => {
                return Err(ApiError::Forbidden(
                    "Intimate mode requires confirming you are 18 or older (confirm_adult: true)"
                        .into(),
                ));
            }
            _ => {
                return Err(ApiError::Validation {
                    field: "mode",
                    message: "must be `secretary` or `intimate`".into(),
                });
            }
        }
        prefs.mode = mode;
    }
    // Withdrawing the confirmation leaves intimate mode.
    if prefs.adult_confirmed_at.is_none() && prefs.mode == "intimate" {
        prefs.mode = "secretary".into();
    }
    if let Some(persona_id) = changes.active_persona_id {
        if personas::get(&mut **tx, &user.id, &persona_id)
            .await?
            .is_none()
        {
            return Err(ApiError::NotFound("Persona not found".into()));
        }
        prefs.active_persona_id = Some(persona_id);
    }
    if let Some(photos) = changes.photos_enabled {
        prefs.photos_enabled = photos;
    }
    prefs.updated_at = now;
    preferences::upsert(&mut **tx, &prefs).await?;
    tx.commit().await?;
    state.chat.forget_user(&user.id);
    Ok(Json(views::preferences(&prefs)))
}

/// Changes some preferences; the same as PUT.
#[utoipa::path(patch, path = "/preferences", tag = "preferences", security(("bearer" = [])),
    request_body = Changes,
    responses(
        (status = 200, description = "The preferences now", body = PreferencesView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Intimate mode without the 18+ confirmation", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 422, description = "A bad mode", body = ErrorBody),
    ))]
async fn amend(
    state: State<AppState>,
    user: AuthUser,
    changes: ApiJson<Changes>,
) -> ApiResult<Json<PreferencesView>> {
    update(state, user, changes).await
}
