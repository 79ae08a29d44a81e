//! What one configured plugin may use: its own configuration values and secrets, its network
//! allowlist, its limits. Built once per load; shared by every call of the plugin.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::allowlist::Allowlist;
use super::limits::Limits;
use super::types::PluginInfo;
use crate::config::{ConfigValue, PluginConfig};

/// Reads an environment variable; injected so tests control the environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> EnvLookup {
    Arc::new(|name| std::env::var(name).ok())
}

/// One plugin's grants.
pub struct Grants {
    /// The plugin's name in `ava.toml`.
    pub name: String,
    config: BTreeMap<String, String>,
    secrets: BTreeMap<String, SecretString>,
    pub allowlist: Allowlist,
    pub limits: Limits,
}

impl std::fmt::Debug for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grants")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("allowlist", &self.allowlist)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Replaces secret values in text that leaves the host's control (plugin log lines).
const REDACTED: &str = "[redacted]";
/// Secrets shorter than this are not redacted: replacing "1" everywhere would garble logs.
const MIN_REDACTED_LEN: usize = 6;

impl Grants {
    /// Grants for a plugin before its configuration is known: used to ask its `metadata()`.
    pub fn unconfigured(name: &str, limits: Limits) -> Self {
        Self {
            name: name.to_string(),
            config: BTreeMap::new(),
            secrets: BTreeMap::new(),
            allowlist: Allowlist::default(),
            limits,
        }
    }

    /// Resolves `plugin`'s configuration against what it declared in `info`.
    pub fn resolve(
        name: &str,
        plugin: &PluginConfig,
        info: &PluginInfo,
        env: &EnvLookup,
        secrets_dir: &Path,
        public_url: &Url,
    ) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut config = BTreeMap::new();
        let mut secrets = BTreeMap::new();

        for (key, value) in &plugin.config {
            let Some(declared) = info.config.iter().find(|k| &k.name == key) else {
                let known: Vec<_> = info.config.iter().map(|k| k.name.as_str()).collect();
                problems.push(format!(
                    "has no configuration key `{key}` (it knows: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
                continue;
            };
            let resolved = match value {
                ConfigValue::String(s) => Some(s.clone()),
                ConfigValue::Integer(i) => Some(i.to_string()),
                ConfigValue::Float(f) => Some(f.to_string()),
                ConfigValue::Boolean(b) => Some(b.to_string()),
                ConfigValue::Env { env: var } => env(var),
                ConfigValue::Generate { .. } => match generated_secret(secrets_dir, name, key) {
                    Ok(secret) => Some(secret),
                    Err(err) => {
                        problems.push(format!("cannot keep generated secret `{key}`: {err}"));
                        continue;
                    }
                },
            };
            let literal = !matches!(
                value,
                ConfigValue::Env { .. } | ConfigValue::Generate { .. }
            );
            if declared.secret && literal {
                problems.push(format!(
                    "`{key}` is a secret: write `{key} = {{ env = \"NAME\" }}` and set NAME in the \
                     environment, never the value in the file"
                ));
                continue;
            }
            let Some(resolved) = resolved.filter(|v| !v.is_empty()) else {
                continue;
            };
            if declared.secret {
                secrets.insert(key.clone(), SecretString::from(resolved));
            } else {
                config.insert(key.clone(), resolved);
            }
        }

        for declared in info.config.iter().filter(|k| k.required) {
            let present =
                config.contains_key(&declared.name) || secrets.contains_key(&declared.name);
            if present
                || problems
                    .iter()
                    .any(|p| p.contains(&format!("`{}`", declared.name)))
            {
                continue;
            }
            let how = match plugin.config.get(&declared.name) {
                Some(ConfigValue::Env { env }) => {
                    format!("its environment variable {env} is not set")
                }
                _ => "add it to the plugin's `config` table".to_string(),
            };
            problems.push(format!(
                "required configuration `{}` ({}) is missing: {how}",
                declared.name, declared.description
            ));
        }

        let allowlist = match Allowlist::parse(&plugin.allow_hosts, public_url) {
            Ok(list) => list,
            Err(err) => {
                problems.push(err);
                Allowlist::default()
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            name: name.to_string(),
            config,
            secrets,
            allowlist,
            limits: Limits::from(&plugin.limits),
        })
    }

    /// The non-secret value of `key`.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(String::as_str)
    }

    /// The secret `name`, for the host's own use (header injection, HMAC).
    pub fn secret(&self, name: &str) -> Option<&SecretString> {
        self.secrets.get(name)
    }

