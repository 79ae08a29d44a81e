//! Chat: one turn of conversation with a persona plugin, the paywall, the history window
//! and the rolling memory. Handlers stay thin; everything a turn does happens here.

pub mod locks;
pub mod memory;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::accounts::validate::Invalid;
use crate::config::AppConfig;
use crate::db::messages::{self, Message};
use crate::db::personas::Persona;
use crate::db::{Db, DbError, memories, new_id, now_ms, personas, preferences, subscriptions};
use crate::plugins::types as wit;
use crate::plugins::{CallError, Registry};
use locks::TurnLocks;

/// Why a turn did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No active subscription, and the paywall is on.
    #[error("Subscription required")]
    PaymentRequired,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// The persona plugin failed; nothing was stored.
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub type ChatResult<T> = Result<T, ChatError>;

/// A completed turn: both messages are stored.
#[derive(Debug, Clone)]
pub struct Turn {
    pub user_message: Message,
    pub reply: Message,
}

/// How a turn asks the persona: in full, or streaming into a channel.
enum Delivery {
    Whole,
    Stream(mpsc::UnboundedSender<String>),
}

/// The chat service.
pub struct Chat {
    db: Db,
    registry: Arc<Registry>,
    config: AppConfig,
    locks: TurnLocks,
}

/// The conversation a turn belongs to.
struct Conversation {
    persona: Persona,
    mode: String,
    photos_allowed: bool,
    user_name: Option<String>,
    memory: Option<memories::Memory>,
}

impl Chat {
    pub fn new(db: Db, registry: Arc<Registry>, config: AppConfig) -> Arc<Self> {
        Arc::new(Self {
            db,
            registry,
            config,
            locks: TurnLocks::default(),
        })
    }

    /// Sends `text` to the persona (the active one unless `persona_id` names another) and
    /// stores the message and the reply together.
    pub async fn send(
        self: &Arc<Self>,
        user_id: &str,
        persona_id: Option<&str>,
        text: &str,
    ) -> ChatResult<Turn> {
        self.turn(user_id, persona_id, text, Delivery::Whole).await
    }

    /// Like [`send`](Self::send), streaming the reply into `sink` as it is produced. The
    /// turn completes and is stored even when `sink`'s receiver is gone.
    pub async fn send_streaming(
        self: &Arc<Self>,
        user_id: &str,
        persona_id: Option<&str>,
        text: &str,
        sink: mpsc::UnboundedSender<String>,
    ) -> ChatResult<Turn> {
        self.turn(user_id, persona_id, text, Delivery::Stream(sink))
            .await
    }

    /// Whether a turn with `text` could start now (message, paywall, persona), without
    /// calling the plugin: a stream checks this before it opens.
    pub async fn check(
        &self,
        user_id: &str,
        persona_id: Option<&str>,
        text: &str,
    ) -> ChatResult<()> {
        self.prepare(user_id, persona_id, Some(text))
            .await
            .map(|_| ())
    }

    /// Checks everything a turn needs before any plugin is called: the message, the
    /// paywall, the conversation.
    async fn prepare(
        &self,
        user_id: &str,
        persona_id: Option<&str>,
        text: Option<&str>,
    ) -> ChatResult<Conversation> {
        if let Some(text) = text {
            self.validate_message(text)?;
        }
        if self.config.paywall {
            let access = subscriptions::get(self.db.pool(), user_id)
                .await?
                .is_some_and(|s| s.grants_access());
            if !access {
                return Err(ChatError::PaymentRequired);
            }
        }
        let context = preferences::turn_context(self.db.pool(), user_id)
            .await?
            .ok_or(ChatError::NotFound("preferences"))?;
        if context.mode == "intimate" && context.adult_confirmed_at.is_none() {
            return Err(ChatError::Forbidden(
                "Intimate mode requires confirming you are 18 or older".into(),
            ));
        }
        let persona_id = persona_id
            .map(str::to_string)
            .or(context.active_persona_id)
            .ok_or(ChatError::NotFound("persona"))?;
        let persona = personas::get(self.db.pool(), user_id, &persona_id)
            .await?
            .ok_or(ChatError::NotFound("persona"))?;
        let memory = memories::get(self.db.pool(), user_id, &persona.id).await?;
        Ok(Conversation {
            persona,
            mode: context.mode,
            photos_allowed: context.photos_enabled != 0,
            user_name: context.display_name,
            memory,
        })
    }

    fn validate_message(&self, text: &str) -> Result<(), Invalid> {
        if text.trim().is_empty() {
            return Err(Invalid::new("message", "must not be empty"));
        }
        let max = self.config.max_message_chars as usize;
        if text.chars().count() > max {
            return Err(Invalid::new(
                "message",
                format!("must be at most {max} characters"),
            ));
        }
        Ok(())
    }

