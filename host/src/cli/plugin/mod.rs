//! `ava plugin ...`: the operator's commands over `ava.toml` (`check`, `list`) and the plugin
//! author's (`new`, `build`, `call`).
//!
//! `build` and `call` load a component through the same runtime code as a server does
//! ([`crate::plugins::check`]), in a runtime of their own: in-memory key-value storage, no
//! photo store, no database.

pub mod build;
pub mod call;
pub mod check;
mod input;
pub mod new;
mod output;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app;
use crate::config::{AvaConfig, PluginConfig, RuntimeConfig, Settings, valid_plugin_name};
use crate::plugins::{self, LoadReport, MemoryKv, Runtime, RuntimeOptions, Services};

/// Instances the author commands' runtime may run at once: one call, and a nested one.
const AUTHOR_INSTANCES: u32 = 4;

/// A runtime for the author commands, sized for a plugin of `memory_mib`.
fn author_runtime(settings: &Settings, memory_mib: u32) -> anyhow::Result<Arc<Runtime>> {
    let public_url = app::public_url(settings)?;
    let cache_dir = compile_cache_dir();
    Runtime::new(RuntimeOptions {
        max_instances: AUTHOR_INSTANCES,
        max_memory_mib: RuntimeConfig::default().max_memory_mib.max(memory_mib),
        secrets_dir: cache_dir.join("secrets"),
        cache_dir,
        public_url,
        env: plugins::process_env(),
        services: Services {
            kv: Arc::new(MemoryKv::default()),
            photos: None,
        },
    })
    .map_err(anyhow::Error::msg)
}

/// Where compiled components are cached between runs: `$XDG_CACHE_HOME/ava/plugin-cache`
/// (or `~/.cache/...`), so calling the same build again does not compile it again.
fn compile_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("ava")
        .join("plugin-cache")
}

/// Loads the component at `path` as plugin `name`, exactly as a server loads an `ava.toml`
/// entry, and reports on it.
async fn load(
    rt: &Arc<Runtime>,
    name: &str,
    path: &Path,
    configure: impl FnOnce(&mut PluginConfig),
) -> LoadReport {
    let mut plugin = PluginConfig::at(path);
    configure(&mut plugin);
    let mut config = AvaConfig::default();
    config.plugin.insert(name.to_string(), plugin);
    plugins::check(rt, &config, 1).await
}

/// The name a component is loaded under: its file name, as a crate name with dashes
/// (`my_persona.wasm` → `my-persona`), or `plugin` when that is not a valid plugin name.
fn plugin_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_default();
    if valid_plugin_name(&stem) {
        stem
    } else {
        "plugin".into()
    }
}

/// `1.5 MiB`, `12 KiB`, `300 bytes`.
fn human_bytes(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}
