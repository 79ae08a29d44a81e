//! # ava-sdk: write plugins for Ava
//!
//! An Ava plugin is a WebAssembly component (target `wasm32-wasip2`) that implements one
//! world of the `ava:plugin` contract in `wit/since_v0.2.0/`. This crate gives each plugin
//! kind a Rust trait and an export macro; enable the matching feature:
//!
//! | feature | trait | macro |
//! |---|---|---|
//! | `billing-provider` | [`billing::BillingProvider`] | [`export_billing_provider!`] |
//! | `chat-persona` | [`chat::ChatPersona`] | [`export_chat_persona!`] |
//! | `image-provider` | [`images::ImageProvider`] | [`export_image_provider!`] |
//! | `job-handler` | [`jobs::JobHandler`] | [`export_job_handler!`] |
//!
//! The host's capabilities are in [`http`], [`config`], [`kv`], [`crypto`], [`time`] and the
//! logging macros ([`info!`] and friends); [`signature`] signs and verifies Stripe-style
//! webhooks. Every call of a plugin runs in a fresh instance, with the limits and the network
//! allowlist the operator configured; secrets stay in the host.
//!
//! Plugin logic is tested natively with [`testing::TestHost`]. See `sdk/README.md` for a
//! complete plugin of each kind.

// The README's examples are compiled as doctests (with `--all-features`).
#[cfg(all(
    doctest,
    feature = "billing-provider",
    feature = "chat-persona",
    feature = "image-provider",
    feature = "job-handler"
))]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[doc(hidden)]
pub mod bindings;
pub mod contract;
mod error;
mod host_call;
mod info;

pub mod config;
pub mod crypto;
pub mod date;
pub mod http;
pub mod images;
pub mod kv;
pub mod log;
pub mod signature;
pub mod sse;
pub mod text;
pub mod time;

#[cfg(feature = "billing-provider")]
pub mod billing;
#[cfg(feature = "chat-persona")]
pub mod chat;
#[cfg(feature = "job-handler")]
pub mod jobs;
#[cfg(feature = "job-handler")]
pub mod photos;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use bindings::base::ava::plugin::host::{
    HttpError, HttpMethod, HttpRequest, HttpResponse, SecretError, StorageError,
};
pub use bindings::base::ava::plugin::types::{
    ConfigKey, LogLevel, PluginError, PluginInfo, Unavailable, UpstreamFailure,
};

/// The result of a plugin operation.
pub type Result<T, E = PluginError> = core::result::Result<T, E>;

#[doc(hidden)]
pub use bindings as __bindings;
#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

// The generated code names this crate `::ava_sdk`, also from inside it.
extern crate self as ava_sdk;

/// Puts the contract version into the component as the `ava:contract-version` custom
/// section. Expanded by every `export_*!` macro, in the plugin's own crate, so the linker
/// keeps it.
#[doc(hidden)]
#[macro_export]
macro_rules! __embed_contract_version {
    () => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "ava:contract-version")]
        #[used]
        static __AVA_CONTRACT_VERSION: [u8; $crate::contract::VERSION_BYTES.len()] =
            $crate::contract::VERSION_BYTES;
    };
}
