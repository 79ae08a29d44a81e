//! Fetching a prediction's output file at once: Replicate deletes outputs about an hour after
//! a prediction ends, so handing the host a URL to fetch later is not good enough.

use ava_sdk::PluginError;
use ava_sdk::http::Request;
use ava_sdk::images::ImageBytes;
use base64::Engine;
use url::Url;

use crate::settings::API_TOKEN;

/// How long one output file may take to arrive. Images are a few MB at most.
pub const TIMEOUT_MS: u32 = 30_000;

/// Where Replicate serves output files: `replicate.delivery` and its subdomains.
const DELIVERY_HOST: &str = "replicate.delivery";

/// The image at `output`: an `http(s)` URL, or a `data:` URL carrying the file itself (which
/// Replicate may answer in sync mode).
pub fn fetch(output: &str, api_base: &str) -> Result<ImageBytes, PluginError> {
    let (data, declared) = match output.strip_prefix("data:") {
        Some(data_url) => (decode_data_url(data_url)?, None),
        None => download(output, api_base)?,
    };
    let content_type = ava_sdk::images::sniff_content_type(&data).ok_or_else(|| {
        let declared = declared.map_or_else(String::new, |t| format!(" (served as {t})"));
        PluginError::upstream(
            None,
            None,
            format!("the model's output is not a PNG, JPEG or WebP image{declared}"),
        )
    })?;
    Ok(ImageBytes {
        content_type: content_type.into(),
        data,
    })
}

/// The body of `url` and its declared content type.
fn download(url: &str, api_base: &str) -> Result<(Vec<u8>, Option<String>), PluginError> {
    let parsed = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let Some(parsed) = parsed else {
        return Err(PluginError::upstream(
            None,
            None,
            format!(
                "the model's output is not a file URL: {:?}",
                ava_sdk::text::truncate(url, 120)
            ),
        ));
    };
    let mut request = Request::get(url).timeout_ms(TIMEOUT_MS);
    if is_replicate(&parsed, api_base) {
        // Replicate documents its output files as needing the token, like its API.
        request = request.bearer_secret(API_TOKEN);
    }
    ava_sdk::images::download(&request, "the output file", &origin(&parsed))
}

/// Whether `url` belongs to Replicate: the API's own origin or its delivery hosts. The token
/// goes nowhere else, whatever a model puts in its output.
fn is_replicate(url: &Url, api_base: &str) -> bool {
    let same_origin = Url::parse(api_base).is_ok_and(|base| base.origin() == url.origin());
    let delivery = url.scheme() == "https"
        && url.host_str().is_some_and(|host| {
            host == DELIVERY_HOST
                || host
                    .strip_suffix(DELIVERY_HOST)
                    .is_some_and(|sub| sub.ends_with('.'))
        });
    same_origin || delivery
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The bytes of a `data:[<type>][;base64],<data>` URL (without `data:`).
fn decode_data_url(data_url: &str) -> Result<Vec<u8>, PluginError> {
    let malformed =
        |why: &str| PluginError::upstream(None, None, format!("the model's output data URL {why}"));
    let (meta, payload) = data_url
        .split_once(',')
        .ok_or_else(|| malformed("has no data"))?;
    if !meta.ends_with(";base64") {
        return Err(malformed("is not base64"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|err| malformed(&format!("does not decode: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicate(url: &str) -> bool {
        is_replicate(&Url::parse(url).unwrap(), "https://api.replicate.com")
    }

    #[test]
    fn the_token_goes_to_replicate_hosts_only() {
        assert!(replicate("https://replicate.delivery/xezq/abc/out-0.webp"));
        assert!(replicate("https://pbxt.replicate.delivery/abc/out-0.png"));
        assert!(replicate("https://api.replicate.com/v1/files/abc/download"));
        assert!(!replicate("http://replicate.delivery/abc/out-0.png"));
        assert!(!replicate("https://evilreplicate.delivery/out.png"));
        assert!(!replicate(
            "https://replicate.delivery.evil.example/out.png"
        ));
        assert!(!replicate("https://api.replicate.com:8443/out.png"));
        assert!(!replicate("https://example.com/out.png"));
    }

    #[test]
    fn data_urls_decode_and_must_be_base64() {
        assert_eq!(
            decode_data_url("image/png;base64,iVBORw0KGgo=").unwrap(),
            b"\x89PNG\r\n\x1a\n"
        );
        assert!(decode_data_url("image/png,raw").is_err());
        assert!(decode_data_url("image/png;base64").is_err());
        assert!(decode_data_url("image/png;base64,***").is_err());
    }
}
