//! The image in a successful answer: `data[0].b64_json` decoded, or `data[0].url` downloaded
//! at once (OpenAI's links expire after an hour), and its type told from its bytes.

use ava_sdk::http::{Request, Response};
use ava_sdk::images::ImageBytes;
use ava_sdk::{PluginError, debug};
use base64::Engine;
use serde::Deserialize;
use url::Url;

use crate::api_error;
use crate::settings::{API_KEY, Settings};

/// How long one image download may take. Images are a few MB at most.
pub const DOWNLOAD_TIMEOUT_MS: u32 = 30_000;

/// The answer of `POST /v1/images/generations`, as far as this plugin reads it.
#[derive(Debug, Deserialize)]
struct Generation {
    data: Option<Vec<Image>>,
    /// gpt-image models say which format they answered in.
    output_format: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Image {
    b64_json: Option<String>,
    url: Option<String>,
    /// DALL·E 3 rewrites prompts; what it drew from is worth a debug line.
    revised_prompt: Option<String>,
}

/// The image of a 2xx `response`.
pub fn image(settings: &Settings, response: &Response) -> Result<ImageBytes, PluginError> {
    let status = Some(response.status);
    let generation: Generation =
        serde_json::from_slice(&response.body).map_err(|err| api_error::malformed(status, err))?;
    let first = generation.data.into_iter().flatten().next();
    let Some(first) = first else {
        return Err(PluginError::upstream(
            status,
            None,
            "the Images API answered without an image",
        ));
    };
    if let Some(revised) = &first.revised_prompt {
        debug!("the model revised the prompt to: {revised}");
    }
    let b64 = first
        .b64_json
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let url = first
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let (data, declared) = match (b64, url) {
        (Some(b64), _) => (
            decode(b64)?,
            generation
                .output_format
                .or_else(|| settings.output_format.clone())
                .map(|f| format!("image/{f}")),
        ),
        (None, Some(url)) => download(settings, url)?,
        (None, None) => {
            return Err(PluginError::upstream(
                status,
                None,
                "the Images API answered without an image: neither `b64_json` nor `url`",
            ));
        }
    };
    // The bytes decide, not what the answer says: the host serves the image with this type.
    let content_type = ava_sdk::images::sniff_content_type(&data).ok_or_else(|| {
        let declared = declared.map_or_else(String::new, |t| format!(" (declared {t})"));
        PluginError::upstream(
            None,
            None,
            format!("the model's image is not a PNG, JPEG or WebP image{declared}"),
        )
    })?;
    Ok(ImageBytes {
        content_type: content_type.into(),
        data,
    })
}

/// The bytes of `b64_json`; a `data:` URL prefix, which some servers add, is tolerated.
fn decode(b64: &str) -> Result<Vec<u8>, PluginError> {
    let payload = match b64.strip_prefix("data:") {
        Some(data_url) => data_url.split_once(',').map_or("", |(_, data)| data),
        None => b64,
    };
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|err| api_error::malformed(None, format!("`b64_json` does not decode: {err}")))
}

/// The body of the image at `url` (absolute, or relative to the API's base) and its declared
/// content type.
fn download(settings: &Settings, url: &str) -> Result<(Vec<u8>, Option<String>), PluginError> {
    let base = Url::parse(&format!("{}/", settings.api_base)).ok();
    let parsed = Url::options()
        .base_url(base.as_ref())
        .parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let Some(parsed) = parsed else {
        return Err(PluginError::upstream(
            None,
            None,
            format!(
                "the model's image URL is not an http(s) URL: {:?}",
                ava_sdk::text::truncate(url, 120)
            ),
        ));
    };
    let mut request = Request::get(parsed.as_str()).timeout_ms(DOWNLOAD_TIMEOUT_MS);
    if settings.has_api_key && base.is_some_and(|b| b.origin() == parsed.origin()) {
        // A server that serves its images itself may want the key for them; the key goes
        // nowhere else, whatever the answer links to (OpenAI's own links are signed).
        request = request.bearer_secret(API_KEY);
    }
    let origin = parsed.origin().ascii_serialization();
    ava_sdk::images::download(&request, "the image", &origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64_decodes_with_or_without_a_data_url_prefix() {
        assert_eq!(decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert_eq!(
            decode("data:image/png;base64,iVBORw0KGgo=").unwrap(),
            b"\x89PNG\r\n\x1a\n"
        );
        assert!(matches!(decode("***"), Err(PluginError::Upstream(_))));
    }
}
