//! A chat persona built against `sdk/wit/since_v0.1.0` directly, as a plugin built by the
//! SDK of contract 0.1.0 is: it has no `check` export, imports the `@0.1.0` interfaces and
//! carries `0.1.0` in its contract section. The host must keep running it beside plugins of
//! the current contract (host/tests/contract.rs). It answers from its configuration through
//! the 0.1.0 `host` import and streams through the 0.1.0 `reply-stream`.
//!
//! With the feature `contract-0-2`, the same code is built against `since_v0.2.0` instead
//! (`dist/plugins/contract-v0-1-twin.wasm`): the twin `host/benches/plugin_call.rs`
//! measures it against, so the two differ only in their contract.

#[cfg(not(feature = "contract-0-2"))]
wit_bindgen::generate!({ world: "chat-persona", path: "../../sdk/wit/since_v0.1.0" });
#[cfg(feature = "contract-0-2")]
wit_bindgen::generate!({ world: "chat-persona", path: "../../sdk/wit/since_v0.2.0" });

// The world's own `use`s (`chat-request`, `plugin-info`, ...) are generated at the root.
use ava::plugin::types::ConfigKey;
use ava::plugin::{host, reply_stream};

#[cfg(not(feature = "contract-0-2"))]
const CONTRACT: &str = "0.1.0";
#[cfg(feature = "contract-0-2")]
const CONTRACT: &str = "0.2.0";

#[unsafe(link_section = "ava:contract-version")]
#[used]
static CONTRACT_VERSION: [u8; 5] = {
    let b = CONTRACT.as_bytes();
    [b[0], b[1], b[2], b[3], b[4]]
};

struct OldPersona;

impl OldPersona {
    fn answer(request: &ChatRequest) -> String {
        let greeting = host::config("greeting").unwrap_or_else(|| "Hello".into());
        format!(
            "{greeting}, {} here (contract {CONTRACT}): {}",
            request.persona.name, request.message
        )
    }
}

impl Guest for OldPersona {
    fn metadata() -> PluginInfo {
        PluginInfo {
            name: "contract-v0-1".into(),
            version: "0.1.0".into(),
            contract: CONTRACT.into(),
            description: "A persona from before contract 0.2.0".into(),
            config: vec![ConfigKey {
                name: "greeting".into(),
                description: "How the reply starts".into(),
                required: false,
                secret: false,
            }],
        }
    }

    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        Ok(ChatReply {
            text: Self::answer(&request),
            photo: None,
            model: None,
            usage: None,
        })
    }

    fn stream_reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        let text = Self::answer(&request);
        for word in text.split_inclusive(' ') {
            reply_stream::push(word);
        }
        Ok(ChatReply {
            text,
            photo: None,
            model: None,
            usage: None,
        })
    }

    fn summarize(request: SummaryRequest) -> Result<String, PluginError> {
        Ok(format!("{} earlier turns", request.turns.len()))
    }

    #[cfg(feature = "contract-0-2")]
    fn check() -> Result<(), PluginError> {
        Ok(())
    }
}

export!(OldPersona);
