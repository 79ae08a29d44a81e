//! `/photos`: the photos personas sent the user, their images, and live updates as they
//! become ready. Every route is the owner's only: another user's photo is not found.

use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::views;
use crate::app::AppState;
use crate::photos::PhotoError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/photos", get(list))
        .route("/photos/events", get(events))
        .route("/photos/{id}", get(one))
        .route("/photos/{id}/image", get(image))
}

const DEFAULT_PAGE: i64 = 30;
const MAX_PAGE: i64 = 100;

impl From<PhotoError> for ApiError {
    fn from(e: PhotoError) -> Self {
        match e {
            PhotoError::NotFound => Self::NotFound("Photo not found".into()),
            PhotoError::NotReady(status) => Self::Conflict(match status.as_str() {
                "failed" => "The photo could not be generated".to_string(),
                _ => "The photo is not ready yet".to_string(),
            }),
            PhotoError::Db(db) => db.into(),
            PhotoError::Storage(err) => Self::Internal(err.to_string()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// The `next_cursor` of the previous page: photos older than it.
    before: Option<String>,
    limit: Option<i64>,
}

/// The user's photos, newest first; `next_cursor` fetches older ones, `null` at the end.
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation {
            field: "limit",
            message: format!("must be between 1 and {MAX_PAGE}"),
        });
    }
    let photos = state
        .photos
        .list(&user.id, query.before.as_deref(), limit)
        .await?;
    let next_cursor = match photos.last() {
        Some(last) if photos.len() as i64 == limit => Some(last.id.clone()),
        _ => None,
    };
    Ok(Json(json!({
        "photos": photos.iter().map(views::photo).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// One photo's metadata and status.
async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let photo = state.photos.get(&user.id, &id).await?;
    Ok(Json(views::photo(&photo)))
}

/// The image of a ready photo. It never changes once ready, so clients may keep it for good
/// (privately: it is the user's); a pending or failed photo answers 409.
async fn image(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let photo = state.photos.get(&user.id, &id).await?;
    let etag = format!("\"{}-{}\"", photo.id, photo.byte_size.unwrap_or_default());
    let cache = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
    ];
    if photo.status == "ready"
        && headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let bytes = state.photos.image(&photo).await?;
    let content_type = photo
        .content_type
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        [(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        )],
        cache,
        bytes,
    )
        .into_response())
}

/// Server-sent events for the signed-in user: a `photo` event (the photo as `GET
/// /photos/{id}` shows it) each time one of their photos becomes ready or failed, and a
/// `resync` event when this stream fell behind and missed some (list the photos again).
async fn events(State(state): State<AppState>, user: AuthUser) -> ApiResult<Response> {
    let receiver = state.photo_feed.subscribe();
    let photos = state.photos.clone();
    let user_id = user.id;
    let stream = futures::stream::unfold(receiver, move |mut rx| {
        let user_id = user_id.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(event) if event.user_id == user_id => return Some((Some(event), rx)),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => return Some((None, rx)),
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
    .then(move |event| {
        let photos = photos.clone();
        async move {
            let Some(event) = event else {
                return Event::default().event("resync").data("{}");
            };
            // The row, not the event, is what the SPA sees: the same view as GET /photos/{id}.
            match photos.get(&event.user_id, &event.photo_id).await {
                Ok(photo) => Event::default()
                    .event("photo")
                    .id(format!("{}:{}", photo.id, photo.updated_at))
                    .json_data(views::photo(&photo))
                    .unwrap_or_else(|_| Event::default().event("resync").data("{}")),
                Err(_) => Event::default().event("resync").data("{}"),
            }
        }
    })
    .map(Ok::<_, Infallible>);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
