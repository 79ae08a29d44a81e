//! `/avatars`: the user's personas. Another user's persona is always 404.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser, RawBody};
use super::views;
use crate::app::AppState;
use crate::db::personas::PersonaData;
use crate::db::{now_ms, personas, preferences};
use crate::personas::cards::{self, CardVersion};
use crate::plugins::types::ImageRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/avatars", get(list).post(create))
        .route(
            "/avatars/import",
            post(import).layer(DefaultBodyLimit::max(cards::MAX_PNG_BYTES + 1024)),
        )
        .route(
            "/avatars/{id}",
            get(show).put(replace).patch(amend).delete(remove),
        )
        .route("/avatars/{id}/export", get(export))
}

fn not_found() -> ApiError {
    ApiError::NotFound("Persona not found".into())
}

async fn list(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    let all = personas::list(state.db.pool(), &user.id).await?;
    Ok(Json(
        json!({ "avatars": all.iter().map(views::persona).collect::<Vec<_>>() }),
    ))
}

/// The editable fields; omitted ones take their defaults (create, replace) or keep their
/// value (amend).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    name: Option<String>,
    style: Option<String>,
    description: Option<String>,
    personality: Option<String>,
    scenario: Option<String>,
    greeting: Option<String>,
    example_dialogue: Option<String>,
    system_prompt: Option<String>,
    post_history_instructions: Option<String>,
    appearance: Option<String>,
    alternate_greetings: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    creator: Option<String>,
    creator_notes: Option<String>,
}

impl Fields {
    /// `base` with these fields applied.
    fn apply(self, mut base: PersonaData) -> PersonaData {
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { base.$field = v; } )* };
        }
        set!(
            name,
            style,
            description,
            personality,
            scenario,
            greeting,
            example_dialogue,
            system_prompt,
            post_history_instructions,
            appearance,
            alternate_greetings,
            tags,
            creator,
            creator_notes
        );
        base
    }
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(fields): ApiJson<Fields>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let data = crate::personas::validate(fields.apply(PersonaData::default()))?;
    let persona = crate::personas::new_persona(&user.id, data);
    let mut tx = state.db.write().await?;
    if !crate::personas::has_room(&mut **tx, &user.id).await? {
        return Err(ApiError::Conflict(format!(
            "You already have {} personas",
            crate::personas::MAX_PER_USER
        )));
    }
    personas::insert(&mut **tx, &persona).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(views::persona(&persona))))
}

async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let persona = personas::get(state.db.pool(), &user.id, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(views::persona(&persona)))
}

async fn save(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    fields: Fields,
    keep: bool,
) -> ApiResult<Json<Value>> {
    let mut tx = state.db.write().await?;
    let current = personas::get(&mut **tx, &user.id, id)
        .await?
        .ok_or_else(not_found)?;
    let base = if keep {
        current.data.clone()
    } else {
        PersonaData::default()
    };
    let data = crate::personas::validate(fields.apply(base))?;
    let now = now_ms();
    personas::update(&mut **tx, &user.id, id, &data, now).await?;
    tx.commit().await?;
    state.chat.forget_user(&user.id);
    let mut updated = current;
    updated.data = data;
    updated.updated_at = now;
    Ok(Json(views::persona(&updated)))
}

async fn replace(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(fields): ApiJson<Fields>,
) -> ApiResult<Json<Value>> {
    save(&state, &user, &id, fields, false).await
}

async fn amend(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(fields): ApiJson<Fields>,
) -> ApiResult<Json<Value>> {
    save(&state, &user, &id, fields, true).await
}

/// Deletes a persona and its conversation. The last persona cannot go; when the active
/// one goes, the oldest remaining becomes active.
async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.write().await?;
    if personas::get(&mut **tx, &user.id, &id).await?.is_none() {
        return Err(not_found());
    }
    if personas::count(&mut **tx, &user.id).await? <= 1 {
        return Err(ApiError::Conflict("You need at least one persona".into()));
    }
    personas::delete(&mut **tx, &user.id, &id).await?;
    if let Some(mut prefs) = preferences::get(&mut **tx, &user.id).await?
        && prefs.active_persona_id.as_deref().is_none_or(|a| a == id)
    {
        prefs.active_persona_id = personas::list(&mut **tx, &user.id)
            .await?
            .first()
            .map(|p| p.id.clone());
        prefs.updated_at = now_ms();
        preferences::upsert(&mut **tx, &prefs).await?;
    }
    tx.commit().await?;
    state.chat.forget_user(&user.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Imports a Character Card (V1, V2 or V3; JSON, or a PNG carrying one) as a new persona.
async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let card = cards::import(&body).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let data = crate::personas::validate(card.data)?;
    let persona = crate::personas::new_persona(&user.id, data);
    let mut tx = state.db.write().await?;
    if !crate::personas::has_room(&mut **tx, &user.id).await? {
        return Err(ApiError::Conflict(format!(
            "You already have {} personas",
            crate::personas::MAX_PER_USER
        )));
    }
    personas::insert(&mut **tx, &persona).await?;
    tx.commit().await?;
    let version = match card.version {
        CardVersion::V1 => "v1",
        CardVersion::V2 => "v2",
        CardVersion::V3 => "v3",
    };
    let mut body = views::persona(&persona);
    body["imported_from"] = json!(version);
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// `v3` (default), `v2`, or `png` (a portrait carrying the card, drawn by the active image
    /// plugin).
    format: Option<String>,
}

/// Exports a persona as a Character Card file.
async fn export(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let persona = personas::get(state.db.pool(), &user.id, &id)
        .await?
        .ok_or_else(not_found)?;
    let stem = file_stem(&persona.data.name);
    let version = match query.format.as_deref().unwrap_or("v3") {
        "v3" => CardVersion::V3,
        "v2" => CardVersion::V2,
        "png" => return export_png(&state, &persona, &stem).await,
        _ => {
            return Err(ApiError::Validation {
                field: "format",
                message: "must be `v2`, `v3` or `png`".into(),
            });
        }
    };
    let card = cards::export_json(&persona.data, version);
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{stem}.json\""),
        )],
        Json(card),
    )
        .into_response())
}

async fn export_png(
    state: &AppState,
    persona: &personas::Persona,
    stem: &str,
) -> ApiResult<Response> {
    let images = state.registry.current().images().map_err(|_| {
        ApiError::Unavailable("PNG cards need an image plugin; export the card as JSON".into())
    })?;
    let appearance = if persona.data.appearance.trim().is_empty() {
        persona.data.description.clone()
    } else {
        persona.data.appearance.clone()
    };
    let request = ImageRequest {
        prompt: format!("portrait of {}, {appearance}", persona.data.name),
        negative_prompt: Some("blurry, distorted, deformed, text, watermark".into()),
        seed: Some(persona.photo_seed as u64),
        width: 512,
        height: 512,
    };
    let portrait = images.draw(&request).await?;
    if portrait.image.content_type != "image/png" {
        return Err(ApiError::Unprocessable(format!(
            "The image plugin draws {} images and cards need PNG; export the card as JSON",
            portrait.image.content_type
        )));
    }
    let png = cards::embed_in_png(&portrait.image.data, &persona.data)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.png\""),
            ),
        ],
        png,
    )
        .into_response())
}

/// A safe file name from a persona's name.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if stem.trim_matches('_').is_empty() {
        "persona".into()
    } else {
        stem
    }
}
