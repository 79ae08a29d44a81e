//! Bounds on what a persona plugin writes into a conversation and on what a conversation
//! sends back to the persona, so that no plugin's output can make a user's chat unusable
//! later: a reply, a summary and a photo's words are cut before they are stored, and the
//! history a turn sends is cut to a byte budget whatever the database holds (rows stored
//! before these bounds existed included).
//!
//! A persona may legitimately return up to `max_output_bytes` (16 MiB by default): that
//! bound protects the host from one call. These protect the conversation across calls: a
//! 15 MB reply stored whole was sent back with every later turn, to whichever persona came
//! next, until it failed every turn on that persona's memory limit.

use crate::config::AppConfig;
use crate::db::messages::Message;
use crate::plugins::types as wit;
use crate::text::{cut, cut_in_place};

/// Longest photo prompt and negative prompt kept, in characters: image models read a few
/// hundred words at most (OpenAI's gpt-image-1 takes 32,000 characters, DALL·E 3 4,000,
/// Stable Diffusion's CLIP 77 tokens).
pub const MAX_PROMPT_CHARS: usize = 4_000;
/// Longest photo caption kept, in characters: one line under a photo.
pub const MAX_CAPTION_CHARS: usize = 500;

/// A persona's reply as it may be stored: its text within `max_reply_chars`, a photo's
/// prompt and caption within their limits. True when something was cut.
pub fn bound_reply(reply: &mut wit::ChatReply, config: &AppConfig) -> bool {
    let mut cut_any = cut_in_place(&mut reply.text, config.max_reply_chars as usize);
    if let Some(photo) = reply.photo.as_mut() {
        cut_any |= cut_in_place(&mut photo.prompt, MAX_PROMPT_CHARS);
        if let Some(negative) = photo.negative_prompt.as_mut() {
            cut_any |= cut_in_place(negative, MAX_PROMPT_CHARS);
        }
        if let Some(caption) = photo.caption.as_mut() {
            cut_any |= cut_in_place(caption, MAX_CAPTION_CHARS);
        }
    }
    cut_any
}

/// A summary as it may be stored as the rolling memory: within `max_reply_chars`, as a
/// reply (it is the persona's writing, sent with every turn after).
pub fn bound_summary(mut summary: String, config: &AppConfig) -> String {
    cut_in_place(&mut summary, config.max_reply_chars as usize);
    summary
}

/// The longest a stored message can be, in characters: a user's or a reply.
pub fn max_message_chars(config: &AppConfig) -> usize {
    config.max_message_chars.max(config.max_reply_chars) as usize
}

/// `history` (oldest first) as the persona receives it: each message within
/// [`max_message_chars`], and only the newest ones whose contents fit in `budget` bytes
/// together. Whatever the database holds, a turn sends at most `budget` bytes of history.
pub fn window(history: &[Message], budget: usize, config: &AppConfig) -> Vec<wit::ChatMessage> {
    let max_chars = max_message_chars(config);
    let mut left = budget;
    let mut newest_first = Vec::new();
    for message in history.iter().rev() {
        let content = cut(&message.content, max_chars);
        if content.len() > left {
            break;
        }
        left -= content.len();
        newest_first.push(wit::ChatMessage {
            role: if message.role == "user" {
                wit::Role::User
            } else {
                wit::Role::Assistant
            },
            content: content.into_owned(),
            sent_at_ms: message.created_at as u64,
        });
    }
    newest_first.reverse();
    newest_first
}

/// A message loaded from the database as the chat cache keeps it: within
/// [`max_message_chars`] (rows stored before the bound existed may be longer).
pub fn bound_loaded(mut message: Message, config: &AppConfig) -> Message {
    cut_in_place(&mut message.content, max_message_chars(config));
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64, content: &str) -> Message {
        Message {
            id: format!("m{seq}"),
            user_id: "u".into(),
            persona_id: "p".into(),
            seq,
            role: if seq % 2 == 1 { "user" } else { "assistant" }.into(),
            content: content.into(),
            mode: "companion".into(),
            photo_caption: None,
            photo_prompt: None,
            photo_id: None,
            created_at: seq,
        }
    }

    #[test]
    fn a_reply_its_photo_words_and_a_summary_are_bounded() {
        let config = AppConfig {
            max_reply_chars: 100,
            ..AppConfig::default()
        };
        let mut reply = wit::ChatReply {
            text: "x".repeat(10_000),
            photo: Some(wit::PhotoRequest {
                prompt: "p".repeat(10_000),
                negative_prompt: Some("n".repeat(10_000)),
                caption: Some("c".repeat(10_000)),
            }),
            model: None,
            usage: None,
        };
        assert!(bound_reply(&mut reply, &config));
        assert_eq!(reply.text.chars().count(), 100);
        let photo = reply.photo.unwrap();
        assert_eq!(photo.prompt.chars().count(), MAX_PROMPT_CHARS);
        assert_eq!(
            photo.negative_prompt.unwrap().chars().count(),
            MAX_PROMPT_CHARS
        );
        assert_eq!(photo.caption.unwrap().chars().count(), MAX_CAPTION_CHARS);
        assert_eq!(bound_summary("s".repeat(500), &config).chars().count(), 100);

        let mut fine = wit::ChatReply {
            text: "hello".into(),
            photo: None,
            model: None,
            usage: None,
        };
        assert!(!bound_reply(&mut fine, &config));
        assert_eq!(fine.text, "hello");
    }

    #[test]
    fn the_window_keeps_the_newest_messages_that_fit_the_budget() {
        let config = AppConfig::default();
        let history: Vec<Message> = (1..=10).map(|i| message(i, &"a".repeat(100))).collect();
        let sent = window(&history, 350, &config);
        assert_eq!(sent.len(), 3);
        assert_eq!(
            sent.iter().map(|m| m.sent_at_ms).collect::<Vec<_>>(),
            [8, 9, 10]
        );
        assert_eq!(window(&history, 10_000, &config).len(), 10);
    }

    #[test]
    fn a_poisoned_row_is_cut_and_what_does_not_fit_is_left_out() {
        let config = AppConfig::default();
        let huge = "poison ".repeat(2_000_000);
        let history = vec![
            message(1, "hello"),
            message(2, &huge),
            message(3, "still there?"),
            message(4, &huge),
        ];
        let budget = 20_000;
        let sent = window(&history, budget, &config);
        let bytes: usize = sent.iter().map(|m| m.content.len()).sum();
        assert!(bytes <= budget, "{bytes}");
        // The newest poisoned reply, cut, and the message before it fit; the older
        // poisoned one does not, and nothing older than it is sent out of order.
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].content, "still there?");
        assert!(sent[1].content.chars().count() <= max_message_chars(&config));
        let loaded = bound_loaded(message(2, &huge), &config);
        assert!(loaded.content.chars().count() <= max_message_chars(&config));
    }
}
