//! A persona backed by any OpenAI-compatible Chat Completions server: OpenAI, Ollama, vLLM,
//! llama.cpp's server, OpenRouter.
//!
//! The persona card becomes the system prompt, the history the messages; photos are the
//! model's decision, through a `send_photo` tool or, for servers without tools, a small
//! classify request. Replies stream over server-sent events; the API key stays in the host.

mod client;
mod completion;
mod errors;
mod photo;
mod prompt;
mod settings;
mod stream;
mod summary;
mod turn;

use ava_sdk::chat::{ChatPersona, ChatReply, ChatRequest, SummaryRequest};
use ava_sdk::{PluginError, PluginInfo};

use crate::turn::Delivery;

/// The plugin.
pub struct OpenAiPersona;

impl ChatPersona for OpenAiPersona {
    fn metadata() -> PluginInfo {
        settings::keys().into_iter().fold(
            ava_sdk::plugin_info!(
                "A persona backed by any OpenAI-compatible Chat Completions server"
            ),
            PluginInfo::key,
        )
    }

    /// One free `GET` of the configured model: a wrong key or an unknown model fails here,
    /// not at the first user's message.
    fn check() -> Result<(), PluginError> {
        client::look_up_model(&settings::Settings::load()?)
    }

    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        turn::answer(&request, Delivery::Whole)
    }

    fn stream_reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        turn::answer(&request, Delivery::Streamed)
    }

    fn summarize(request: SummaryRequest) -> Result<String, PluginError> {
        summary::summarize(&request)
    }
}

ava_sdk::export_chat_persona!(OpenAiPersona);
