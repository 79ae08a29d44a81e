//! `/preferences`: mode, active persona, photos, and the 18+ confirmation.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser};
use super::views;
use crate::app::AppState;
use crate::db::{now_ms, personas, preferences};

pub fn router() -> Router<AppState> {
    Router::new().route("/preferences", get(show).put(update).patch(update))
}

/// Any subset of the preferences.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    mode: Option<String>,
    /// `null` is refused: a user always has an active persona.
    active_persona_id: Option<String>,
    photos_enabled: Option<bool>,
    /// `true` records that the user confirmed being 18 or older, now.
    confirm_adult: Option<bool>,
}

async fn show(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    let prefs = preferences::get(state.db.pool(), &user.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Preferences not found".into()))?;
    Ok(Json(views::preferences(&prefs)))
}

async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(changes): ApiJson<Changes>,
) -> ApiResult<Json<Value>> {
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
