//! `/messages`: the conversation, page by page, and editing a sent message.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser};
use super::views::{self, ErrorBody};
use crate::app::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(edit))
}

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// Another persona's conversation than the active one's.
    persona_id: Option<String>,
    /// The `next_cursor` of the previous page: messages before it.
    before: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

/// A page of the conversation, oldest first.
#[derive(Serialize, ToSchema)]
pub struct MessagePage<'a> {
    persona_id: String,
    messages: Vec<views::MessageView<'a>>,
    /// Fetches the page before this one; `null` at the start of the conversation.
    next_cursor: Option<String>,
}

/// The newest messages first loaded, oldest first within the page; `next_cursor` fetches the
/// page before, and is `null` at the start of the conversation.
#[utoipa::path(get, path = "/messages", tag = "chat", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, body = MessagePage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 422, description = "A bad limit or cursor", body = ErrorBody),
    ))]
async fn page(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> ApiResult<Response> {
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
    Ok(Json(MessagePage {
        persona_id,
        messages: views,
        next_cursor,
    })
    .into_response())
}

/// The new text of a message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MessageEdit)]
pub struct Edit {
    content: String,
}

/// Edits a message the user sent; the conversation continues from it with a new reply
/// (every later message is replaced).
#[utoipa::path(put, path = "/messages/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "A message the user sent")),
    request_body = Edit,
    responses(
        (status = 200, description = "The edited message and the new reply", body = super::chat::TurnView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 402, description = "Subscription required", body = ErrorBody),
        (status = 403, description = "Intimate mode without the 18+ confirmation, or not the user's message", body = ErrorBody),
        (status = 404, description = "No such message", body = ErrorBody),
        (status = 409, description = "The conversation changed meanwhile", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
        (status = 502, description = "The persona plugin failed", body = ErrorBody),
        (status = 503, description = "The persona is unavailable or busy", body = ErrorBody),
        (status = 504, description = "The persona took too long", body = ErrorBody),
    ))]
async fn edit(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Edit>,
) -> ApiResult<Response> {
    let done = state.chat.edit(&user.id, &id, &body.content).await?;
    Ok(Json(super::chat::turn(&done)).into_response())
}
