//! The plugin's configuration from `ava.toml`, read and checked once per call.

use ava_sdk::{ConfigKey, PluginError, config};

/// The name of the optional API key secret. The plugin only ever refers to it by name: the
/// host fills it into the `Authorization` header on the way out.
pub const API_KEY: &str = "api_key";

const DEFAULT_TEMPERATURE: f64 = 0.8;
const DEFAULT_MAX_TOKENS: u32 = 400;
const DEFAULT_TIMEOUT_MS: u32 = 60_000;

/// How the plugin learns that the user wants a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoIntent {
    /// The model is offered a `send_photo` function tool and calls it.
    Tool,
    /// A separate small JSON request asks the model, for servers without tool support.
    Classify,
}

/// Everything the plugin reads from its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `{base_url}/chat/completions`.
    pub endpoint: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    pub timeout_ms: u32,
    pub photo_intent: PhotoIntent,
    /// Sent as `HTTP-Referer` (OpenRouter's app attribution).
    pub referer: Option<String>,
    /// Sent as `X-Title` (OpenRouter's app attribution).
    pub title: Option<String>,
    /// Whether the `api_key` secret is configured; a local server needs none.
    pub has_api_key: bool,
}

/// The keys declared in `metadata()`, so `ava plugins check` can list and validate them.
pub fn keys() -> Vec<ConfigKey> {
    vec![
        ConfigKey::required(
            "base_url",
            "the API's base URL, e.g. https://api.openai.com/v1 or http://localhost:11434/v1",
        ),
        ConfigKey::required("model", "the model name, e.g. gpt-4o-mini or llama3.1"),
        ConfigKey::optional_secret(
            API_KEY,
            "the API key, sent as a bearer token; leave unset for a local server",
        ),
        ConfigKey::optional("temperature", "sampling temperature, 0 to 2 (default 0.8)"),
        ConfigKey::optional("max_tokens", "the longest reply in tokens (default 400)"),
        ConfigKey::optional("timeout_ms", "per-request timeout in ms (default 60000)"),
        ConfigKey::optional(
            "photo_intent",
            "how photo requests are detected: `tool` (function calling, default) or `classify` (a JSON request, for servers without tools)",
        ),
        ConfigKey::optional("referer", "sent as HTTP-Referer (OpenRouter attribution)"),
        ConfigKey::optional("title", "sent as X-Title (OpenRouter attribution)"),
    ]
}

impl Settings {
    /// Reads and checks the configuration. A bad value is an error naming its key, so the
    /// operator can fix `ava.toml` from the log line alone.
    pub fn load() -> Result<Self, PluginError> {
        let base_url = config::require("base_url")?;
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(bad_value("base_url", &base_url, "must be an http(s) URL"));
        }
        let model = config::require("model")?.trim().to_string();

        let temperature = config::parse::<f64>("temperature")?.unwrap_or(DEFAULT_TEMPERATURE);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(bad_value(
                "temperature",
                &temperature.to_string(),
                "must be between 0 and 2",
            ));
        }
        let max_tokens = positive("max_tokens", DEFAULT_MAX_TOKENS)?;
        let timeout_ms = positive("timeout_ms", DEFAULT_TIMEOUT_MS)?;

        let photo_intent = match text("photo_intent").as_deref() {
            None | Some("tool") => PhotoIntent::Tool,
            Some("classify") => PhotoIntent::Classify,
            Some(other) => {
                return Err(bad_value(
                    "photo_intent",
                    other,
                    "must be `tool` or `classify`",
                ));
            }
        };

        Ok(Self {
            endpoint: format!("{base}/chat/completions"),
            model,
            temperature,
            max_tokens,
            timeout_ms,
            photo_intent,
            referer: text("referer"),
            title: text("title"),
            has_api_key: config::has_secret(API_KEY),
        })
    }
}

/// An optional text value; blank counts as unset.
fn text(key: &str) -> Option<String> {
    config::get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// An optional positive integer with a default.
fn positive(key: &str, default: u32) -> Result<u32, PluginError> {
    match config::parse::<u32>(key)? {
        None => Ok(default),
        Some(0) => Err(bad_value(key, "0", "must be greater than 0")),
        Some(n) => Ok(n),
    }
}

/// Worded like `config::parse`'s own errors, so every configuration error reads the same.
fn bad_value(key: &str, raw: &str, why: &str) -> PluginError {
    PluginError::internal(format!("configuration key `{key}` = {raw:?}: {why}"))
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;

    use super::*;

    fn base() -> TestHost {
        TestHost::new()
            .config("base_url", "https://api.openai.com/v1/")
            .config("model", "gpt-4o-mini")
    }

    fn internal_message(err: PluginError) -> String {
        match err {
            PluginError::Internal(m) => m,
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_apply_and_a_trailing_slash_is_trimmed() {
        let settings = base().run(Settings::load).unwrap();
        assert_eq!(
            settings.endpoint,
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(settings.temperature, 0.8);
        assert_eq!(settings.max_tokens, 400);
        assert_eq!(settings.timeout_ms, 60_000);
        assert_eq!(settings.photo_intent, PhotoIntent::Tool);
        assert_eq!(settings.referer, None);
        assert!(!settings.has_api_key);
    }

    #[test]
    fn a_number_that_does_not_parse_names_its_key() {
        let err = base()
            .config("max_tokens", "lots")
            .run(Settings::load)
            .unwrap_err();
        assert!(internal_message(err).contains("`max_tokens`"));
    }

    #[test]
    fn a_temperature_out_of_range_names_its_key() {
        let err = base()
            .config("temperature", "3.5")
            .run(Settings::load)
            .unwrap_err();
        assert!(internal_message(err).contains("`temperature`"));
    }

    #[test]
    fn an_unknown_photo_intent_names_its_key() {
        let err = base()
            .config("photo_intent", "regex")
            .run(Settings::load)
            .unwrap_err();
        assert!(internal_message(err).contains("`photo_intent`"));
    }

    #[test]
    fn a_base_url_without_scheme_is_refused() {
        let err = TestHost::new()
            .config("base_url", "api.openai.com/v1")
            .config("model", "m")
            .run(Settings::load)
            .unwrap_err();
        assert!(internal_message(err).contains("`base_url`"));
    }
}
