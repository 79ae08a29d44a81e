//! The model of `ava.toml`: which plugins exist, what they may do, which serves each slot.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The whole plugin file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvaConfig {
    /// How the product behaves; read at start-up.
    #[serde(default)]
    pub app: AppConfig,
    /// Engine-wide settings; changing them needs a restart.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// Which plugin serves each slot.
    #[serde(default)]
    pub plugins: SlotsConfig,
    /// Every plugin, by name.
    #[serde(default)]
    pub plugin: BTreeMap<String, PluginConfig>,
}

/// How the product behaves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    /// Chat requires an active subscription (402 otherwise). Self-hosters turn it off.
    pub paywall: bool,
    /// Messages sent to the persona with each turn, besides the rolling memory.
    pub history_window: u32,
    /// Messages beyond the window folded into the memory at once.
    pub summarize_batch: u32,
    /// Longest message a user may send, in characters.
    pub max_message_chars: u32,
    /// Longest reply (and rolling memory) a persona's output is stored as, in characters;
    /// longer ones are cut at a word and marked with `…`. Four times a long model reply
    /// (about 4,000 tokens), far above what a chat needs, far below what poisons a history.
    pub max_reply_chars: u32,
    /// The most history a turn sends the persona, in bytes of message text: the newest
    /// messages of the window that fit. Keeps every turn's request small for any persona,
    /// whatever an earlier plugin wrote.
    pub max_history_bytes: u32,
    /// How long this process trusts what it cached about a signed-in user (their session,
    /// preferences, subscription, personas, the recent conversation) before reading it
    /// again. Changes made through this process are seen at once; with several replicas,
    /// another replica's changes (a logout, a cancelled subscription) within this time.
    /// 0 turns the caches off.
    pub cache_seconds: u32,
    /// How many users' chat state stays cached between turns.
    pub cache_users: u32,
    /// The size of the photos personas send, in pixels (image plugins round to what their
    /// model supports).
    pub photo_width: u32,
    pub photo_height: u32,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            paywall: true,
            history_window: 20,
            summarize_batch: 20,
            max_message_chars: 4_000,
            max_reply_chars: 16_000,
            max_history_bytes: 256 << 10,
            cache_seconds: 10,
            cache_users: 10_000,
            photo_width: 768,
            photo_height: 1024,
        }
    }
}

/// Engine-wide settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Instances that can run at once across all plugins (the pooling allocator's size).
    /// Default: the sum of the plugins' `concurrency`, at least 16.
    pub max_instances: Option<u32>,
    /// The largest memory any plugin may be given, in MiB.
    pub max_memory_mib: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_instances: None,
            max_memory_mib: 512,
        }
    }
}

/// `[plugins.<slot>] use = "name"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotConfig {
    #[serde(rename = "use")]
    pub plugin: String,
}

/// `[plugins.jobs] use = ["name", ...]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSlot {
    #[serde(rename = "use", default)]
    pub plugins: Vec<String>,
}

/// The slots: one active plugin for billing, persona and images; any number of job handlers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotsConfig {
    pub billing: Option<SlotConfig>,
    pub persona: Option<SlotConfig>,
    pub images: Option<SlotConfig>,
    #[serde(default)]
    pub jobs: JobsSlot,
}

/// One `[plugin.<name>]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The component file, relative to the configuration file.
    pub path: PathBuf,
    /// A disabled plugin is not loaded.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Destinations the plugin may reach over HTTP: `host`, `host:port`, `scheme://host[:port]`,
    /// `*.domain` for subdomains, or `self` for this host's own public URL.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The plugin's configuration: literal values, `{ env = "NAME" }`, or `{ generate = true }`
    /// for a random secret kept in the data folder.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
}

