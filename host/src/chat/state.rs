//! What turns know between turns, one slot per user, behind the user's turn lock.
//!
//! The lock: one turn at a time per user, so a second message waits for the first reply
//! and the stored order is always message, reply, message, reply, each turn seeing the last.
//!
//! The state under it: the user's turn context (preferences, display name, subscription
//! status) and, per conversation, the persona, its memory, the recent window and the last
//! sequence number. A turn that finds them fresh reads nothing from the database. They are
//! trusted for `ttl` at most, and dropped sooner when this process changes what they
//! reflect ([`UserStates::forget`]); a change made by another replica is seen within `ttl`,
//! and a turn that raced one (a duplicate `seq`) reloads and runs again. Refusals (402,
//! 403) are never answered from here: they are re-read first, so a user who just paid
//! is let in at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::db::memories::Memory;
use crate::db::messages::Message;
use crate::db::personas::Persona;
use crate::db::preferences::TurnContext;

/// A conversation as its next turn needs it.
#[derive(Debug, Clone)]
pub struct ConversationState {
    pub persona: Persona,
    pub memory: Option<Memory>,
    /// The newest messages after the memory, oldest first: the history window and, behind
    /// it, up to a summarizing batch more, so a fold finds what it folds here.
    pub window: Vec<Message>,
    /// The highest stored `seq`, 0 for an empty conversation.
    pub last_seq: i64,
    loaded: Instant,
}

impl ConversationState {
    pub fn new(
        persona: Persona,
        memory: Option<Memory>,
        window: Vec<Message>,
        last_seq: i64,
    ) -> Self {
        Self {
            persona,
            memory,
            window,
            last_seq,
            loaded: Instant::now(),
        }
    }

    /// Adds stored messages, keeping the newest `limit`.
    pub fn push(&mut self, messages: &[Message], limit: usize) {
        for m in messages {
            self.last_seq = self.last_seq.max(m.seq);
            self.window.push(m.clone());
        }
        let excess = self.window.len().saturating_sub(limit);
        self.window.drain(..excess);
    }

    /// The newest `n` messages, oldest first: what a turn shows the persona.
    pub fn recent(&self, n: usize) -> &[Message] {
        &self.window[self.window.len().saturating_sub(n)..]
    }

    /// Every message after the memory up to `through` (inclusive), when the cache holds all
    /// of them; `None` when older ones were dropped from it (or never loaded).
    pub fn unfolded_through(&self, through: i64) -> Option<Vec<Message>> {
        let after = self.memory.as_ref().map_or(0, |m| m.through_seq);
        let first = self.window.iter().find(|m| m.seq > after)?;
        (first.seq == after + 1).then(|| {
            self.window
                .iter()
                .filter(|m| m.seq > after && m.seq <= through)
                .cloned()
                .collect()
        })
    }
}

/// One user's cached state.
#[derive(Debug, Default)]
struct UserState {
    context: Option<(TurnContext, Instant)>,
    conversations: HashMap<String, ConversationState>,
}

struct Slot {
    /// Set by [`UserStates::forget`] while someone may hold the lock; the next holder
    /// clears the state.
    stale: AtomicBool,
    state: Arc<AsyncMutex<UserState>>,
}

/// A held turn lock, and the user's state that is still fresh.
pub struct UserGuard {
    _slot: Arc<Slot>,
    state: OwnedMutexGuard<UserState>,
    ttl: Duration,
}

impl UserGuard {
    /// The cached turn context, if still fresh.
    pub fn context(&self) -> Option<&TurnContext> {
        self.state
            .context
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(c, _)| c)
    }

    pub fn set_context(&mut self, context: TurnContext) {
        self.state.context = Some((context, Instant::now()));
    }

    /// Takes the cached conversation with `persona_id` out, if still fresh. A turn puts it
    /// back only once its messages are stored: a turn that fails or is cancelled midway
    /// leaves nothing that could be out of date.
    pub fn take_conversation(&mut self, persona_id: &str) -> Option<ConversationState> {
        let conv = self.state.conversations.remove(persona_id)?;
        (conv.loaded.elapsed() < self.ttl).then_some(conv)
    }

    pub fn put_conversation(&mut self, conv: ConversationState) {
        if !self.ttl.is_zero() {
            self.state
                .conversations
                .insert(conv.persona.id.clone(), conv);
        }
    }

    /// A new memory for a cached conversation: its window keeps only what comes after.
    pub fn remember_memory(&mut self, persona_id: &str, memory: Memory) {
        if let Some(conv) = self.state.conversations.get_mut(persona_id) {
            conv.window.retain(|m| m.seq > memory.through_seq);
            conv.memory = Some(memory);
        }
    }
}

/// Every user's slot. A slot lives while a turn holds or waits for it, and while it is
/// among the `capacity` most recently used (so its state outlives the turn).
pub struct UserStates {
    slots: Mutex<HashMap<String, Weak<Slot>>>,
    warm: Option<moka::sync::Cache<String, Arc<Slot>>>,
    ttl: Duration,
}

