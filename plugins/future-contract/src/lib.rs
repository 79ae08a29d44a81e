//! A plugin built against `ava:plugin@0.3.0`, which this host does not implement. The host
//! must refuse it at load time with a clear message, before running any of it.

wit_bindgen::generate!({ world: "chat-persona", path: "wit" });

#[unsafe(link_section = "ava:contract-version")]
#[used]
static CONTRACT_VERSION: [u8; 5] = *b"0.3.0";

struct Future;

impl Guest for Future {
    fn metadata() -> ava::plugin::types::PluginInfo {
        ava::plugin::types::PluginInfo {
            name: "future-contract".into(),
            version: "0.1.0".into(),
            contract: "0.3.0".into(),
            description: "built for a newer host".into(),
        }
    }

    fn reply(message: String) -> String {
        message
    }
}

export!(Future);
