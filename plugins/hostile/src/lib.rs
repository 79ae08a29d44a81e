//! A persona written as an attacker would: each message names an attack on what the host
//! shares between plugins and users, sized by the test. The host's containment tests
//! (host/tests/containment_*.rs) run it; it is never in a shipped configuration.
//!
//! | message | attack |
//! |---|---|
//! | `reply:<bytes>` | answers a reply of `bytes` bytes |
//! | `history` | answers what it was sent: `history <messages> messages, <bytes> bytes; memory <bytes> bytes` |
//! | `kv-fill:<keys>:<bytes>[:<from>]` | writes `keys` random values of `bytes` bytes each under `fill:<from..>`; answers how many were stored and the first refusal |
//! | `kv-fill:<keys>:delete[:<from>]` | deletes those keys; answers how many were deleted |
//! | `hmac:<bytes>[*<times>]` | HMACs a message of `bytes` bytes with the secret `key`, `times` times (1 by default); answers how many digests or the refusal |
//! | `post:<bytes>@<url>` | POSTs a body of `bytes` bytes to `url`; answers the status or the error |
//! | `error:<bytes>` | fails with an `upstream` error whose message is `bytes` bytes (what a user's `detail` and the log would carry) |
//! | anything else | answers `hostile: <message>` |
//!
//! It does not summarize (the SDK's default `summarize` answers `unsupported`).

mod host_calls;
mod kv;
mod reply;

use ava_sdk::chat::{ChatPersona, ChatReply, ChatRequest};
use ava_sdk::{ConfigKey, PluginError, PluginInfo};

struct Hostile;

impl ChatPersona for Hostile {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("Test plugin: attacks the host's shared resources on request").key(
            ConfigKey::optional_secret("key", "the secret the HMAC attack uses"),
        )
    }

    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        let message = request.message.trim();
        let (verb, arg) = message.split_once(':').unwrap_or((message, ""));
        let text = match verb {
            "reply" => reply::of_bytes(arg),
            "history" => reply::describe_history(&request),
            "kv-fill" => kv::fill(arg),
            "hmac" => host_calls::hmac(arg),
            "post" => host_calls::post(arg),
            "error" => {
                // A long code too: the host bounds both (the two within the output limit).
                return Err(PluginError::upstream(
                    Some(500),
                    Some("c".repeat(1000)),
                    reply::of_bytes(arg),
                ));
            }
            _ => format!("hostile: {message}"),
        };
        Ok(ChatReply::text(text))
    }
}

ava_sdk::export_chat_persona!(Hostile);
