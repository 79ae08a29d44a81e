//! Chat: one turn of conversation with a persona plugin, the paywall, the history window
//! and the rolling memory. Handlers stay thin; everything a turn does happens here.

pub mod bounds;
pub mod memory;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::accounts::validate::Invalid;
use crate::config::AppConfig;
use crate::db::group_commit::{self, TurnRows, TurnWriter};
use crate::db::memories::Memory;
use crate::db::messages::{self, Message};
use crate::db::personas::Persona;
use crate::db::photos::Photo;
use crate::db::preferences::TurnContext;
use crate::db::{Db, DbError, memories, new_id, now_ms, personas, preferences, subscriptions};
use crate::jobs::{NewJob, Queue};
use crate::plugins::types as wit;
use crate::plugins::{CallError, Registry};
use state::{ConversationState, UserStates};

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
    users: UserStates,
    writer: TurnWriter,
    /// Conversations whose memory is being folded now (`user/persona`), so a burst of
    /// turns starts one summary, not one each.
    folding: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Persona binaries (by SHA-256) that answered `summarize` with `unsupported`: not
    /// asked again, or a conversation past the window would ask on every turn.
    no_summaries: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Where a turn's photo jobs go: told once they are committed with the turn.
    jobs: Arc<dyn Queue>,
}

/// The job kind that draws a photo (handled by `plugins/photo-job`).
pub const PHOTO_JOB: &str = "photo.generate";

/// What the persona is told about the conversation besides its history.
#[derive(Clone, Copy)]
struct Conversation<'a> {
    persona: &'a Persona,
    mode: &'a str,
    photos_allowed: bool,
    user_name: Option<&'a str>,
    memory: Option<&'a Memory>,
}

impl<'a> Conversation<'a> {
    fn new(context: &'a TurnContext, persona: &'a Persona, memory: Option<&'a Memory>) -> Self {
        Self {
            persona,
            mode: &context.mode,
            photos_allowed: context.photos_enabled != 0,
            user_name: context.display_name.as_deref(),
            memory,
        }
    }
}

impl Chat {
    /// The service; starts its writer task, so call it inside the runtime.
    pub fn new(
        db: Db,
        registry: Arc<Registry>,
        config: AppConfig,
        jobs: Arc<dyn Queue>,
    ) -> Arc<Self> {
        let users = UserStates::new(
            Duration::from_secs(u64::from(config.cache_seconds)),
            u64::from(config.cache_users),
        );
        Arc::new(Self {
            writer: TurnWriter::start(db.clone()),
            db,
            registry,
            config,
            users,
            folding: Default::default(),
            no_summaries: Default::default(),
            jobs,
        })
    }

    /// Drops what this process remembers about `user_id`'s preferences, subscription,
    /// personas and conversations. Whoever changes those other than through a turn calls it.
    pub fn forget_user(&self, user_id: &str) {
        self.users.forget(user_id);
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
        self.validate_message(text)?;
        self.prepare(user_id, persona_id).await.map(|_| ())
    }

    /// The user's turn context from the database.
    async fn load_context(&self, user_id: &str) -> ChatResult<TurnContext> {
        preferences::turn_context(self.db.pool(), user_id)
            .await?
            .ok_or(ChatError::NotFound("preferences"))
    }

    /// The paywall and the intimate-mode gate.
    fn admit(&self, context: &TurnContext) -> ChatResult<()> {
        if self.config.paywall
            && !context
                .subscription_status
                .as_deref()
                .is_some_and(subscriptions::status_grants_access)
        {
            return Err(ChatError::PaymentRequired);
        }
        if context.mode == "intimate" && context.adult_confirmed_at.is_none() {
            return Err(ChatError::Forbidden(
                "Intimate mode requires confirming you are 18 or older".into(),
            ));
        }
        Ok(())
    }

    /// Everything a turn needs before any plugin is called, read from the database: the
    /// admitted context, the persona and its memory.
    async fn prepare(
        &self,
        user_id: &str,
        persona_id: Option<&str>,
    ) -> ChatResult<(TurnContext, Persona, Option<Memory>)> {
        let context = self.load_context(user_id).await?;
        self.admit(&context)?;
        let persona_id = persona_id
            .or(context.active_persona_id.as_deref())
            .ok_or(ChatError::NotFound("persona"))?;
        let (persona, memory) = personas::get_with_memory(self.db.pool(), user_id, persona_id)
            .await?
            .ok_or(ChatError::NotFound("persona"))?;
        Ok((context, persona, memory))
    }

