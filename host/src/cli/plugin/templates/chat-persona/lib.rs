//! {{name}}: a chat persona for Ava.
//!
//! It answers from the persona card and its own configuration, and streams its reply word by
//! word. Replace [`compose`] with your own logic: a language model's API through
//! `ava_sdk::http`, for instance.

use ava_sdk::chat::{self, ChatMode, ChatPersona, ChatReply, ChatRequest};
use ava_sdk::{ConfigKey, PluginError, PluginInfo, config};

/// The plugin.
pub struct {{type}};

impl ChatPersona for {{type}} {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("{{description}}")
            .key(ConfigKey::optional(
                "greeting",
                "how every reply opens (default: Hi)",
            ))
            .key(ConfigKey::optional("sign_off", "appended to every reply"))
    }

    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        Ok(ChatReply::text(compose(&request)?))
    }

    fn stream_reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        let text = compose(&request)?;
        // Push text as it is produced (here word by word); the returned reply is what the
        // host stores.
        for (i, word) in text.split(' ').enumerate() {
            if i == 0 {
                chat::push(word);
            } else {
                chat::push(&format!(" {word}"));
            }
        }
        Ok(ChatReply::text(text))
    }
    // `summarize` defaults to "unsupported": the host then keeps a window of recent messages.
}

/// The reply to one turn, from the persona card and the plugin's configuration.
pub fn compose(request: &ChatRequest) -> Result<String, PluginError> {
    let message = request.message.trim();
    if message.is_empty() {
        return Err(PluginError::invalid_input("the message is empty"));
    }
    let persona = &request.persona;
    let name = if persona.name.is_empty() {
        "your companion"
    } else {
        persona.name.as_str()
    };
    let user = request
        .user_name
        .as_deref()
        .filter(|u| !u.is_empty())
        .unwrap_or("there");
    let greeting = config::get_or("greeting", "Hi");
    let heard = match request.mode {
        ChatMode::Secretary => "Noted",
        ChatMode::Intimate => "I love that you told me",
    };
    let mut text = format!("{greeting} {user}, {name} here. {heard}: \"{message}\".");
    if !persona.personality.is_empty() {
        text.push_str(&format!(
            " (Feeling {} today.)",
            persona.personality.to_lowercase()
        ));
    }
    if let Some(sign_off) = config::get("sign_off").filter(|s| !s.is_empty()) {
        text.push(' ');
        text.push_str(&sign_off);
    }
    Ok(text)
}

ava_sdk::export_chat_persona!({{type}});
