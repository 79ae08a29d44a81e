//! Rolling memory: once a conversation outgrows the history window by a batch, its oldest
//! messages are folded into a summary by the persona plugin (`summarize`). The summary is
//! sent with every later turn, and turns only carry the messages after it.
//!
//! Summarizing runs after the turn is stored, in the background, so a reply never waits for
//! it. A plugin that does not summarize (`unsupported`) leaves the plain window.

use std::sync::Arc;

use super::{Chat, ChatResult, wit_persona};
use crate::db::{memories, messages, now_ms, personas, preferences};
use crate::plugins::CallError;
use crate::plugins::types::{self as wit, PluginError};

/// Starts folding in the background if the conversation needs it.
pub fn schedule(chat: Arc<Chat>, user_id: &str, persona_id: &str) {
    let (user_id, persona_id) = (user_id.to_string(), persona_id.to_string());
    tokio::spawn(async move {
        if let Err(err) = fold(&chat, &user_id, &persona_id).await {
            tracing::warn!(user = %user_id, persona = %persona_id, error = %err, "rolling memory not updated");
        }
    });
}

/// Folds the oldest messages beyond the window into the memory, when there are at least a
/// batch of them. Returns whether the memory changed.
pub async fn fold(chat: &Chat, user_id: &str, persona_id: &str) -> ChatResult<bool> {
    let db = chat.db();
    let window = i64::from(chat.config().history_window);
    let batch = i64::from(chat.config().summarize_batch.max(1));
    let memory = memories::get(db.pool(), user_id, persona_id).await?;
    let after = memory.as_ref().map_or(0, |m| m.through_seq);
    let pending = messages::count_after(db.pool(), user_id, persona_id, after).await?;
    if pending < window + batch {
        return Ok(false);
    }
    // Everything but the newest `window` messages goes into the memory.
    let fold_count = pending - window;
    let older = messages::range(db.pool(), user_id, persona_id, after, i64::MAX).await?;
    let Some(last_folded) = older.get(fold_count as usize - 1) else {
        return Ok(false);
    };
    let through_seq = last_folded.seq;
    let turns: Vec<wit::ChatMessage> = older[..fold_count as usize]
        .iter()
        .map(super::wit_message)
        .collect();

    let Some(persona) = personas::get(db.pool(), user_id, persona_id).await? else {
        return Ok(false);
    };
    let mode = preferences::get(db.pool(), user_id)
        .await?
        .map_or_else(|| "secretary".to_string(), |p| p.mode);
    let request = wit::SummaryRequest {
        persona: wit_persona(&persona, None),
        mode: super::wit_mode(&mode),
        previous: memory.map(|m| m.summary),
        turns,
    };
    let plugin = chat.registry().current().persona()?;
    let summary = match plugin.summarize(&request).await {
        Ok(summary) => summary,
        Err(CallError::Plugin {
            error: PluginError::Unsupported(_),
            ..
        }) => return Ok(false),
        Err(err) => return Err(err.into()),
    };
    let mut tx = db.write().await?;
    let advanced = memories::advance(
        &mut **tx,
        user_id,
        persona_id,
        &memories::Memory {
            summary,
            through_seq,
        },
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(advanced)
}
