//! Images from OpenAI's Images API (`gpt-image-1`, `dall-e-3`, `dall-e-2`), or from any
//! server that speaks it (set `base_url`).
//!
//! One `POST {base_url}/v1/images/generations` per image, its body shaped for the model (see
//! `model`): the size nearest to the one asked for (`size`), the negative prompt folded into
//! the prompt where the model reads instructions (`body`), and `response_format: "b64_json"`
//! for DALL·E, which otherwise answers a link. The image comes back as bytes: decoded from
//! `b64_json`, or downloaded from `url` at once (`output`). The API key stays in the host:
//! the plugin names it in a `{secret:api_key}` placeholder that the host fills in on the way
//! out, and only to the API's own origin.
//!
//! Enabling it in `ava.toml`, with the key from the environment:
//!
//! ```toml
//! [plugins.images]
//! use = "openai-images"
//!
//! [plugin.openai-images]
//! path = "dist/plugins/openai-images.wasm"
//! # DALL·E's links, when a server answers with them, are on oaidalleapiprodscus.blob.core.windows.net.
//! allow_hosts = ["https://api.openai.com"]
//! # gpt-image-1 takes up to a minute; a high-quality image in base64 is several MB.
//! limits = { memory_mib = 128, timeout_ms = 150000, concurrency = 8, max_http_response_bytes = 16777216 }
//! config = { model = "gpt-image-1", quality = "medium", api_key = { env = "OPENAI_API_KEY" } }
//! ```

mod api_error;
mod body;
mod model;
mod output;
mod settings;
mod size;

use ava_sdk::http::Request;
use ava_sdk::images::{ImageData, ImageOutput, ImageProvider, ImageRequest};
use ava_sdk::{PluginError, PluginInfo, info, warn};

use crate::settings::{API_KEY, Settings};

/// How long `check` waits for the model's description.
const CHECK_TIMEOUT_MS: u32 = 10_000;

/// The plugin.
pub struct OpenAiImages;

impl ImageProvider for OpenAiImages {
    fn metadata() -> PluginInfo {
        settings::keys().into_iter().fold(
            ava_sdk::plugin_info!(
                "OpenAI Images: gpt-image-1, DALL·E 3 or DALL·E 2, or any server speaking the Images API"
            ),
            PluginInfo::key,
        )
    }

    /// Asks the API about the configured model: proves the key is accepted and the model is
    /// there for it, without drawing anything (a `GET` that costs nothing). A compatible server
    /// that does not serve `/v1/models/{model}` cannot be asked: logged, not failed.
    fn check() -> Result<(), PluginError> {
        let settings = Settings::load()?;
        let mut get = Request::get(settings.model_url()).timeout_ms(CHECK_TIMEOUT_MS);
        if settings.has_api_key {
            get = get.bearer_secret(API_KEY);
        }
        let response = get.send()?;
        match response.status {
            200..=299 => Ok(()),
            404 if !api_error::is_api_error(&response.body) => {
                warn!(
                    "{} does not describe models: `{}` could not be checked",
                    settings.api_base, settings.model
                );
                Ok(())
            }
            _ => Err(api_error::from_response(&response, settings.has_api_key)),
        }
    }

    fn generate(request: ImageRequest) -> Result<ImageOutput, PluginError> {
        let settings = Settings::load()?;
        let body = body::build(&settings, &request)?;
        let mut post = Request::post(settings.endpoint())
            .json(&body)
            .timeout_ms(settings.timeout_ms);
        if settings.has_api_key {
            post = post.bearer_secret(API_KEY);
        }
        let response = post.send()?;
        if !response.is_success() {
            return Err(api_error::from_response(&response, settings.has_api_key));
        }
        let image = output::image(&settings, &response)?;
        info!(
            "{} drew a {} image of {} bytes",
            settings.model,
            image.content_type,
            image.data.len()
        );
        Ok(ImageOutput {
            image: ImageData::Bytes(image),
            // The Images API takes no seed: the same prompt draws a different picture.
            seed: None,
            model: Some(settings.model),
        })
    }
}

ava_sdk::export_image_provider!(OpenAiImages);
