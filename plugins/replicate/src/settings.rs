//! The plugin's configuration keys, and the values read from them for each call.

use ava_sdk::{ConfigKey, PluginError, config};
use serde_json::{Map, Value};

use crate::aspect::{self, Ratio};

/// The Replicate API token. The plugin only names it: the host fills it into the
/// `Authorization` header of each request to Replicate.
pub const API_TOKEN: &str = "api_token";

const API_BASE: &str = "api_base";
const MODEL: &str = "model";
const VERSION: &str = "version";
const WAIT_SECONDS: &str = "wait_seconds";
const POLL_INTERVAL_MS: &str = "poll_interval_ms";
const TIMEOUT_MS: &str = "timeout_ms";
const INPUT: &str = "input";
const SEED_MAX: &str = "seed_max";
const ASPECT_RATIOS: &str = "aspect_ratios";

const DEFAULT_API_BASE: &str = "https://api.replicate.com";
/// Replicate holds a `Prefer: wait` request open for at most 60 seconds.
const MAX_WAIT_SECONDS: u32 = 60;
const DEFAULT_POLL_INTERVAL_MS: u32 = 1_000;
const DEFAULT_TIMEOUT_MS: u32 = 120_000;
/// Seeds reach the model as they are, and many models refuse seeds past a 32-bit signed
/// integer (their schema's maximum, or numpy's seeding). The host's seeds go up to 2^52.
const DEFAULT_SEED_MAX: u64 = i32::MAX as u64;
/// The value of a `*_field` key that means "this model has no such input".
const NO_FIELD: &str = "none";

/// The input field keys: `(key, default field name, what it carries)`.
const FIELDS: [(&str, Option<&str>, &str); 6] = [
    ("prompt_field", Some("prompt"), "the prompt"),
    (
        "negative_prompt_field",
        Some("negative_prompt"),
        "the negative prompt",
    ),
    ("seed_field", Some("seed"), "the seed"),
    ("width_field", Some("width"), "the width in pixels"),
    ("height_field", Some("height"), "the height in pixels"),
    (
        "aspect_ratio_field",
        None,
        "the aspect ratio nearest to width:height, e.g. `2:3`",
    ),
];

/// Which model runs: an official model by name, or any model by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `owner/name`, run through `POST /v1/models/{owner}/{name}/predictions`.
    Model { owner: String, name: String },
    /// A version id (or `owner/name:id`), run through `POST /v1/predictions`.
    Version(String),
}

impl Target {
    /// How the target is named in logs and in the image's `model`.
    pub fn describe(&self) -> String {
        match self {
            Self::Model { owner, name } => format!("{owner}/{name}"),
            Self::Version(version) => version.clone(),
        }
    }
}

/// The names of the model's input fields; `None` where the model has no such input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub seed: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
    pub aspect_ratio: Option<String>,
}

/// Everything the plugin reads from its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// E.g. `https://api.replicate.com`, without a trailing slash.
    pub api_base: String,
    pub target: Target,
    /// Seconds Replicate may hold the create request open (`Prefer: wait=N`).
    pub wait_seconds: u32,
    pub poll_interval_ms: u32,
    /// The whole prediction, from creating it to its end; past it the prediction is canceled.
    pub timeout_ms: u32,
    /// Model-specific input sent with every prediction, e.g. `{"output_format": "png"}`.
    pub extra_input: Map<String, Value>,
    pub fields: Fields,
    /// Seeds are folded into `0..=seed_max`.
    pub seed_max: u64,
    /// The aspect ratios the model accepts, for `aspect_ratio_field`.
    pub aspect_ratios: Vec<Ratio>,
}

/// The keys declared in `metadata()`.
pub fn keys() -> Vec<ConfigKey> {
    let mut keys = vec![
        ConfigKey::secret(API_TOKEN, "Replicate API token (`r8_…`)"),
        ConfigKey::optional(
            MODEL,
            "an official model to run, `owner/name`, e.g. `black-forest-labs/flux-schnell` (set this or `version`)",
        ),
        ConfigKey::optional(
            VERSION,
            "a model version id to run, for models without an official endpoint (set this or `model`)",
        ),
        ConfigKey::optional(
            API_BASE,
            "Replicate's API base URL (default `https://api.replicate.com`)",
        ),
        ConfigKey::optional(
            WAIT_SECONDS,
            "how long Replicate holds the create request open for the result, 1 to 60 s (default 60)",
        ),
        ConfigKey::optional(
            POLL_INTERVAL_MS,
            "pause between status checks once the wait is over, in ms (default 1000)",
        ),
        ConfigKey::optional(
            TIMEOUT_MS,
            "deadline for the whole prediction in ms (default 120000); past it the prediction is canceled",
        ),
        ConfigKey::optional(
            INPUT,
            "a JSON object of model-specific input sent with every prediction, e.g. `{\"output_format\": \"png\"}`",
        ),
        ConfigKey::optional(
            SEED_MAX,
            "the largest seed the model takes (default 2147483647); larger seeds are folded into range",
        ),
        ConfigKey::optional(
            ASPECT_RATIOS,
            "the aspect ratios the model accepts, comma-separated (default: FLUX's 1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21)",
        ),
    ];
    for (key, default, carries) in FIELDS {
        let default = match default {
            Some(name) => format!("default `{name}`"),
            None => "default: not sent".to_string(),
        };
        keys.push(ConfigKey::optional(
            key,
            &format!("the model's input field for {carries} ({default}; `{NO_FIELD}`: not sent)"),
        ));
    }
    keys
}

