//! Folding older turns into the rolling memory the host keeps for the conversation.

use ava_sdk::chat::{ChatMode, Role, SummaryRequest};
use ava_sdk::{PluginError, info};

use crate::client;
use crate::completion::{Body, Message};
use crate::settings::Settings;

/// Room for the ~250 words asked for, whatever `max_tokens` replies are limited to.
const SUMMARY_MAX_TOKENS: u32 = 600;
/// A memory should be faithful, not creative.
const SUMMARY_TEMPERATURE: f64 = 0.3;

/// The new memory: `previous` extended with `turns`.
pub fn summarize(request: &SummaryRequest) -> Result<String, PluginError> {
    let previous = request.previous.as_deref().map(str::trim).unwrap_or("");
    if request.turns.is_empty() {
        // Nothing to fold in: the memory stays as it is, without a request.
        return Ok(previous.to_string());
    }
    let settings = Settings::load()?;
    let messages = messages(request);
    let mut body = Body::new(&settings, &messages);
    body.max_tokens = SUMMARY_MAX_TOKENS;
    body.temperature = SUMMARY_TEMPERATURE;
    let outcome = client::complete(&settings, &body)?;
    let memory = outcome.text.trim();
    if memory.is_empty() {
        // An empty answer would erase the memory: fail, and the host keeps the old one.
        return Err(PluginError::upstream(
            None,
            None,
            "the model returned an empty summary",
        ));
    }
    info!(
        "summary from {}: {} turns folded in",
        outcome.model.as_deref().unwrap_or(&settings.model),
        request.turns.len()
    );
    Ok(memory.to_string())
}

/// The instructions, then the memory so far and the new turns as one transcript to work on.
pub fn messages(request: &SummaryRequest) -> Vec<Message> {
    let name = match request.persona.name.trim() {
        "" => "the character",
        name => name,
    };
    let tone = match request.mode {
        ChatMode::Secretary => "a working relationship with a personal assistant",
        ChatMode::Intimate => "a close, affectionate relationship; keep the memory tasteful",
    };
    let instructions = format!(
        "You keep the long-term memory of a conversation between {name} and the user \
         ({tone}). Update the memory with the new turns: merge them into what is already \
         remembered, correct what changed, and drop small talk. Write in the third person \
         and keep names, facts about the user, their preferences, plans and promises, and \
         the tone of the relationship. Use at most about 250 words. Answer with the updated \
         memory only, without a title or preamble."
    );
    let previous = match request.previous.as_deref().map(str::trim) {
        Some(memory) if !memory.is_empty() => memory,
        _ => "(nothing yet)",
    };
    let transcript: Vec<String> = request
        .turns
        .iter()
        .map(|turn| {
            let who = match turn.role {
                Role::User => "User",
                Role::Assistant => name,
            };
            format!("{who}: {}", turn.content.trim())
        })
        .collect();
    let task = format!(
        "The memory so far:\n{previous}\n\nThe new turns:\n{}",
        transcript.join("\n")
    );
    vec![Message::system(instructions), Message::user(task)]
}