impl PluginConfig {
    /// The entry `[plugin.x] path = "..."` with nothing else: enabled, no network, the default
    /// limits, no configuration.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            enabled: true,
            allow_hosts: Vec::new(),
            limits: LimitsConfig::default(),
            config: BTreeMap::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Resource limits of one plugin; every call gets them afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Linear memory, in MiB.
    pub memory_mib: u32,
    /// Wall-clock time for one call, in milliseconds, host calls included.
    pub timeout_ms: u64,
    /// Optional instruction budget per call (deterministic, unlike the timeout).
    pub fuel: Option<u64>,
    /// Largest HTTP response body the plugin may receive, in bytes.
    pub max_http_response_bytes: u64,
    /// Largest HTTP request body the plugin may send, in bytes (raise it for a plugin that
    /// uploads images, e.g. to an image-edit API).
    pub max_http_request_bytes: u64,
    /// Largest value a call may return, in bytes.
    pub max_output_bytes: u64,
    /// Calls of this plugin that may run at once; more wait for a free slot.
    pub concurrency: u32,
    /// Keys the plugin may keep in its key-value store (all its calls together); a write
    /// of one more is refused. 0: no storage at all.
    pub kv_max_keys: u64,
    /// Bytes of keys and values the plugin may keep in its key-value store; a write that
    /// would grow past it is refused.
    pub kv_max_bytes: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            memory_mib: 64,
            timeout_ms: 10_000,
            fuel: None,
            max_http_response_bytes: 8 << 20,
            // A chat completion with a long history is a few hundred KiB; an image upload
            // of a large photo a few MiB.
            max_http_request_bytes: 8 << 20,
            max_output_bytes: 16 << 20,
            concurrency: 32,
            // The SDK's default (`ava_sdk::kv::Quota::DEFAULT`), which its test harness
            // applies too: 100,000 keys, 64 MiB.
            kv_max_keys: ava_sdk::kv::Quota::DEFAULT.max_keys,
            kv_max_bytes: ava_sdk::kv::Quota::DEFAULT.max_bytes,
        }
    }
}

/// One configuration value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// Read from an environment variable when the plugin is loaded.
    Env {
        env: String,
    },
    /// A random secret generated once and kept in the data folder.
    Generate {
        generate: bool,
    },
}

impl AvaConfig {
    /// Checks what can be checked without loading plugins. Every problem is reported, one
    /// per line, so an operator fixes a broken file in one pass rather than one per reload.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.app.history_window == 0 || self.app.max_message_chars == 0 {
            problems.push("app.history_window and app.max_message_chars must be positive".into());
        }
        if self.app.max_reply_chars < 100 {
            problems.push("app.max_reply_chars must be at least 100".into());
        }
        // One message of the longest kind must fit (4 bytes a character at most).
        let longest = u64::from(self.app.max_message_chars.max(self.app.max_reply_chars)) * 4;
        if u64::from(self.app.max_history_bytes) < longest {
            problems.push(format!(
                "app.max_history_bytes must hold at least one message of the longest kind ({longest} bytes)"
            ));
        }
        for (key, pixels) in [
            ("photo_width", self.app.photo_width),
            ("photo_height", self.app.photo_height),
        ] {
            if !(64..=4096).contains(&pixels) {
                problems.push(format!("app.{key} must be between 64 and 4096 pixels"));
            }
        }
        for (name, plugin) in &self.plugin {
            if !valid_plugin_name(name) {
                problems.push(format!(
                    "plugin name `{name}`: use lowercase letters, digits, `-` and `_`"
                ));
            }
            let limits = &plugin.limits;
            if limits.memory_mib == 0 || limits.memory_mib > self.runtime.max_memory_mib {
                problems.push(format!(
                    "plugin `{name}`: limits.memory_mib must be between 1 and runtime.max_memory_mib ({})",
                    self.runtime.max_memory_mib
                ));
            }
            if limits.timeout_ms == 0 || limits.concurrency == 0 {
                problems.push(format!(
                    "plugin `{name}`: limits.timeout_ms and limits.concurrency must be positive"
                ));
            }
            for (key, _) in plugin
                .config
                .iter()
                .filter(|(_, v)| matches!(v, ConfigValue::Generate { generate: false }))
            {
                problems.push(format!(
                    "plugin `{name}`: config `{key}` = {{ generate = false }} means nothing; give a value"
                ));
            }
        }
        let slots = [
            ("billing", &self.plugins.billing),
            ("persona", &self.plugins.persona),
            ("images", &self.plugins.images),
        ];
        for (slot, used) in slots {
            if let Some(used) = used {
                problems.extend(self.check_slot_target(slot, &used.plugin).err());
            }
        }
        for name in &self.plugins.jobs.plugins {
            problems.extend(self.check_slot_target("jobs", name).err());
        }
        problems
    }

    fn check_slot_target(&self, slot: &str, name: &str) -> Result<(), String> {
        match self.plugin.get(name) {
            None => Err(format!(
                "[plugins.{slot}] uses `{name}`, but there is no [plugin.{name}]"
            )),
            Some(p) if !p.enabled => Err(format!(
                "[plugins.{slot}] uses `{name}`, which is disabled (enabled = false)"
            )),
            Some(_) => Ok(()),
        }
    }

    /// The pool size: configured, or the sum of every plugin's concurrency (at least 16).
    pub fn max_instances(&self) -> u32 {
        self.runtime.max_instances.unwrap_or_else(|| {
            let sum: u32 = self
                .plugin
                .values()
                .map(|p| p.limits.concurrency)
                .fold(0u32, u32::saturating_add);
            sum.clamp(16, 4096)
        })
    }
}

