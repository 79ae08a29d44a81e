//! Chat persona plugins: the character the user talks to.
//!
//! Implement [`ChatPersona`] and export it with [`export_chat_persona!`](crate::export_chat_persona).

pub use crate::bindings::chat_persona::ava::plugin::chat::{
    ChatMessage, ChatMode, ChatReply, ChatRequest, Persona, PhotoRequest, Role, SummaryRequest,
    TokenUsage,
};
use crate::{PluginError, PluginInfo, host_call};

/// A persona plugin. Only `metadata` and `reply` are required.
pub trait ChatPersona {
    /// Who the plugin is; see [`plugin_info!`](crate::plugin_info).
    fn metadata() -> PluginInfo;

    /// Verifies that the plugin can work as configured, as only it can: credentials
    /// accepted, the model or price there, the upstream answering (contract 0.2.0). Called by
    /// `ava plugin check --upstream`, never on a user's request. By default there is nothing
    /// to verify.
    fn check() -> Result<(), PluginError> {
        Ok(())
    }

    /// Answers one turn in full.
    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError>;

    /// Answers one turn while pushing text with [`push`] as it is produced, and returns the
    /// whole reply. By default: `reply`, pushed in one piece.
    fn stream_reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        let reply = Self::reply(request)?;
        push(&reply.text);
        Ok(reply)
    }

    /// Folds `request.turns` into the rolling memory. By default unsupported: the host then
    /// keeps a plain window of recent messages.
    fn summarize(request: SummaryRequest) -> Result<String, PluginError> {
        let _ = request;
        Err(PluginError::unsupported("this persona does not summarize"))
    }
}

/// Streams `delta` to the user as part of the reply being produced.
pub fn push(delta: &str) {
    if !delta.is_empty() {
        host_call::push_reply(delta)
    }
}

impl Persona {
    /// A persona with only a name, every other field empty ("not set"), as a test or a
    /// plugin's own default starts from: set the fields it needs with struct update syntax,
    /// `Persona { personality: "Curious".into(), ..Persona::named("Mira") }`.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            id: "persona".into(),
            name: name.into(),
            style: String::new(),
            description: String::new(),
            personality: String::new(),
            scenario: String::new(),
            greeting: String::new(),
            example_dialogue: String::new(),
            system_prompt: String::new(),
            post_history_instructions: String::new(),
            appearance: String::new(),
        }
    }
}

impl ChatRequest {
    /// A first turn: `message` to `persona`, in secretary mode, no history, no memory, no
    /// user name, photos not allowed. The `with_*` methods set the rest.
    pub fn new(persona: Persona, message: impl Into<String>) -> Self {
        Self {
            persona,
            mode: ChatMode::Secretary,
            user_name: None,
            memory: None,
            history: Vec::new(),
            message: message.into(),
            photos_allowed: false,
        }
    }

    pub fn with_mode(mut self, mode: ChatMode) -> Self {
        self.mode = mode;
        self
    }

    pub fn with_user_name(mut self, name: impl Into<String>) -> Self {
        self.user_name = Some(name.into());
        self
    }

    pub fn with_memory(mut self, memory: impl Into<String>) -> Self {
        self.memory = Some(memory.into());
        self
    }

    /// The messages before this one, oldest first.
    pub fn with_history(mut self, history: Vec<ChatMessage>) -> Self {
        self.history = history;
        self
    }

    pub fn with_photos_allowed(mut self, allowed: bool) -> Self {
        self.photos_allowed = allowed;
        self
    }
}

impl ChatMessage {
    /// A message the user wrote at `sent_at_ms`.
    pub fn user(content: impl Into<String>, sent_at_ms: u64) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
            sent_at_ms,
        }
    }

    /// A message the persona wrote at `sent_at_ms`.
    pub fn assistant(content: impl Into<String>, sent_at_ms: u64) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
            sent_at_ms,
        }
    }
}

impl ChatReply {
    /// A text-only reply.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            photo: None,
            model: None,
            usage: None,
        }
    }

    /// Attaches a photo request.
    pub fn with_photo(mut self, photo: PhotoRequest) -> Self {
        self.photo = Some(photo);
        self
    }
}

/// Exports a [`ChatPersona`] implementation as this component's `chat-persona` world.
#[macro_export]
macro_rules! export_chat_persona {
    ($plugin:ty) => {
        $crate::__embed_contract_version!();

        #[doc(hidden)]
        pub struct __AvaChatPersonaExport;

        impl $crate::__bindings::chat_persona::Guest for __AvaChatPersonaExport {
            fn metadata() -> $crate::PluginInfo {
                <$plugin as $crate::chat::ChatPersona>::metadata()
            }
            fn check() -> ::core::result::Result<(), $crate::PluginError> {
                <$plugin as $crate::chat::ChatPersona>::check()
            }
            fn reply(
                request: $crate::chat::ChatRequest,
            ) -> ::core::result::Result<$crate::chat::ChatReply, $crate::PluginError> {
                <$plugin as $crate::chat::ChatPersona>::reply(request)
            }
            fn stream_reply(
                request: $crate::chat::ChatRequest,
            ) -> ::core::result::Result<$crate::chat::ChatReply, $crate::PluginError> {
                <$plugin as $crate::chat::ChatPersona>::stream_reply(request)
            }
            fn summarize(
                request: $crate::chat::SummaryRequest,
            ) -> ::core::result::Result<::std::string::String, $crate::PluginError> {
                <$plugin as $crate::chat::ChatPersona>::summarize(request)
            }
        }

        $crate::__bindings::chat_persona::__export_chat_persona_world!(
            __AvaChatPersonaExport with_types_in $crate::__bindings::chat_persona
        );
    };
}