    async fn turn(
        self: &Arc<Self>,
        user_id: &str,
        persona_id: Option<&str>,
        text: &str,
        delivery: Delivery,
    ) -> ChatResult<Turn> {
        let conv = self.prepare(user_id, persona_id, Some(text)).await?;
        let _turn = self.locks.lock(user_id, &conv.persona.id).await;
        let after = conv.memory.as_ref().map_or(0, |m| m.through_seq);
        let history = messages::recent(
            self.db.pool(),
            user_id,
            &conv.persona.id,
            after,
            i64::from(self.config.history_window),
        )
        .await?;
        let reply = self.ask(&conv, &history, text, delivery).await?;

        let mut tx = self.db.write().await?;
        let last = messages::last_seq(&mut **tx, user_id, &conv.persona.id).await?;
        let user_message = self.message(user_id, &conv, last + 1, "user", text.trim(), None);
        let reply = self.message(
            user_id,
            &conv,
            last + 2,
            "assistant",
            &reply.text,
            reply.photo,
        );
        messages::insert(&mut **tx, &user_message).await?;
        messages::insert(&mut **tx, &reply).await?;
        tx.commit().await?;
        memory::schedule(self.clone(), user_id, &conv.persona.id);
        Ok(Turn {
            user_message,
            reply,
        })
    }

    /// Replaces the last reply with a new one to the same message.
    pub async fn regenerate(
        self: &Arc<Self>,
        user_id: &str,
        persona_id: Option<&str>,
    ) -> ChatResult<Turn> {
        let conv = self.prepare(user_id, persona_id, None).await?;
        let _turn = self.locks.lock(user_id, &conv.persona.id).await;
        let last_two = messages::recent(self.db.pool(), user_id, &conv.persona.id, 0, 2).await?;
        let [asked, answered] = last_two.as_slice() else {
            return Err(ChatError::Conflict(
                "There is no reply to regenerate yet".into(),
            ));
        };
        if asked.role != "user" || answered.role != "assistant" {
            return Err(ChatError::Conflict(
                "The last message is not a reply".into(),
            ));
        }
        self.rewrite(user_id, &conv, asked.clone(), asked.content.clone())
            .await
    }

    /// Changes the user's message `message_id` and continues the conversation from it: what
    /// came after is replaced by a new reply.
    pub async fn edit(
        self: &Arc<Self>,
        user_id: &str,
        message_id: &str,
        text: &str,
    ) -> ChatResult<Turn> {
        self.validate_message(text)?;
        let original = messages::get(self.db.pool(), user_id, message_id)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        if original.role != "user" {
            return Err(ChatError::Conflict(
                "Only your own messages can be edited".into(),
            ));
        }
        let conv = self
            .prepare(user_id, Some(&original.persona_id), None)
            .await?;
        let _turn = self.locks.lock(user_id, &conv.persona.id).await;
        // Re-read under the lock: another turn may have rewritten it meanwhile.
        let original = messages::get(self.db.pool(), user_id, message_id)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        self.rewrite(user_id, &conv, original, text.trim().to_string())
            .await
    }

    /// Answers `asked` (with `text`) again from the history before it, and replaces
    /// everything from `asked` on with the new pair.
    async fn rewrite(
        self: &Arc<Self>,
        user_id: &str,
        conv: &Conversation,
        asked: Message,
        text: String,
    ) -> ChatResult<Turn> {
        // A memory that covers the rewritten message describes a conversation that no
        // longer exists.
        let memory_valid = conv
            .memory
            .as_ref()
            .is_some_and(|m| m.through_seq < asked.seq);
        let after = if memory_valid {
            conv.memory.as_ref().map_or(0, |m| m.through_seq)
        } else {
            0
        };
        let history = messages::recent_before(
            self.db.pool(),
            user_id,
            &conv.persona.id,
            after,
            asked.seq,
            i64::from(self.config.history_window),
        )
        .await?;
        let conv_for_ask = Conversation {
            persona: conv.persona.clone(),
            mode: conv.mode.clone(),
            photos_allowed: conv.photos_allowed,
            user_name: conv.user_name.clone(),
            memory: if memory_valid {
                conv.memory.clone()
            } else {
                None
            },
        };
        let reply = self
            .ask(&conv_for_ask, &history, &text, Delivery::Whole)
            .await?;

        let mut tx = self.db.write().await?;
        messages::delete_from(&mut **tx, user_id, &conv.persona.id, asked.seq).await?;
        if !memory_valid {
            memories::forget_from(&mut **tx, user_id, &conv.persona.id, asked.seq).await?;
        }
        let mut user_message = self.message(user_id, conv, asked.seq, "user", &text, None);
        user_message.id = asked.id;
        user_message.created_at = asked.created_at;
        let reply = self.message(
            user_id,
            conv,
            asked.seq + 1,
            "assistant",
            &reply.text,
            reply.photo,
        );
        messages::insert(&mut **tx, &user_message).await?;
        messages::insert(&mut **tx, &reply).await?;
        tx.commit().await?;
        Ok(Turn {
            user_message,
            reply,
        })
    }

