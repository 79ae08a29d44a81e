//! Images from a text-to-image model on Replicate (FLUX, SDXL, any model by version).
//!
//! A prediction is created in sync mode (`Prefer: wait`), followed up by polling when the
//! model takes longer, and canceled when the deadline passes (see `lifecycle`). Its output is
//! downloaded at once, because Replicate deletes outputs after about an hour, and returned as
//! bytes (see `download`). The API token stays in the host: the plugin names it in a
//! `{secret:api_token}` placeholder that the host fills in on the way out.

mod api_error;
mod aspect;
mod client;
mod download;
mod input;
mod lifecycle;
mod prediction;
mod settings;

use ava_sdk::images::{ImageData, ImageOutput, ImageProvider, ImageRequest};
use ava_sdk::{PluginError, PluginInfo};

use crate::settings::Settings;

/// How long `check` waits for the model's description.
const CHECK_TIMEOUT_MS: u32 = 10_000;

/// The plugin.
pub struct Replicate;

impl ImageProvider for Replicate {
    fn metadata() -> PluginInfo {
        settings::keys().into_iter().fold(
            ava_sdk::plugin_info!("Replicate: images from FLUX, SDXL or any text-to-image model"),
            PluginInfo::key,
        )
    }

    /// One free `GET` of the configured model: a wrong token or a model that is not there
    /// fails here, not at the first photo.
    fn check() -> Result<(), PluginError> {
        let settings = Settings::load()?;
        client::Client::new(&settings).look_up_target(CHECK_TIMEOUT_MS)
    }

    fn generate(request: ImageRequest) -> Result<ImageOutput, PluginError> {
        let settings = Settings::load()?;
        let input = input::build(&settings, &request)?;
        let prediction = lifecycle::run(&settings, &input)?;
        let image = download::fetch(prediction.require_output_url()?, &settings.api_base)?;
        Ok(ImageOutput {
            image: ImageData::Bytes(image),
            seed: input.seed,
            model: Some(
                prediction
                    .model
                    .unwrap_or_else(|| settings.target.describe()),
            ),
        })
    }
}

ava_sdk::export_image_provider!(Replicate);