    /// The names of the configured secrets (never their values).
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// `text` with every secret value replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in self.secrets.values() {
            let value = secret.expose_secret();
            if value.len() >= MIN_REDACTED_LEN && out.contains(value) {
                out = out.replace(value, REDACTED);
            }
        }
        out
    }
}

/// A random secret generated on first use and kept, readable by the owner only, in the data
/// folder, so it survives restarts (a webhook signed before a restart still verifies after).
fn generated_secret(dir: &Path, plugin: &str, key: &str) -> std::io::Result<String> {
    use rand::RngCore;
    let path = dir.join(format!("{plugin}.{key}"));
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_string()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("gen_{}", hex::encode(bytes));
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(secret.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::types::ConfigKey;

    fn info(keys: &[(&str, bool, bool)]) -> PluginInfo {
        PluginInfo {
            name: "p".into(),
            version: "1.0.0".into(),
            contract: "0.1.0".into(),
            description: String::new(),
            config: keys
                .iter()
                .map(|(name, required, secret)| ConfigKey {
                    name: name.to_string(),
                    description: format!("the {name}"),
                    required: *required,
                    secret: *secret,
                })
                .collect(),
        }
    }

    fn plugin(toml_config: &str) -> PluginConfig {
        let text = format!("path = \"p.wasm\"\nconfig = {toml_config}\n");
        toml::from_str(&text).unwrap()
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> EnvLookup {
        Arc::new(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    fn resolve(
        cfg: &str,
        keys: &[(&str, bool, bool)],
        e: EnvLookup,
    ) -> Result<Grants, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("http://localhost:8080").unwrap();
        Grants::resolve("p", &plugin(cfg), &info(keys), &e, dir.path(), &url)
    }

    #[test]
    fn secrets_and_values_are_kept_apart() {
        let g = resolve(
            r#"{ price = "price_1", key = { env = "SK" } }"#,
            &[("price", true, false), ("key", true, true)],
            env(&[("SK", "sk_test_abcdef")]),
        )
        .unwrap();
        assert_eq!(g.config("price"), Some("price_1"));
        assert_eq!(g.config("key"), None);
        assert_eq!(g.secret("key").unwrap().expose_secret(), "sk_test_abcdef");
        assert!(!format!("{g:?}").contains("sk_test_abcdef"));
    }

    #[test]
    fn a_literal_secret_is_refused() {
        let err =
            resolve(r#"{ key = "sk_live_x" }"#, &[("key", true, true)], env(&[])).unwrap_err();
        assert!(err[0].contains("never the value in the file"), "{err:?}");
    }

    #[test]
    fn a_missing_required_env_var_is_named() {
        let err = resolve(
            r#"{ key = { env = "NOPE" } }"#,
            &[("key", true, true)],
            env(&[]),
        )
        .unwrap_err();
        assert!(err[0].contains("NOPE is not set"), "{err:?}");
    }

    #[test]
    fn an_undeclared_key_is_refused_with_the_known_ones() {
        let err = resolve(r#"{ modle = "x" }"#, &[("model", false, false)], env(&[])).unwrap_err();
        assert!(
            err[0].contains("`modle`") && err[0].contains("model"),
            "{err:?}"
        );
    }

    #[test]
    fn a_missing_optional_value_is_fine() {
        let g = resolve(
            r#"{ key = { env = "NOPE" } }"#,
            &[("key", false, true)],
            env(&[]),
        )
        .unwrap();
        assert!(g.secret("key").is_none());
    }

    #[test]
    fn generated_secrets_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("http://localhost:8080").unwrap();
        let p = plugin("{ s = { generate = true } }");
        let i = info(&[("s", true, true)]);
        let e = env(&[]);
        let a = Grants::resolve("p", &p, &i, &e, dir.path(), &url).unwrap();
        let b = Grants::resolve("p", &p, &i, &e, dir.path(), &url).unwrap();
        let first = a.secret("s").unwrap().expose_secret();
        assert_eq!(first, b.secret("s").unwrap().expose_secret());
        assert!(first.len() > 32);
    }

    #[test]
    fn redaction_hides_secret_values() {
        let g = resolve(
            r#"{ key = { env = "SK" } }"#,
            &[("key", true, true)],
            env(&[("SK", "sk_test_abcdef")]),
        )
        .unwrap();
        assert_eq!(g.redact("got sk_test_abcdef back"), "got [redacted] back");
    }
}
