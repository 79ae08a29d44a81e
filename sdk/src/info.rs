//! Building the answer to `metadata()`.

use crate::{ConfigKey, PluginInfo};

/// A [`PluginInfo`] for this crate: name and version from `Cargo.toml`, the SDK's contract
/// version, and `description`. Add configuration keys with [`PluginInfo::key`].
#[macro_export]
macro_rules! plugin_info {
    ($description:expr) => {
        $crate::PluginInfo::new(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
            $description,
        )
    };
}

impl PluginInfo {
    /// A plugin called `name` at `version`, built against this SDK's contract.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            contract: crate::contract::VERSION.to_string(),
            description: description.to_string(),
            config: Vec::new(),
        }
    }

    /// Declares one configuration key.
    pub fn key(mut self, key: ConfigKey) -> Self {
        self.config.push(key);
        self
    }
}

impl ConfigKey {
    fn new(name: &str, description: &str, required: bool, secret: bool) -> Self {
        Self {
            name: name.to_string(),
            description: description.to_string(),
            required,
            secret,
        }
    }

    /// A plain value that must be set.
    pub fn required(name: &str, description: &str) -> Self {
        Self::new(name, description, true, false)
    }

    /// A plain value that may be left unset.
    pub fn optional(name: &str, description: &str) -> Self {
        Self::new(name, description, false, false)
    }

    /// A secret that must be set (from an environment variable).
    pub fn secret(name: &str, description: &str) -> Self {
        Self::new(name, description, true, true)
    }

    /// A secret that may be left unset, e.g. an API key a local server does not need.
    pub fn optional_secret(name: &str, description: &str) -> Self {
        Self::new(name, description, false, true)
    }
}