impl UserStates {
    /// `ttl` zero keeps nothing between turns (the lock still orders them).
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        let warm = (!ttl.is_zero() && capacity > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(ttl)
                .build()
        });
        Self {
            slots: Mutex::default(),
            warm,
            ttl,
        }
    }

    /// Waits for `user_id`'s turn lock, and holds it.
    pub async fn lock(&self, user_id: &str) -> UserGuard {
        let slot = self.slot(user_id);
        let mut state = slot.state.clone().lock_owned().await;
        if slot.stale.swap(false, Ordering::AcqRel) {
            *state = UserState::default();
        }
        UserGuard {
            _slot: slot,
            state,
            ttl: self.ttl,
        }
    }

    /// Drops what is cached about `user_id`: call it after changing their preferences,
    /// personas, messages or subscription other than through a turn.
    pub fn forget(&self, user_id: &str) {
        let slot = self
            .slots
            .lock()
            .expect("user slots")
            .get(user_id)
            .and_then(Weak::upgrade);
        if let Some(slot) = slot {
            slot.stale.store(true, Ordering::Release);
        }
    }

    fn slot(&self, user_id: &str) -> Arc<Slot> {
        if let Some(slot) = self.warm.as_ref().and_then(|w| w.get(user_id)) {
            return slot;
        }
        let slot = {
            let mut slots = self.slots.lock().expect("user slots");
            // Dead entries are swept when the map has doubled past 4096, so sweeping stays
            // linear overall even when most entries are live.
            if slots.len() > 4096 && slots.len().is_power_of_two() {
                slots.retain(|_, weak| weak.strong_count() > 0);
            }
            match slots.get(user_id).and_then(Weak::upgrade) {
                Some(slot) => slot,
                None => {
                    let slot = Arc::new(Slot {
                        stale: AtomicBool::new(false),
                        state: Arc::default(),
                    });
                    slots.insert(user_id.to_string(), Arc::downgrade(&slot));
                    slot
                }
            }
        };
        if let Some(warm) = &self.warm {
            warm.insert(user_id.to_string(), slot.clone());
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> TurnContext {
        TurnContext {
            mode: "secretary".into(),
            active_persona_id: Some("p".into()),
            photos_enabled: 1,
            adult_confirmed_at: None,
            display_name: None,
            subscription_status: Some("active".into()),
        }
    }

    fn conversation(seqs: std::ops::RangeInclusive<i64>, memory_through: i64) -> ConversationState {
        let messages: Vec<Message> = seqs
            .map(|seq| crate::db::testing::message("u", "p", seq, ""))
            .collect();
        let last = messages.last().map_or(0, |m| m.seq);
        let persona = crate::personas::new_persona("u", crate::personas::default_persona());
        let memory = (memory_through > 0).then(|| Memory {
            summary: "s".into(),
            through_seq: memory_through,
        });
        ConversationState::new(persona, memory, messages, last)
    }

    fn seqs(messages: &[Message]) -> Vec<i64> {
        messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_turn_sees_the_window_and_a_fold_finds_the_batch_behind_it() {
        let mut conv = conversation(5..=10, 4);
        assert_eq!(seqs(conv.recent(4)), [7, 8, 9, 10]);
        assert_eq!(seqs(conv.recent(100)), [5, 6, 7, 8, 9, 10]);
        assert_eq!(seqs(&conv.unfolded_through(6).unwrap()), [5, 6]);

        // The cache dropped message 5: the fold must read from the database.
        conv.push(&[], 5);
        assert_eq!(seqs(&conv.window), [6, 7, 8, 9, 10]);
        assert_eq!(conv.unfolded_through(6), None);
        // A conversation without memory folds from its first message.
        assert_eq!(
            seqs(&conversation(1..=3, 0).unfolded_through(2).unwrap()),
            [1, 2]
        );
        assert_eq!(conversation(2..=3, 0).unfolded_through(2), None);
    }

    #[tokio::test]
    async fn the_same_user_waits_and_others_do_not() {
        let states = Arc::new(UserStates::new(Duration::from_secs(10), 100));
        let held = states.lock("u").await;
        let other = tokio::time::timeout(Duration::from_millis(50), states.lock("v")).await;
        assert!(other.is_ok(), "another user must not wait");
        let same = tokio::time::timeout(Duration::from_millis(50), states.lock("u")).await;
        assert!(same.is_err(), "the same user must wait");
        drop(held);
        let same = tokio::time::timeout(Duration::from_millis(50), states.lock("u")).await;
        assert!(same.is_ok());
    }

    #[tokio::test]
    async fn state_outlives_the_turn_until_forgotten_even_while_held() {
        let states = UserStates::new(Duration::from_secs(10), 100);
        states.lock("u").await.set_context(context());
        assert!(states.lock("u").await.context().is_some());

        let mut held = states.lock("u").await;
        states.forget("u");
        // The holder's view is not pulled from under it; the next turn starts clean.
        assert!(held.context().is_some());
        held.set_context(context());
        drop(held);
        assert!(states.lock("u").await.context().is_none());
    }

    #[tokio::test]
    async fn nothing_is_kept_with_a_zero_ttl_or_past_the_ttl() {
        let off = UserStates::new(Duration::ZERO, 100);
        off.lock("u").await.set_context(context());
        assert!(off.lock("u").await.context().is_none());

        let short = UserStates::new(Duration::from_millis(30), 100);
        short.lock("u").await.set_context(context());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(short.lock("u").await.context().is_none());
    }
}
