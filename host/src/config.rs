//! Configuration: process settings (flags that are also environment variables) and the
//! plugin file `ava.toml` (with `AVA__...` environment overrides).

mod file;
mod overrides;
mod settings;

pub use file::{
    AppConfig, AvaConfig, ConfigValue, JobsSlot, LimitsConfig, PluginConfig, RuntimeConfig,
    SlotConfig, SlotsConfig, valid_plugin_name,
};
pub use settings::{HttpSettings, Settings, WorkerSettings};

use std::path::{Path, PathBuf};

/// Why the plugin file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("environment override {var} is not valid: {message}")]
    Override { var: String, message: String },
}

/// Reads `path`, applies `AVA__...` overrides from `env`, and resolves plugin paths against
/// the file's folder. A missing file is an empty configuration only when `optional`.
pub fn load(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
    optional: bool,
) -> Result<AvaConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if optional && err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parse(&text, path, base, env)
}

/// Parses configuration `text` (read from `origin`), with overrides and paths resolved
/// against `base`.
pub fn parse(
    text: &str,
    origin: &Path,
    base: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<AvaConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: origin.to_path_buf(),
        message,
    };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    overrides::apply(&mut table, env)?;
    let mut config: AvaConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
    for plugin in config.plugin.values_mut() {
        if plugin.path.is_relative() {
            plugin.path = base.join(&plugin.path);
        }
    }
    config.validate().map_err(invalid)?;
    Ok(config)
}
