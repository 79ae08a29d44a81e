//! {{name}}: an image provider for Ava.
//!
//! It fetches a picture from the configured `base_url` through the host, which checks the
//! destination against the plugin's `allow_hosts` (every redirect too) and fills in the
//! optional `api_token` secret. Replace [`image_url`] and `generate` with your model's API.

use ava_sdk::http::Request;
use ava_sdk::images::{ImageOutput, ImageProvider, ImageRequest, sniff_content_type};
use ava_sdk::{ConfigKey, PluginError, PluginInfo, config};

/// The plugin.
pub struct {{type}};

impl ImageProvider for {{type}} {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("{{description}}")
            .key(ConfigKey::required(
                "base_url",
                "where pictures are fetched from, e.g. https://picsum.photos",
            ))
            .key(ConfigKey::optional_secret(
                "api_token",
                "sent as a bearer token when set",
            ))
    }

    fn generate(request: ImageRequest) -> Result<ImageOutput, PluginError> {
        let url = image_url(&config::require("base_url")?, &request);
        let mut http = Request::get(url).timeout_ms(20_000);
        if config::has_secret("api_token") {
            // The host fills in the secret on the way out: the plugin never sees it.
            http = http.bearer_secret("api_token");
        }
        let response = http.send()?.error_for_status()?;
        // The bytes decide what the image is, not a Content-Type header.
        let content_type = sniff_content_type(&response.body).ok_or_else(|| {
            PluginError::upstream(
                Some(response.status),
                None,
                "the answer is not a PNG, JPEG or WebP image",
            )
        })?;
        let mut output = ImageOutput::bytes(content_type, response.body);
        output.seed = request.seed;
        Ok(output)
    }
}

/// `{base}/seed/{seed}/{width}/{height}`: the same seed gives the same picture.
pub fn image_url(base: &str, request: &ImageRequest) -> String {
    format!(
        "{}/seed/{}/{}/{}",
        base.trim_end_matches('/'),
        request.seed.unwrap_or(0),
        request.width,
        request.height
    )
}

ava_sdk::export_image_provider!({{type}});
