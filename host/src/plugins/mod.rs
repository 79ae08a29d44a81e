//! The plugin runtime: sandboxed WebAssembly components behind typed handles.
//!
//! - [`Runtime`]: the engine, the linker with the host imports, the compile cache;
//! - [`Registry`]: the active [`PluginSet`], reloaded atomically when `ava.toml` or a plugin
//!   binary changes, or on SIGHUP ([`watch`]);
//! - [`Persona`], [`Billing`], [`Images`], [`JobHandler`]: one typed handle per plugin kind;
//! - [`CallError`]: how a call can fail, whatever the plugin does.

mod allowlist;
mod artifact;
mod bindings;
mod cache;
mod ctx;
mod error;
mod grants;
mod handles;
mod imports;
pub(crate) mod kv;
mod limits;
mod module;
mod output;
mod plugin;
mod registry;
mod runtime;
mod services;
pub mod stats;
mod stdio;

pub mod types;
mod watch;

pub use allowlist::Allowlist;
pub use artifact::{check_contract, host_contract, host_contracts, inspect};
pub use cache::Provenance;
pub use ctx::{HostCall, Recorder, Recording};
pub use error::{CallError, LoadError};
pub use grants::{EnvLookup, Grants, process_env};
pub use handles::{Billing, Images, JobHandler, Persona};
pub use kv::{
    KvError, KvFigures, KvQuota, KvStore, KvUsage, MAX_KEY_BYTES, MAX_VALUE_BYTES, MemoryKv,
    entry_bytes,
};
pub use limits::Limits;
pub use module::{Module, World};
pub use plugin::LoadedPlugin;
pub use registry::{
    ConfigSource, LoadReport, PluginReport, PluginSet, RefusedReload, Registry, ReloadStatus, Slot,
    check, load_set,
};
pub use runtime::{EPOCH_TICK, Runtime, RuntimeOptions};
pub use services::{PhotoStore, Services};
pub use watch::{ReloadWatcher, watch};
