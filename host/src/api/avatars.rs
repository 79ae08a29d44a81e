//! `/avatars`: the user's personas. Another user's persona is always 404.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser, RawBody};
use super::views::{self, ErrorBody, PersonaView};
use crate::app::AppState;
use crate::db::personas::PersonaData;
use crate::db::{now_ms, personas, preferences};
use crate::personas::cards::{self, CardVersion};
use crate::plugins::types::ImageRequest;

pub fn router() -> OpenApiRouter<AppState> {
    let import = OpenApiRouter::new()
        .routes(routes!(import))
        .layer(DefaultBodyLimit::max(cards::MAX_PNG_BYTES + 1024));
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, replace, amend, remove))
        .routes(routes!(export))
        .merge(import)
}

/// The user's personas.
#[derive(Serialize, ToSchema)]
pub struct PersonaList {
    avatars: Vec<PersonaView>,
}

fn not_found() -> ApiError {
    ApiError::NotFound("Persona not found".into())
}

/// The user's personas, oldest first.
#[utoipa::path(get, path = "/avatars", tag = "personas", security(("bearer" = [])),
    responses(
        (status = 200, body = PersonaList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn list(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<PersonaList>> {
    let all = personas::list(state.db.pool(), &user.id).await?;
    Ok(Json(PersonaList {
        avatars: all.iter().map(views::persona).collect(),
    }))
}

/// The editable fields; omitted ones take their defaults (create, replace) or keep their
/// value (amend).
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PersonaFields)]
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

/// Creates a persona.
#[utoipa::path(post, path = "/avatars", tag = "personas", security(("bearer" = [])),
    request_body = Fields,
    responses(
        (status = 201, body = PersonaView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "The user has the most personas allowed", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`field` names it)", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(fields): ApiJson<Fields>,
) -> ApiResult<(StatusCode, Json<PersonaView>)> {
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

/// One persona.
#[utoipa::path(get, path = "/avatars/{id}", tag = "personas", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PersonaView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona of this user", body = ErrorBody),
    ))]
async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonaView>> {
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
) -> ApiResult<Json<PersonaView>> {
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

/// Replaces every field (omitted ones take their defaults).
#[utoipa::path(put, path = "/avatars/{id}", tag = "personas", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Fields,
    responses(
        (status = 200, body = PersonaView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona of this user", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`field` names it)", body = ErrorBody),
    ))]
async fn replace(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(fields): ApiJson<Fields>,
) -> ApiResult<Json<PersonaView>> {
    save(&state, &user, &id, fields, false).await
}

/// Changes the fields given (omitted ones keep their value).
#[utoipa::path(patch, path = "/avatars/{id}", tag = "personas", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Fields,
    responses(
        (status = 200, body = PersonaView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona of this user", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`field` names it)", body = ErrorBody),
    ))]
async fn amend(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(fields): ApiJson<Fields>,
) -> ApiResult<Json<PersonaView>> {
    save(&state, &user, &id, fields, true).await
}

/// Deletes a persona and its conversation. The last persona cannot go; when the active
/// one goes, the oldest remaining becomes active.
#[utoipa::path(delete, path = "/avatars/{id}", tag = "personas", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted, with its conversation"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona of this user", body = ErrorBody),
        (status = 409, description = "The last persona cannot be deleted", body = ErrorBody),
    ))]
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
#[utoipa::path(post, path = "/avatars/import", tag = "personas", security(("bearer" = [])),
    request_body(content = Vec<u8>, description = "The card file's bytes: JSON, or a PNG with a `chara`/`ccv3` text chunk",
        content(
            (Vec<u8> = "application/json"),
            (Vec<u8> = "image/png"),
        )),
    responses(
        (status = 201, description = "The new persona, with `imported_from`", body = PersonaView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "The user has the most personas allowed", body = ErrorBody),
        (status = 413, description = "The file is too large", body = ErrorBody),
        (status = 422, description = "Not a card this host can read, or a field breaks a rule", body = ErrorBody),
    ))]
async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<PersonaView>)> {
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
    body.imported_from = Some(version);
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `v3` (default), `v2`, or `png` (a portrait carrying the card, drawn by the active image
    /// plugin).
    format: Option<String>,
}

/// Exports a persona as a Character Card file.
#[utoipa::path(get, path = "/avatars/{id}/export", tag = "personas", security(("bearer" = [])),
    params(("id" = String, Path), ExportQuery),
    responses(
        (status = 200, description = "The card, as an attachment: JSON (`v2`, `v3`) or a PNG portrait carrying it (`png`)",
            content(
                (Object = "application/json"),
                (Vec<u8> = "image/png"),
            )),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona of this user", body = ErrorBody),
        (status = 422, description = "A bad format, or the image plugin draws no PNG", body = ErrorBody),
        (status = 502, description = "The image plugin failed", body = ErrorBody),
        (status = 503, description = "No image plugin for a PNG card", body = ErrorBody),
        (status = 504, description = "The image plugin took too long", body = ErrorBody),
    ))]
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
