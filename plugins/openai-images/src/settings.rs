//! The plugin's configuration keys, and the values read from them for each call.

use ava_sdk::{ConfigKey, PluginError, config};

use crate::model::Family;
use crate::size::Size;

/// The API key. The plugin only names it: the host fills it into the `Authorization` header
/// of each request to the API's origin.
pub const API_KEY: &str = "api_key";

const BASE_URL: &str = "base_url";
const MODEL: &str = "model";
const SIZE: &str = "size";
const QUALITY: &str = "quality";
const OUTPUT_FORMAT: &str = "output_format";
const TIMEOUT_MS: &str = "timeout_ms";

const DEFAULT_BASE_URL: &str = "https://api.openai.com";
const DEFAULT_MODEL: &str = "gpt-image-1";
/// gpt-image-1 takes up to a minute for a large image at high quality; twice that leaves room
/// for a busy day.
const DEFAULT_TIMEOUT_MS: u32 = 120_000;

/// The formats gpt-image models can answer in.
const OUTPUT_FORMATS: [&str; 3] = ["png", "jpeg", "webp"];

/// Everything the plugin reads from its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The API's root, e.g. `https://api.openai.com`, without a trailing slash or `/v1`.
    pub api_base: String,
    pub model: String,
    pub family: Family,
    /// The configured size, sent as it is; `None`: derived from each request.
    pub size: Option<Size>,
    pub quality: Option<String>,
    /// `png`, `jpeg` or `webp`, for models that take `output_format`.
    pub output_format: Option<String>,
    pub timeout_ms: u32,
    /// Whether the `api_key` secret is configured; a local server may need none.
    pub has_api_key: bool,
}

/// The keys declared in `metadata()`, so `ava plugins check` can list and validate them.
pub fn keys() -> Vec<ConfigKey> {
    vec![
        ConfigKey::optional_secret(
            API_KEY,
            "the API key, sent as a bearer token to the API's origin only, e.g. `{ env = \"OPENAI_API_KEY\" }`; leave unset for a local server without keys",
        ),
        ConfigKey::optional(
            BASE_URL,
            "the API's base URL (default `https://api.openai.com`); any server speaking OpenAI's Images API works",
        ),
        ConfigKey::optional(
            MODEL,
            "the model: `gpt-image-1` (default), `dall-e-3`, `dall-e-2`, or another server's model name",
        ),
        ConfigKey::optional(
            SIZE,
            "`WIDTHxHEIGHT` or `auto`, sent with every image (default: the model's size nearest to the requested one)",
        ),
        ConfigKey::optional(
            QUALITY,
            "sent as `quality` when set: `low`, `medium`, `high` or `auto` for gpt-image-1; `standard` or `hd` for dall-e-3",
        ),
        ConfigKey::optional(
            OUTPUT_FORMAT,
            "`png`, `jpeg` or `webp` (gpt-image models and other servers; default: the model's, PNG)",
        ),
        ConfigKey::optional(
            TIMEOUT_MS,
            "how long one image may take, in ms (default 120000); keep the plugin's `limits.timeout_ms` longer",
        ),
    ]
}

impl Settings {
    /// Reads and checks the configuration. A bad value is an error naming its key, so the
    /// operator can fix `ava.toml` from the log line alone.
    pub fn load() -> Result<Self, PluginError> {
        let model = text(MODEL).unwrap_or_else(|| DEFAULT_MODEL.into());
        let family = Family::of(&model);
        Ok(Self {
            api_base: api_base()?,
            size: size(family)?,
            quality: text(QUALITY),
            output_format: output_format(family)?,
            timeout_ms: match config::parse::<u32>(TIMEOUT_MS)? {
                None => DEFAULT_TIMEOUT_MS,
                Some(0) => return Err(bad_value(TIMEOUT_MS, "0", "must be greater than 0")),
                Some(ms) => ms,
            },
            has_api_key: config::has_secret(API_KEY),
            model,
            family,
        })
    }

    /// `POST` here to generate.
    pub fn endpoint(&self) -> String {
        format!("{}/v1/images/generations", self.api_base)
    }

    /// Where the API describes the configured model.
    pub fn model_url(&self) -> String {
        format!("{}/v1/models/{}", self.api_base, self.model)
    }
}

/// The root of the API. A base ending in `/v1` (as `openai-persona`'s `base_url` is written)
/// is taken as its root, so the same value works for both plugins.
fn api_base() -> Result<String, PluginError> {
    let raw = text(BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.into());
    if !(raw.starts_with("https://") || raw.starts_with("http://")) {
        return Err(bad_value(BASE_URL, &raw, "must be an http(s) URL"));
    }
    let base = raw.trim_end_matches('/');
    Ok(base.strip_suffix("/v1").unwrap_or(base).to_string())
}

/// The configured size. For OpenAI's own models it must be one they take, so a typo is a
/// configuration error at the first call rather than a refusal of every image.
fn size(family: Family) -> Result<Option<Size>, PluginError> {
    let Some(raw) = text(SIZE) else {
        return Ok(None);
    };
    let size = Size::parse(&raw).ok_or_else(|| {
        bad_value(
            SIZE,
            &raw,
            "must be `WIDTHxHEIGHT`, e.g. `1024x1024`, or `auto`",
        )
    })?;
    match family.sizes() {
        Some(supported) if !family.accepts(size) => {
            let mut names: Vec<String> = supported.iter().map(Size::to_string).collect();
            if family.takes_auto_size() {
                names.push(Size::Auto.to_string());
            }
            Err(bad_value(
                SIZE,
                &raw,
                &format!("this model takes {}", names.join(", ")),
            ))
        }
        _ => Ok(Some(size)),
    }
}

