//! `/messages`: the conversation, page by page, and editing a sent message.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser};
use super::views;
use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", get(page))
        .route("/messages/{id}", put(edit))
}

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    persona_id: Option<String>,
    /// The `next_cursor` of the previous page: messages before it.
    before: Option<String>,
    limit: Option<i64>,
}

/// The newest messages first loaded, oldest first within the page; `next_cursor` fetches the
/// page before, and is `null` at the start of the conversation.
async fn page(
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
    let before = match query.before.as_deref() {
        None => None,
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| ApiError::Validation {
            field: "before",
            message: "is not a cursor from this API".into(),
        })?),
    };
    let (persona_id, messages) = state
        .chat
        .history(&user.id, query.persona_id.as_deref(), before, limit)
        .await?;
    let next_cursor = match messages.first() {
        Some(first) if messages.len() as i64 == limit && first.seq > 1 => {
            Some(first.seq.to_string())
        }
        _ => None,
    };
    // The photos the page's replies send, with their state, in one query.
    let photo_ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.photo_id.as_deref())
        .collect();
    let photos = state.photos.by_ids(&user.id, &photo_ids).await?;
    let views: Vec<views::MessageView> = messages
        .iter()
        .map(|m| views::message_with_photo(m, m.photo_id.as_ref().and_then(|id| photos.get(id))))
        .collect();
    Ok(Json(json!({
        "persona_id": persona_id,
        "messages": views,
        "next_cursor": next_cursor,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    content: String,
}

/// Edits a message the user sent; the conversation continues from it with a new reply.
async fn edit(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Edit>,
) -> ApiResult<Response> {
    let done = state.chat.edit(&user.id, &id, &body.content).await?;
    Ok(Json(super::chat::turn(&done)).into_response())
}