/// Whether `name` may name a plugin in `ava.toml` (`[plugin.<name>]`).
pub fn valid_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse;

    fn parse_str(text: &str) -> Result<AvaConfig, String> {
        parse(text, Path::new("ava.toml"), Path::new("/etc/ava"), []).map_err(|e| e.to_string())
    }

    #[test]
    fn the_architecture_example_parses() {
        let config = parse_str(
            r#"
            [plugins.billing]
            use = "stripe"

            [plugin.stripe]
            path = "plugins/stripe_billing.wasm"
            enabled = true
            allow_hosts = ["api.stripe.com"]
            limits = { memory_mib = 64, timeout_ms = 10000 }
            config = { price_id = { env = "STRIPE_PRICE_ID" }, secret_key = { env = "STRIPE_SECRET_KEY" } }
            "#,
        )
        .unwrap();
        let stripe = &config.plugin["stripe"];
        assert_eq!(config.plugins.billing.as_ref().unwrap().plugin, "stripe");
        assert_eq!(
            stripe.path,
            Path::new("/etc/ava/plugins/stripe_billing.wasm")
        );
        assert_eq!(stripe.limits.memory_mib, 64);
        assert_eq!(
            stripe.limits.concurrency,
            LimitsConfig::default().concurrency
        );
        assert_eq!(
            stripe.config["secret_key"],
            ConfigValue::Env {
                env: "STRIPE_SECRET_KEY".into()
            }
        );
    }

    #[test]
    fn literal_values_of_every_toml_kind_are_accepted() {
        let config = parse_str(
            r#"
            [plugin.p]
            path = "p.wasm"
            config = { a = "x", b = 3, c = 0.5, d = true, e = { generate = true } }
            "#,
        )
        .unwrap();
        let values = &config.plugin["p"].config;
        assert_eq!(values["b"], ConfigValue::Integer(3));
        assert_eq!(values["e"], ConfigValue::Generate { generate: true });
    }

    #[test]
    fn a_typo_in_a_key_is_refused() {
        let err = parse_str("[plugin.p]\npath = \"p.wasm\"\nenabeld = false\n").unwrap_err();
        assert!(err.contains("enabeld"), "{err}");
    }

    #[test]
    fn a_slot_naming_a_missing_plugin_is_refused() {
        let err = parse_str("[plugins.persona]\nuse = \"ghost\"\n").unwrap_err();
        assert!(err.contains("no [plugin.ghost]"), "{err}");
    }

    #[test]
    fn a_slot_naming_a_disabled_plugin_is_refused() {
        let err = parse_str(
            "[plugins.persona]\nuse = \"p\"\n[plugin.p]\npath = \"p.wasm\"\nenabled = false\n",
        )
        .unwrap_err();
        assert!(err.contains("disabled"), "{err}");
    }

    #[test]
    fn memory_above_the_runtime_cap_is_refused() {
        let err = parse_str(
            "[runtime]\nmax_memory_mib = 128\n[plugin.p]\npath = \"p.wasm\"\nlimits = { memory_mib = 256 }\n",
        )
        .unwrap_err();
        assert!(err.contains("max_memory_mib (128)"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let err = parse_str(
            "[plugins.persona]\nuse = \"ghost\"\n[plugins.images]\nuse = \"off\"\n\
             [plugin.off]\npath = \"o.wasm\"\nenabled = false\n\
             [plugin.a]\npath = \"a.wasm\"\nlimits = { timeout_ms = 0 }\n\
             [plugin.b]\npath = \"b.wasm\"\nlimits = { memory_mib = 0 }\n",
        )
        .unwrap_err();
        for expected in [
            "no [plugin.ghost]",
            "`off`, which is disabled",
            "plugin `a`: limits.timeout_ms",
            "plugin `b`: limits.memory_mib",
        ] {
            assert!(
                err.contains(expected),
                "{expected:?} is missing from: {err}"
            );
        }
        assert_eq!(err.lines().count(), 4, "{err}");
    }

    #[test]
    fn pool_size_defaults_to_the_sum_of_concurrency() {
        let config = parse_str(
            "[plugin.a]\npath = \"a.wasm\"\nlimits = { concurrency = 40 }\n[plugin.b]\npath = \"b.wasm\"\nlimits = { concurrency = 10 }\n",
        )
        .unwrap();
        assert_eq!(config.max_instances(), 50);
        assert_eq!(AvaConfig::default().max_instances(), 16);
    }

    #[test]
    fn bad_plugin_names_are_refused() {
        let err = parse_str("[plugin.Bad]\npath = \"p.wasm\"\n").unwrap_err();
        assert!(err.contains("`Bad`"), "{err}");
    }
}