impl Settings {
    /// Reads and checks the configuration. A bad value is an error naming its key, so the
    /// operator can fix `ava.toml` from the log line alone.
    pub fn load() -> Result<Self, PluginError> {
        Ok(Self {
            api_base: api_base()?,
            target: target()?,
            wait_seconds: ranged(WAIT_SECONDS, MAX_WAIT_SECONDS, 1..=MAX_WAIT_SECONDS)?,
            poll_interval_ms: ranged(POLL_INTERVAL_MS, DEFAULT_POLL_INTERVAL_MS, 1..=u32::MAX)?,
            timeout_ms: ranged(TIMEOUT_MS, DEFAULT_TIMEOUT_MS, 1..=u32::MAX)?,
            extra_input: extra_input()?,
            fields: fields()?,
            seed_max: match config::parse::<u64>(SEED_MAX)? {
                None => DEFAULT_SEED_MAX,
                Some(0) => return Err(bad_value(SEED_MAX, "0", "must be greater than 0")),
                Some(max) => max,
            },
            aspect_ratios: match text(ASPECT_RATIOS) {
                None => aspect::flux_ratios(),
                Some(raw) => {
                    aspect::parse_list(&raw).map_err(|why| bad_value(ASPECT_RATIOS, &raw, &why))?
                }
            },
        })
    }
}