    /// Calls the active persona plugin.
    async fn ask(
        &self,
        conv: &Conversation,
        history: &[Message],
        text: &str,
        delivery: Delivery,
    ) -> ChatResult<wit::ChatReply> {
        let request = wit::ChatRequest {
            persona: wit_persona(&conv.persona, conv.user_name.as_deref()),
            mode: wit_mode(&conv.mode),
            user_name: conv.user_name.clone(),
            memory: conv.memory.as_ref().map(|m| m.summary.clone()),
            history: history.iter().map(wit_message).collect(),
            message: text.trim().to_string(),
            photos_allowed: conv.photos_allowed,
        };
        let persona = self.registry.current().persona()?;
        let mut reply = match delivery {
            Delivery::Whole => persona.reply(&request).await?,
            Delivery::Stream(sink) => persona.stream_reply(&request, sink).await?,
        };
        if !conv.photos_allowed {
            reply.photo = None;
        }
        Ok(reply)
    }

    fn message(
        &self,
        user_id: &str,
        conv: &Conversation,
        seq: i64,
        role: &str,
        content: &str,
        photo: Option<wit::PhotoRequest>,
    ) -> Message {
        Message {
            id: new_id(),
            user_id: user_id.to_string(),
            persona_id: conv.persona.id.clone(),
            seq,
            role: role.to_string(),
            content: content.to_string(),
            mode: conv.mode.clone(),
            photo_caption: photo.as_ref().and_then(|p| p.caption.clone()),
            photo_prompt: photo.map(|p| p.prompt),
            photo_id: None,
            created_at: now_ms(),
        }
    }

    /// A page of the conversation with `persona_id` (the active persona by default).
    pub async fn history(
        &self,
        user_id: &str,
        persona_id: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> ChatResult<(String, Vec<Message>)> {
        let persona_id = match persona_id {
            Some(id) => id.to_string(),
            None => preferences::get(self.db.pool(), user_id)
                .await?
                .and_then(|p| p.active_persona_id)
                .ok_or(ChatError::NotFound("persona"))?,
        };
        if personas::get(self.db.pool(), user_id, &persona_id)
            .await?
            .is_none()
        {
            return Err(ChatError::NotFound("persona"));
        }
        let page = messages::page(self.db.pool(), user_id, &persona_id, before, limit).await?;
        Ok((persona_id, page))
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub(crate) fn config(&self) -> &AppConfig {
        &self.config
    }
}

/// The persona as the plugin contract describes it, with the Character Card placeholders
/// `{{char}}` and `{{user}}` (any case, and the older `<BOT>`/`<USER>`) filled in, so no
/// plugin has to know the convention.
pub fn wit_persona(p: &Persona, user_name: Option<&str>) -> wit::Persona {
    let d = &p.data;
    let user = user_name.unwrap_or("you");
    let fill = |text: &str| fill_placeholders(text, &d.name, user);
    wit::Persona {
        id: p.id.clone(),
        name: d.name.clone(),
        style: d.style.clone(),
        description: fill(&d.description),
        personality: fill(&d.personality),
        scenario: fill(&d.scenario),
        greeting: fill(&d.greeting),
        example_dialogue: fill(&d.example_dialogue),
        system_prompt: fill(&d.system_prompt),
        post_history_instructions: fill(&d.post_history_instructions),
        appearance: fill(&d.appearance),
    }
}

/// Replaces `{{char}}`/`<BOT>` with `char` and `{{user}}`/`<USER>` with `user`.
pub fn fill_placeholders(text: &str, char: &str, user: &str) -> String {
    if !text.contains(['{', '<']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (pattern, value) in [
            ("{{char}}", char),
            ("{{user}}", user),
            ("<bot>", char),
            ("<user>", user),
        ] {
            if rest.len() >= pattern.len()
                && rest.is_char_boundary(pattern.len())
                && rest[..pattern.len()].eq_ignore_ascii_case(pattern)
            {
                out.push_str(value);
                rest = &rest[pattern.len()..];
                continue 'scan;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn wit_mode(mode: &str) -> wit::ChatMode {
    if mode == "intimate" {
        wit::ChatMode::Intimate
    } else {
        wit::ChatMode::Secretary
    }
}

fn wit_message(m: &Message) -> wit::ChatMessage {
    wit::ChatMessage {
        role: if m.role == "user" {
            wit::Role::User
        } else {
            wit::Role::Assistant
        },
        content: m.content.clone(),
        sent_at_ms: m.created_at as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::fill_placeholders;

    #[test]
    fn card_placeholders_are_filled_in_any_case() {
        assert_eq!(
            fill_placeholders(
                "{{char}} greets {{User}}. <BOT> smiles at <user>.",
                "Ava",
                "Sam"
            ),
            "Ava greets Sam. Ava smiles at Sam."
        );
        assert_eq!(
            fill_placeholders("no placeholders {x} <y>", "A", "B"),
            "no placeholders {x} <y>"
        );
        assert_eq!(
            fill_placeholders("héllo {{char}}", "Ava", "Sam"),
            "héllo Ava"
        );
    }
}
