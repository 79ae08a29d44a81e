//! `/chat`: send a message (402 without a subscription), stream a reply, regenerate.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser, OptionalJson};
use super::views;
use crate::app::AppState;
use crate::chat::Turn;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/chat", post(send))
        .route("/chat/stream", post(stream))
        .route("/chat/regenerate", post(regenerate))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Send {
    message: String,
    /// Another persona than the active one.
    persona_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Regenerate {
    persona_id: Option<String>,
}

/// A stored turn as the API answers it: `{"message": ..., "reply": ...}`.
#[derive(Serialize)]
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
/// `done` event with the stored turn, or one `error` event (`{"detail": ..., "status": ...}`).
/// The turn runs in its own task: a client that goes away does not stop it, and the whole
/// reply is stored. The paywall and other refusals answer before the stream starts, as
/// plain JSON errors.
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
    tokio::spawn(async move {
        let result = chat
            .send_streaming(
                &user.id,
                body.persona_id.as_deref(),
                &body.message,
                deltas_tx,
            )
            .await;
        let _ = done_tx.send(result);
    });

    let deltas = futures::stream::unfold(deltas_rx, |mut rx| async move {
        rx.recv().await.map(|text| (text, rx))
    })
    .map(|text| {
        Event::default()
            .event("delta")
            .json_data(json!({ "text": text }))
    });
    let end = futures::stream::once(async move {
        match done_rx.await {
            Ok(Ok(done)) => Event::default().event("done").json_data(turn(&done)),
            Ok(Err(err)) => {
                let api: ApiError = err.into();
                let status = api.status().as_u16();
                Event::default()
                    .event("error")
                    .json_data(json!({ "detail": api.detail(), "status": status }))
            }
            Err(_) => Event::default()
                .event("error")
                .json_data(json!({ "detail": "The reply was interrupted", "status": 500 })),
        }
    });
    let events = deltas.chain(end).map(|event| {
        Ok::<_, Infallible>(event.unwrap_or_else(|_| Event::default().event("error")))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}