    /// A conversation as a turn needs it, from the database.
    async fn load_conversation(
        &self,
        user_id: &str,
        persona_id: &str,
    ) -> ChatResult<ConversationState> {
        let pool = self.db.pool();
        let (persona, memory) = personas::get_with_memory(pool, user_id, persona_id)
            .await?
            .ok_or(ChatError::NotFound("persona"))?;
        let after = memory.as_ref().map_or(0, |m| m.through_seq);
        // The window and the batch behind it, so the next fold reads nothing.
        let window: Vec<Message> = messages::recent(
            pool,
            user_id,
            persona_id,
            after,
            memory::cached_messages(&self.config) as i64,
        )
        .await?
        .into_iter()
        .map(|m| bounds::bound_loaded(m, &self.config))
        .collect();
        // The window holds the newest messages; only an empty one needs asking.
        let last_seq = match window.last() {
            Some(m) => m.seq,
            None => messages::last_seq(pool, user_id, persona_id).await?,
        };
        Ok(ConversationState::new(persona, memory, window, last_seq))
    }

    /// Whether a cached conversation still ends where the database's does, asked before a
    /// streamed turn calls the persona. Other replicas write the same conversations (a user
    /// on two devices can be routed to two), and a stream on a stale cache would lose the
    /// race for its `seq` only after the user had read the reply: a 409 then, and a paid model
    /// call thrown away. Whole turns are not checked: asking on each one cost PostgreSQL more
    /// than the turn's own writes in the topology bench (docs/BENCHMARKS.md), and a whole turn
    /// that races reloads and answers again before anyone has seen a reply.
    async fn still_current(
        &self,
        user_id: &str,
        conv: &ConversationState,
        delivery: &Delivery,
    ) -> ChatResult<bool> {
        if matches!(delivery, Delivery::Whole) {
            return Ok(true);
        }
        let stored = messages::last_seq(self.db.pool(), user_id, &conv.persona.id).await?;
        Ok(stored == conv.last_seq)
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
        self.validate_message(text)?;
        let mut user = self.users.lock(user_id).await;
        // A refusal is never answered from the cache: it is read again first.
        let context = match user.context().filter(|c| self.admit(c).is_ok()) {
            Some(context) => context.clone(),
            None => {
                let context = self.load_context(user_id).await?;
                self.admit(&context)?;
                user.set_context(context.clone());
                context
            }
        };
        let persona_id = persona_id
            .or(context.active_persona_id.as_deref())
            .ok_or(ChatError::NotFound("persona"))?
            .to_string();

        let window = self.config.history_window as usize;
        let mut raced = false;
        loop {
            let cached = match user.take_conversation(&persona_id) {
                Some(conv) if self.still_current(user_id, &conv, &delivery).await? => Some(conv),
                _ => None,
            };
            let mut conv = match cached {
                Some(conv) => conv,
                None => self.load_conversation(user_id, &persona_id).await?,
            };
            let about = Conversation::new(&context, &conv.persona, conv.memory.as_ref());
            let reply = self
                .ask(about, conv.recent(window), text, &delivery)
                .await?;
            let rows = self.turn_rows(
                user_id,
                about,
                conv.last_seq + 1,
                text.trim(),
                reply.text.as_str(),
                reply.photo.clone(),
            );
            match self.writer.write(rows).await {
                Ok(rows) => {
                    self.committed(&rows);
                    let pair = rows.messages;
                    conv.push(&pair, memory::cached_messages(&self.config));
                    let through = conv.memory.as_ref().map_or(0, |m| m.through_seq);
                    let fold = memory::due(&self.config, through, conv.last_seq).then(|| {
                        memory::Snapshot {
                            user_id: user_id.to_string(),
                            persona: conv.persona.clone(),
                            mode: context.mode.clone(),
                            memory: conv.memory.clone(),
                            last_seq: conv.last_seq,
                            older: conv.unfolded_through(conv.last_seq - window as i64),
                        }
                    });
                    user.put_conversation(conv);
                    drop(user);
                    if let Some(snapshot) = fold {
                        memory::schedule(self.clone(), snapshot);
                    }
                    let [user_message, reply]: [Message; 2] =
                        pair.try_into().expect("the writer returns what it stored");
                    return Ok(Turn {
                        user_message,
                        reply,
                    });
                }
                // Another replica added to this conversation since it was cached: reload
                // and answer again, once. A stream has already shown its reply, so it
                // cannot be answered again.
                Err(err)
                    if err.is_unique_violation()
                        && !raced
                        && matches!(delivery, Delivery::Whole) =>
                {
                    raced = true;
                }
                Err(err) if err.is_unique_violation() => {
                    return Err(ChatError::Conflict(
                        "The conversation changed meanwhile; send the message again".into(),
                    ));
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Replaces the last reply with a new one to the same message.
    pub async fn regenerate(
        self: &Arc<Self>,
        user_id: &str,
        persona_id: Option<&str>,
    ) -> ChatResult<Turn> {
        let mut user = self.users.lock(user_id).await;
        let (context, persona, memory) = self.prepare(user_id, persona_id).await?;
        drop(user.take_conversation(&persona.id));
        let last_two = messages::recent(self.db.pool(), user_id, &persona.id, 0, 2).await?;
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
        let about = Conversation::new(&context, &persona, memory.as_ref());
        self.rewrite(user_id, about, asked.clone(), asked.content.clone())
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
        let mut user = self.users.lock(user_id).await;
        let original = messages::get(self.db.pool(), user_id, message_id)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        if original.role != "user" {
            return Err(ChatError::Conflict(
                "Only your own messages can be edited".into(),
            ));
        }
        let (context, persona, memory) = self.prepare(user_id, Some(&original.persona_id)).await?;
        drop(user.take_conversation(&persona.id));
        let about = Conversation::new(&context, &persona, memory.as_ref());
        self.rewrite(user_id, about, original, text.trim().to_string())
            .await
    }

    /// Answers `asked` (with `text`) again from the history before it, and replaces
    /// everything from `asked` on with the new pair. The caller holds the turn lock.
    async fn rewrite(
        self: &Arc<Self>,
        user_id: &str,
        about: Conversation<'_>,
        asked: Message,
        text: String,
    ) -> ChatResult<Turn> {
        // A memory that covers the rewritten message describes a conversation that no
        // longer exists.
        let memory = about.memory.filter(|m| m.through_seq < asked.seq);
        let history = messages::recent_before(
            self.db.pool(),
            user_id,
            &about.persona.id,
            memory.map_or(0, |m| m.through_seq),
            asked.seq,
            i64::from(self.config.history_window),
        )
        .await?;
        let about = Conversation { memory, ..about };
        let reply = self.ask(about, &history, &text, &Delivery::Whole).await?;

        let mut rows = self.turn_rows(user_id, about, asked.seq, &text, &reply.text, reply.photo);
        rows.messages[0].id = asked.id;
        rows.messages[0].created_at = asked.created_at;
        let backend = self.db.backend();
        let mut tx = self.db.write().await?;
        messages::delete_from(&mut **tx, user_id, &about.persona.id, asked.seq).await?;
        if memory.is_none() {
            memories::forget_from(&mut **tx, user_id, &about.persona.id, asked.seq).await?;
        }
        group_commit::insert_turn(&mut tx, backend, &rows).await?;
        tx.commit().await?;
        self.committed(&rows);
        let [user_message, reply]: [Message; 2] =
            rows.messages.try_into().expect("a turn is two messages");
        Ok(Turn {
            user_message,
            reply,
        })
    }

    /// The rows of a turn: the user's message at `seq`, the reply after it, and when the
    /// reply sends a photo, the `pending` photo and the job that draws it.
    fn turn_rows(
        &self,
        user_id: &str,
        about: Conversation<'_>,
        seq: i64,
        text: &str,
        reply_text: &str,
        photo: Option<wit::PhotoRequest>,
    ) -> TurnRows {
        let asked = self.message(user_id, about, seq, "user", text);
        let mut reply = self.message(user_id, about, seq + 1, "assistant", reply_text);
        let Some(request) = photo.filter(|p| !p.prompt.trim().is_empty()) else {
            return TurnRows::messages(vec![asked, reply]);
        };
        let now = now_ms();
        let photo_id = new_id();
        let job = NewJob::new(
            PHOTO_JOB,
            serde_json::json!({ "photo_id": photo_id }).to_string(),
        );
        reply.photo_prompt = Some(request.prompt.clone());
        reply.photo_caption = request.caption.clone();
        reply.photo_id = Some(photo_id.clone());
        let photo = Photo {
            id: photo_id,
            user_id: user_id.to_string(),
            persona_id: about.persona.id.clone(),
            message_id: Some(reply.id.clone()),
            status: "pending".into(),
            prompt: request.prompt,
            negative_prompt: request.negative_prompt,
            caption: request.caption,
            seed: about.persona.photo_seed,
            width: i64::from(self.config.photo_width),
            height: i64::from(self.config.photo_height),
            content_type: None,
            byte_size: None,
            storage_key: None,
            provider: None,
            model: None,
            failure_reason: None,
            job_id: Some(job.id.clone()),
            created_at: now,
            updated_at: now,
        };
        TurnRows {
            messages: vec![asked, reply],
            photos: vec![photo],
            jobs: vec![job],
        }
    }

    /// Wakes the queue for the jobs a turn just committed.
    fn committed(&self, rows: &TurnRows) {
        if !rows.jobs.is_empty() {
            metrics::counter!("ava_photos_requested_total").increment(rows.jobs.len() as u64);
            self.jobs.committed();
        }
    }

    /// Calls the active persona plugin.
    async fn ask(
        &self,
        about: Conversation<'_>,
        history: &[Message],
        text: &str,
        delivery: &Delivery,
    ) -> ChatResult<wit::ChatReply> {
        let max_reply = self.config.max_reply_chars as usize;
        let request = wit::ChatRequest {
            persona: wit_persona(about.persona, about.user_name),
            mode: wit_mode(about.mode),
            user_name: about.user_name.map(str::to_string),
            memory: about
                .memory
                .map(|m| crate::text::cut(&m.summary, max_reply).into_owned()),
            history: bounds::window(
                history,
                self.config.max_history_bytes as usize,
                &self.config,
            ),
            message: text.trim().to_string(),
            photos_allowed: about.photos_allowed,
        };
        let persona = self.registry.current().persona()?;
        let mut reply = match delivery {
            Delivery::Whole => persona.reply(&request).await?,
            Delivery::Stream(sink) => persona.stream_reply(&request, sink.clone()).await?,
        };
        if !about.photos_allowed {
            reply.photo = None;
        }
        if bounds::bound_reply(&mut reply, &self.config) {
            tracing::warn!(
                plugin = persona.name(),
                max_reply_chars = max_reply,
                "a reply over app.max_reply_chars was cut before it was stored"
            );
            metrics::counter!("ava_chat_replies_cut_total", "plugin" => persona.name().to_string())
                .increment(1);
        }
        Ok(reply)
    }

    fn message(
        &self,
        user_id: &str,
        about: Conversation<'_>,
        seq: i64,
        role: &str,
        content: &str,
    ) -> Message {
        Message {
            id: new_id(),
            user_id: user_id.to_string(),
            persona_id: about.persona.id.clone(),
            seq,
            role: role.to_string(),
            content: content.to_string(),
            mode: about.mode.to_string(),
            photo_caption: None,
            photo_prompt: None,
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

    pub(crate) fn users(&self) -> &UserStates {
        &self.users
    }

    pub(crate) fn writer(&self) -> &TurnWriter {
        &self.writer
    }

    pub(crate) fn no_summaries(&self) -> &std::sync::Mutex<std::collections::HashSet<String>> {
        &self.no_summaries
    }

    pub(crate) fn folding(&self) -> &std::sync::Mutex<std::collections::HashSet<String>> {
        &self.folding
    }
}

/// The persona as the plugin contract describes it, with the Character Card placeholders
/// `{{char}}` and `{{user}}` (any case, and the older `<BOT>`/`<USER>`) filled in, so no
/// plugin has to know the convention.
pub fn wit_persona(p: &Persona, user_name: Option<&str>) -> wit::Persona {
    let d = &p.data;
    let user = user_name.unwrap_or("you");
    let fill = |text: &str| ava_sdk::text::fill_card_macros(text, &d.name, user);
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

fn wit_mode(mode: &str) -> wit::ChatMode {
    if mode == "intimate" {
        wit::ChatMode::Intimate
    } else {
        wit::ChatMode::Secretary
    }
}
