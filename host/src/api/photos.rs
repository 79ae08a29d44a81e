//! `/photos`: the photos personas sent the user, their images, and live updates as they
//! become ready. Every route is the owner's only: another user's photo is not found.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::views::{self, ErrorBody, PhotoView};
use crate::app::AppState;
use crate::photos::PhotoError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(events))
        .routes(routes!(one))
        .routes(routes!(image))
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// The `next_cursor` of the previous page: photos older than it.
    before: Option<String>,
    /// 1–100, default 30.
    limit: Option<i64>,
}

/// A page of photos, newest first.
#[derive(Serialize, ToSchema)]
pub struct PhotoPage {
    photos: Vec<PhotoView>,
    /// Fetches older photos; `null` at the end.
    next_cursor: Option<String>,
}

/// The user's photos, newest first; `next_cursor` fetches older ones, `null` at the end.
#[utoipa::path(get, path = "/photos", tag = "photos", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, body = PhotoPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A bad limit", body = ErrorBody),
    ))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<PhotoPage>> {
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
    Ok(Json(PhotoPage {
        photos: photos.iter().map(views::photo).collect(),
        next_cursor,
    }))
}

/// One photo's metadata and status.
#[utoipa::path(get, path = "/photos/{id}", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PhotoView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such photo of this user", body = ErrorBody),
    ))]
async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<PhotoView>> {
    let photo = state.photos.get(&user.id, &id).await?;
    Ok(Json(views::photo(&photo)))
}

/// The image of a ready photo. It never changes once ready, so clients may keep it for good
/// (privately: it is the user's); a pending or failed photo answers 409.
#[utoipa::path(get, path = "/photos/{id}/image", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path), ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy held")),
    responses(
        (status = 200, description = "The image (`Cache-Control: private, immutable`, an ETag)", content_type = "image/*", body = Vec<u8>),
        (status = 304, description = "The copy held is current"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such photo of this user", body = ErrorBody),
        (status = 409, description = "Not ready yet, or failed", body = ErrorBody),
    ))]
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
#[utoipa::path(get, path = "/photos/events", tag = "photos", security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream",
            description = "Server-sent events: `photo` (data: Photo) when one of the user's photos becomes ready or failed; `resync` (data: `{}`) when the stream fell behind: list the photos again.",
            body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn events(State(state): State<AppState>, user: AuthUser) -> ApiResult<Response> {
    let receiver = state.photo_feed.subscribe();
    let photos = state.photos.clone();
    let user_id = user.id;
    let gauge = crate::telemetry::metrics::StreamGauge::open("photos");
    let mut stop = state.shutting_down.subscribe();
    let stopping = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
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
    .map(move |event| {
        // Counted as open for as long as the stream lives.
        let _ = &gauge;
        Ok::<_, Infallible>(event)
    });
    // A first comment puts the response's headers on the wire at once: the client knows it
    // is subscribed (and proxies see a live stream) before the first photo is ready.
    let opened = futures::stream::once(async { Ok(Event::default().comment("subscribed")) });
    // The stream ends when the server stops, so a shutdown need not wait for it (the
    // client reconnects to another replica).
    Ok(Sse::new(opened.chain(stream).take_until(stopping))
        .keep_alive(KeepAlive::default())
        .into_response())
}