fn api_base() -> Result<String, PluginError> {
    let raw = text(API_BASE).unwrap_or_else(|| DEFAULT_API_BASE.into());
    if !(raw.starts_with("https://") || raw.starts_with("http://")) {
        return Err(bad_value(API_BASE, &raw, "must be an http(s) URL"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn target() -> Result<Target, PluginError> {
    match (text(MODEL), text(VERSION)) {
        (Some(model), None) => {
            let parts = model
                .split_once('/')
                .filter(|(owner, name)| is_path_segment(owner) && is_path_segment(name));
            match parts {
                Some((owner, name)) => Ok(Target::Model {
                    owner: owner.into(),
                    name: name.into(),
                }),
                None => Err(bad_value(MODEL, &model, "must be `owner/name`")),
            }
        }
        (None, Some(version)) if !version.contains(char::is_whitespace) => {
            Ok(Target::Version(version))
        }
        (None, Some(version)) => Err(bad_value(VERSION, &version, "must not contain spaces")),
        (Some(_), Some(_)) | (None, None) => Err(PluginError::internal(format!(
            "configuration: set exactly one of `{MODEL}` (an official model, `owner/name`) or \
             `{VERSION}` (a model version id)"
        ))),
    }
}

/// Replicate's owner and model names: letters, digits, `-`, `_` and `.`.
fn is_path_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn extra_input() -> Result<Map<String, Value>, PluginError> {
    let Some(raw) = text(INPUT) else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(&raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_value(INPUT, &raw, "must be a JSON object")),
        Err(err) => Err(bad_value(INPUT, &raw, &format!("is not JSON: {err}"))),
    }
}

fn fields() -> Result<Fields, PluginError> {
    let [prompt, negative_prompt, seed, width, height, aspect_ratio] =
        FIELDS.map(|(key, default, _)| match text(key) {
            Some(name) if name == NO_FIELD => None,
            Some(name) => Some(name),
            None => default.map(str::to_string),
        });
    let prompt = prompt.ok_or_else(|| {
        bad_value(
            FIELDS[0].0,
            NO_FIELD,
            "the prompt is what the model draws: it needs a field",
        )
    })?;
    Ok(Fields {
        prompt,
        negative_prompt,
        seed,
        width,
        height,
        aspect_ratio,
    })
}

/// An optional text value; blank counts as unset.
fn text(key: &str) -> Option<String> {
    config::get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// An optional integer in `range`, with a default.
fn ranged(
    key: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, PluginError> {
    match config::parse::<u32>(key)? {
        None => Ok(default),
        Some(n) if range.contains(&n) => Ok(n),
        Some(n) => Err(bad_value(
            key,
            &n.to_string(),
            &format!("must be between {} and {}", range.start(), range.end()),
        )),
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

    fn flux() -> TestHost {
        TestHost::new().config(MODEL, "black-forest-labs/flux-schnell")
    }

    fn internal_message(result: Result<Settings, PluginError>) -> String {
        match result {
            Err(PluginError::Internal(m)) => m,
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_apply() {
        let settings = flux().run(Settings::load).unwrap();
        assert_eq!(settings.api_base, "https://api.replicate.com");
        assert_eq!(
            settings.target,
            Target::Model {
                owner: "black-forest-labs".into(),
                name: "flux-schnell".into()
            }
        );
        assert_eq!(settings.wait_seconds, 60);
        assert_eq!(settings.poll_interval_ms, 1_000);
        assert_eq!(settings.timeout_ms, 120_000);
        assert!(settings.extra_input.is_empty());
        assert_eq!(settings.seed_max, 2_147_483_647);
        assert_eq!(settings.aspect_ratios, aspect::flux_ratios());
        assert_eq!(
            settings.fields,
            Fields {
                prompt: "prompt".into(),
                negative_prompt: Some("negative_prompt".into()),
                seed: Some("seed".into()),
                width: Some("width".into()),
                height: Some("height".into()),
                aspect_ratio: None,
            }
        );
    }

    #[test]
    fn fields_can_be_renamed_or_left_out() {
        let settings = flux()
            .config("prompt_field", "text")
            .config("negative_prompt_field", "none")
            .config("width_field", "none")
            .config("height_field", "none")
            .config("aspect_ratio_field", "aspect_ratio")
            .run(Settings::load)
            .unwrap();
        let fields = settings.fields;
        assert_eq!(fields.prompt, "text");
        assert_eq!(fields.negative_prompt, None);
        assert_eq!((fields.width, fields.height), (None, None));
        assert_eq!(fields.aspect_ratio.as_deref(), Some("aspect_ratio"));
        assert_eq!(fields.seed.as_deref(), Some("seed"));
    }

    #[test]
    fn the_prompt_field_cannot_be_left_out() {
        let err = internal_message(flux().config("prompt_field", "none").run(Settings::load));
        assert!(err.contains("`prompt_field`"), "{err}");
    }

    #[test]
    fn a_version_runs_through_the_predictions_endpoint() {
        let settings = TestHost::new()
            .config(
                VERSION,
                "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
            )
            .run(Settings::load)
            .unwrap();
        assert_eq!(
            settings.target,
            Target::Version(
                "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b".into()
            )
        );
    }

    #[test]
    fn exactly_one_of_model_and_version_is_required() {
        let neither = internal_message(TestHost::new().run(Settings::load));
        assert!(neither.contains("`model`") && neither.contains("`version`"));
        let both = internal_message(flux().config(VERSION, "abc").run(Settings::load));
        assert!(both.contains("exactly one"), "{both}");
    }

    #[test]
    fn a_model_that_is_not_owner_slash_name_names_its_key() {
        for bad in ["flux-schnell", "a/b/c", "/flux", "owner/", "a b/c"] {
            let err = internal_message(TestHost::new().config(MODEL, bad).run(Settings::load));
            assert!(err.contains("`model`"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_wait_is_one_to_sixty_seconds() {
        let err = internal_message(flux().config(WAIT_SECONDS, "61").run(Settings::load));
        assert!(err.contains("`wait_seconds`"), "{err}");
        let err = internal_message(flux().config(WAIT_SECONDS, "0").run(Settings::load));
        assert!(err.contains("between 1 and 60"), "{err}");
        let settings = flux()
            .config(WAIT_SECONDS, "5")
            .run(Settings::load)
            .unwrap();
        assert_eq!(settings.wait_seconds, 5);
    }

    #[test]
    fn extra_input_must_be_a_json_object() {
        let settings = flux()
            .config(INPUT, r#"{"output_format": "png", "go_fast": true}"#)
            .run(Settings::load)
            .unwrap();
        assert_eq!(settings.extra_input["output_format"], "png");
        assert_eq!(settings.extra_input["go_fast"], true);
        let err = internal_message(flux().config(INPUT, "[1, 2]").run(Settings::load));
        assert!(
            err.contains("`input`") && err.contains("JSON object"),
            "{err}"
        );
        let err = internal_message(flux().config(INPUT, "{output_format").run(Settings::load));
        assert!(err.contains("not JSON"), "{err}");
    }

    #[test]
    fn an_api_base_loses_its_trailing_slash_and_needs_a_scheme() {
        let settings = flux()
            .config(API_BASE, "http://127.0.0.1:9000/")
            .run(Settings::load)
            .unwrap();
        assert_eq!(settings.api_base, "http://127.0.0.1:9000");
        let err = internal_message(
            flux()
                .config(API_BASE, "api.replicate.com")
                .run(Settings::load),
        );
        assert!(err.contains("`api_base`"), "{err}");
    }

    #[test]
    fn custom_aspect_ratios_are_parsed_and_bad_ones_name_their_key() {
        let settings = flux()
            .config(ASPECT_RATIOS, "1:1, 16:10")
            .run(Settings::load)
            .unwrap();
        assert_eq!(settings.aspect_ratios.len(), 2);
        let err = internal_message(
            flux()
                .config(ASPECT_RATIOS, "1:1, wide")
                .run(Settings::load),
        );
        assert!(err.contains("`aspect_ratios`"), "{err}");
    }
}