fn output_format(family: Family) -> Result<Option<String>, PluginError> {
    let Some(raw) = text(OUTPUT_FORMAT) else {
        return Ok(None);
    };
    let format = raw.to_ascii_lowercase();
    if !OUTPUT_FORMATS.contains(&format.as_str()) {
        return Err(bad_value(
            OUTPUT_FORMAT,
            &raw,
            "must be `png`, `jpeg` or `webp`",
        ));
    }
    if !family.takes_output_format() {
        return Err(bad_value(
            OUTPUT_FORMAT,
            &raw,
            "DALL·E models answer PNG only and refuse `output_format`",
        ));
    }
    Ok(Some(format))
}

/// An optional text value; blank counts as unset.
fn text(key: &str) -> Option<String> {
    config::get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Worded like `config::parse`'s own errors, so every configuration error reads the same.
fn bad_value(key: &str, raw: &str, why: &str) -> PluginError {
    PluginError::internal(format!("configuration key `{key}` = {raw:?}: {why}"))
}

#[cfg(test)]
mod tests {
    use ava_sdk::testing::TestHost;

    use super::*;

    fn internal_message(result: Result<Settings, PluginError>) -> String {
        match result {
            Err(PluginError::Internal(m)) => m,
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_apply() {
        let settings = TestHost::new().run(Settings::load).unwrap();
        assert_eq!(settings.api_base, "https://api.openai.com");
        assert_eq!(
            settings.endpoint(),
            "https://api.openai.com/v1/images/generations"
        );
        assert_eq!(settings.model, "gpt-image-1");
        assert_eq!(settings.family, Family::GptImage);
        assert_eq!(settings.size, None);
        assert_eq!(settings.quality, None);
        assert_eq!(settings.output_format, None);
        assert_eq!(settings.timeout_ms, 120_000);
        assert!(!settings.has_api_key);
    }

    #[test]
    fn a_base_url_loses_its_trailing_slash_and_v1_and_needs_a_scheme() {
        for raw in [
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000/",
            "http://127.0.0.1:9000/v1",
            "http://127.0.0.1:9000/v1/",
        ] {
            let settings = TestHost::new()
                .config(BASE_URL, raw)
                .run(Settings::load)
                .unwrap();
            assert_eq!(
                settings.endpoint(),
                "http://127.0.0.1:9000/v1/images/generations",
                "{raw}"
            );
        }
        let err = internal_message(
            TestHost::new()
                .config(BASE_URL, "api.openai.com")
                .run(Settings::load),
        );
        assert!(err.contains("`base_url`"), "{err}");
    }

    #[test]
    fn a_size_the_model_does_not_take_names_its_key_and_the_sizes_it_takes() {
        let err = internal_message(
            TestHost::new()
                .config(SIZE, "1024x1792")
                .run(Settings::load),
        );
        assert!(
            err.contains("`size`") && err.contains("1024x1536") && err.contains("auto"),
            "{err}"
        );
        let err = internal_message(
            TestHost::new()
                .config(MODEL, "dall-e-3")
                .config(SIZE, "auto")
                .run(Settings::load),
        );
        assert!(
            err.ends_with("this model takes 1024x1024, 1792x1024, 1024x1792"),
            "{err}"
        );
        let err = internal_message(TestHost::new().config(SIZE, "big").run(Settings::load));
        assert!(err.contains("WIDTHxHEIGHT"), "{err}");
    }

    #[test]
    fn another_servers_model_takes_any_size() {
        let settings = TestHost::new()
            .config(MODEL, "flux.1-schnell")
            .config(SIZE, "832x1248")
            .run(Settings::load)
            .unwrap();
        assert_eq!(settings.family, Family::Other);
        assert_eq!(settings.size.unwrap().to_string(), "832x1248");
    }

    #[test]
    fn the_output_format_is_checked_and_refused_for_dall_e() {
        let settings = TestHost::new()
            .config(OUTPUT_FORMAT, "WebP")
            .run(Settings::load)
            .unwrap();
        assert_eq!(settings.output_format.as_deref(), Some("webp"));
        let err = internal_message(
            TestHost::new()
                .config(OUTPUT_FORMAT, "gif")
                .run(Settings::load),
        );
        assert!(err.contains("`output_format`"), "{err}");
        let err = internal_message(
            TestHost::new()
                .config(MODEL, "dall-e-3")
                .config(OUTPUT_FORMAT, "png")
                .run(Settings::load),
        );
        assert!(err.contains("PNG only"), "{err}");
    }

    #[test]
    fn a_zero_or_unreadable_timeout_names_its_key() {
        for bad in ["0", "soon"] {
            let err = internal_message(TestHost::new().config(TIMEOUT_MS, bad).run(Settings::load));
            assert!(err.contains("`timeout_ms`"), "{bad}: {err}");
        }
    }
}
