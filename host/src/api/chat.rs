//! `/chat`: send a message (402 without a subscription), stream a reply, regenerate.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser, OptionalJson};
use super::views::{self, ErrorBody};
use crate::app::AppState;
use crate::chat::Turn;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send))
        .routes(routes!(stream))
        .routes(routes!(regenerate))
}

/// A message to the persona.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChatSend)]
pub struct Send {
    message: String,
    /// Another persona than the active one.
    persona_id: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChatRegenerate)]
pub struct Regenerate {
    persona_id: Option<String>,
}

/// A `delta` event of `/chat/stream`: the next piece of the reply.
#[derive(Serialize, ToSchema)]
pub struct ChatStreamDelta<'a> {
    text: &'a str,
}

/// An `error` event of `/chat/stream`: the turn failed after the stream began.
#[derive(Serialize, ToSchema)]
pub struct ChatStreamError {
    detail: String,
    /// The HTTP status the same failure answers outside a stream.
    status: u16,
    /// Seconds to wait before trying again, when known: what the same failure sends as
    /// `Retry-After` outside a stream (a busy plugin, an upstream's rate limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

/// A stored turn as the API answers it: `{"message": ..., "reply": ...}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Turn)]
pub struct TurnView<'a> {
    message: views::MessageView<'a>,
    reply: views::MessageView<'a>,
}

pub fn turn(turn: &Turn) -> TurnView<'_> {
    TurnView {
        message: views::message(&turn.user_message),
        reply: views::message(&turn.reply),
    }
}

/// Sends a message and answers with the stored turn (the message and the persona's reply).
#[utoipa::path(post, path = "/chat", tag = "chat", security(("bearer" = [])), request_body = Send,
    responses(
        (status = 200, body = TurnView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 402, description = "Subscription required", body = ErrorBody),
        (status = 403, description = "Intimate mode without the 18+ confirmation", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 422, description = "Empty or too long, or refused by the persona", body = ErrorBody),
        (status = 502, description = "The persona plugin failed", body = ErrorBody),
        (status = 503, description = "The persona is unavailable or busy; see Retry-After", body = ErrorBody),
        (status = 504, description = "The persona took too long", body = ErrorBody),
    ))]
async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<Send>,
) -> ApiResult<Response> {
    let done = state
        .chat
        .send(&user.id, body.persona_id.as_deref(), &body.message)
        .await?;
    Ok(Json(turn(&done)).into_response())
}

/// Replaces the persona's last reply with a new one.
#[utoipa::path(post, path = "/chat/regenerate", tag = "chat", security(("bearer" = [])),
    request_body(content = Option<Regenerate>, description = "Optional: another persona than the active one"),
    responses(
        (status = 200, body = TurnView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 402, description = "Subscription required", body = ErrorBody),
        (status = 403, description = "Intimate mode without the 18+ confirmation", body = ErrorBody),
        (status = 404, description = "No reply to regenerate, or no such persona", body = ErrorBody),
        (status = 409, description = "The conversation changed meanwhile", body = ErrorBody),
        (status = 502, description = "The persona plugin failed", body = ErrorBody),
        (status = 503, description = "The persona is unavailable or busy", body = ErrorBody),
        (status = 504, description = "The persona took too long", body = ErrorBody),
    ))]
async fn regenerate(
    State(state): State<AppState>,
    user: AuthUser,
    OptionalJson(body): OptionalJson<Regenerate>,
) -> ApiResult<Response> {
    let done = state
        .chat
        .regenerate(&user.id, body.persona_id.as_deref())
        .await?;
    Ok(Json(turn(&done)).into_response())
}

/// Server-sent events: `delta` events (`{"text": "..."}`) while the persona writes, then one
/// `done` event with the stored turn, or one `error` event (`{"detail": ..., "status": ...,
/// "retry_after"?: seconds}`).
/// The turn runs in its own task: a client that goes away does not stop it, and the whole
/// reply is stored. The paywall and other refusals answer before the stream starts, as
/// plain JSON errors.
#[utoipa::path(post, path = "/chat/stream", tag = "chat", security(("bearer" = [])), request_body = Send,
    responses(
        (status = 200, content_type = "text/event-stream",
            description = "Server-sent events: `delta` (data: ChatStreamDelta) while the persona writes, then one `done` (data: Turn, the stored turn) or one `error` (data: ChatStreamError). The turn is stored even if the client goes away.",
            body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 402, description = "Subscription required", body = ErrorBody),
        (status = 403, description = "Intimate mode without the 18+ confirmation", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    ))]
async fn stream(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<Send>,
) -> ApiResult<Response> {
    // Refusals that need no plugin answer as ordinary errors (402, 404, 422).
    state
        .chat
        .check(&user.id, body.persona_id.as_deref(), &body.message)
        .await?;

    let (deltas_tx, deltas_rx) = mpsc::unbounded_channel::<String>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let chat = Arc::clone(&state.chat);
    // The turn runs on after the handler returns: it keeps the request's error-report scope
    // (route, request id) for a plugin fault it meets.
    let turn_task = async move {
        let result = chat
            .send_streaming(
                &user.id,
                body.persona_id.as_deref(),
                &body.message,
                deltas_tx,
            )
            .await;
        let _ = done_tx.send(result);
    };
    tokio::spawn(sentry::SentryFutureExt::bind_hub(
        turn_task,
        sentry::Hub::current(),
    ));
    let gauge = crate::telemetry::metrics::StreamGauge::open("chat");

    let deltas = futures::stream::unfold(deltas_rx, |mut rx| async move {
        rx.recv().await.map(|text| (text, rx))
    })
    .map(|text| {
        Event::default()
            .event("delta")
            .json_data(ChatStreamDelta { text: &text })
    });
    let end = futures::stream::once(async move {
        let _gauge = gauge;
        match done_rx.await {
            Ok(Ok(done)) => Event::default().event("done").json_data(turn(&done)),
            Ok(Err(err)) => {
                let (status, detail, retry_after) = ApiError::from(err).parts();
                Event::default().event("error").json_data(ChatStreamError {
                    detail,
                    status: status.as_u16(),
                    retry_after,
                })
            }
            Err(_) => Event::default().event("error").json_data(ChatStreamError {
                detail: "The reply was interrupted".into(),
                status: 500,
                retry_after: None,
            }),
        }
    });
    let events = deltas.chain(end).map(|event| {
        Ok::<_, Infallible>(event.unwrap_or_else(|_| Event::default().event("error")))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}
