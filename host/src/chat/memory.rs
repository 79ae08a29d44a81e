//! Rolling memory: once a conversation outgrows the history window by a batch, its oldest
//! messages are folded into a summary by the persona plugin (`summarize`). The summary is
//! sent with every later turn, and turns only carry the messages after it.
//!
//! Summarizing runs after the turn is stored, in the background, so a reply never waits for
//! it. A plugin that does not summarize (`unsupported`) leaves the plain window.

use std::sync::Arc;

use super::{Chat, ChatResult, bounds, wit_persona};
use crate::db::group_commit::MemoryUpdate;
use crate::db::memories::Memory;
use crate::db::messages::{self, Message};
use crate::db::personas::Persona;
use crate::plugins::CallError;
use crate::plugins::types::{self as wit, PluginError};

/// What the turn that found a conversation due knew about it: the fold needs nothing else
/// from the database but the messages it folds.
pub struct Snapshot {
    pub user_id: String,
    pub persona: Persona,
    pub mode: String,
    pub memory: Option<Memory>,
    /// The conversation's last `seq` after that turn.
    pub last_seq: i64,
    /// The messages to fold, when the turn's cache held them all; read otherwise.
    pub older: Option<Vec<Message>>,
}

/// How many messages a cached conversation keeps: the window, and a batch behind it.
pub fn cached_messages(config: &crate::config::AppConfig) -> usize {
    config.history_window as usize + config.summarize_batch.max(1) as usize
}

/// Whether a conversation whose memory covers up to `through_seq` and whose last message is
/// `last_seq` has a batch to fold. Sequence numbers are contiguous, so this needs no query.
pub fn due(config: &crate::config::AppConfig, through_seq: i64, last_seq: i64) -> bool {
    let batch = i64::from(config.summarize_batch.max(1));
    last_seq - through_seq >= i64::from(config.history_window) + batch
}

/// Starts folding in the background, unless this conversation is being folded already.
pub fn schedule(chat: Arc<Chat>, snapshot: Snapshot) {
    if let Ok(persona) = chat.registry().current().persona() {
        let sha = &persona.0.module().sha256;
        if chat
            .no_summaries()
            .lock()
            .expect("no summaries")
            .contains(sha)
        {
            return;
        }
    }
    let key = format!("{}/{}", snapshot.user_id, snapshot.persona.id);
    if !chat.folding().lock().expect("folding").insert(key.clone()) {
        return;
    }
    tokio::spawn(async move {
        let (user_id, persona_id) = (snapshot.user_id.clone(), snapshot.persona.id.clone());
        if let Err(err) = fold(&chat, snapshot).await {
            tracing::warn!(user = %user_id, persona = %persona_id, error = %err, "rolling memory not updated");
        }
        chat.folding().lock().expect("folding").remove(&key);
    });
}

/// Folds every message but the newest `history_window` into the memory. Returns whether
/// the memory changed.
pub async fn fold(chat: &Chat, snapshot: Snapshot) -> ChatResult<bool> {
    let Snapshot {
        user_id,
        persona,
        mode,
        memory,
        last_seq,
        older,
    } = snapshot;
    let db = chat.db();
    let after = memory.as_ref().map_or(0, |m| m.through_seq);
    let older = match older {
        Some(older) => older,
        None => {
            let through = last_seq - i64::from(chat.config().history_window);
            messages::range(db.pool(), &user_id, &persona.id, after, through).await?
        }
    };
    let Some(last_folded) = older.last().cloned() else {
        return Ok(false);
    };
    let request = wit::SummaryRequest {
        persona: wit_persona(&persona, None),
        mode: super::wit_mode(&mode),
        previous: memory.map(|m| bounds::bound_summary(m.summary, chat.config())),
        turns: bounds::window(
            &older,
            chat.config().max_history_bytes as usize,
            chat.config(),
        ),
    };
    let plugin = chat.registry().current().persona()?;
    let summary = match plugin.summarize(&request).await {
        Ok(summary) => summary,
        Err(CallError::Plugin {
            error: PluginError::Unsupported(_),
            ..
        }) => {
            chat.no_summaries()
                .lock()
                .expect("no summaries")
                .insert(plugin.0.module().sha256.clone());
            return Ok(false);
        }
        Err(err) => return Err(err.into()),
    };
    let memory = Memory {
        summary: bounds::bound_summary(summary, chat.config()),
        through_seq: last_folded.seq,
    };

    // Stored under the turn lock, and only if the last folded message is still what it was
    // (the statement checks): an edit meanwhile rewrote the conversation this summary
    // describes. The turn writer stores it, after the turns queued before it.
    let mut user = chat.users().lock(&user_id).await;
    let advanced = chat
        .writer()
        .advance_memory(MemoryUpdate {
            user_id: user_id.clone(),
            persona_id: persona.id.clone(),
            memory: memory.clone(),
            last_folded,
        })
        .await?;
    if advanced {
        user.remember_memory(&persona.id, memory);
    }
    Ok(advanced)
}
