//! Image generation: the records, the [`ImageProvider`] trait for image plugins, and
//! [`generate`] for job handlers (forwarded by the host to the active image plugin).

#[cfg(any(feature = "image-provider", feature = "job-handler"))]
use crate::PluginError;
#[cfg(feature = "image-provider")]
use crate::PluginInfo;
pub use crate::bindings::base::ava::plugin::image_types::{
    GeneratedImage, ImageBytes, ImageData, ImageOutput, ImageRequest,
};

/// `image/png`, `image/jpeg` or `image/webp` for bytes of that format, from their first
/// bytes. The bytes decide, not a `Content-Type` header: the host stores images and serves
/// them to browsers with this type.
pub fn sniff_content_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Downloads an image a model made with `request` (a GET the plugin built: its URL, timeout
/// and any credentials), returning the body and its declared `Content-Type`. `what` names the
/// file in errors, e.g. "the output file"; `origin` is the URL's origin
/// (`scheme://host[:port]`), so that a host off the allowlist is named as `allow_hosts` wants
/// it. A non-2xx answer is [`status_error`](crate::http::status_error)'s error: 429 and 503
/// are worth retrying.
#[cfg(feature = "image-provider")]
pub fn download(
    request: &crate::http::Request,
    what: &str,
    origin: &str,
) -> Result<(Vec<u8>, Option<String>), PluginError> {
    let response = request.send().map_err(|err| match err {
        crate::HttpError::Denied(_) => PluginError::internal(format!(
            "{what} at {origin} is not on this plugin's allowlist: add its host to `allow_hosts`"
        )),
        other => other.into(),
    })?;
    if !response.is_success() {
        return Err(crate::http::status_error(
            response.status,
            &response.headers,
            None,
            format!("{what} could not be downloaded (HTTP {})", response.status),
        ));
    }
    let declared = response.header("content-type").map(str::to_string);
    Ok((response.body, declared))
}

/// An image provider plugin. Export it with
/// [`export_image_provider!`](crate::export_image_provider).
#[cfg(feature = "image-provider")]
pub trait ImageProvider {
    /// Who the plugin is; see [`plugin_info!`](crate::plugin_info).
    fn metadata() -> PluginInfo;

    /// Verifies that the plugin can work as configured, as only it can: credentials
    /// accepted, the model or price there, the upstream answering (contract 0.2.0). Called by
    /// `ava plugin check --upstream`, never on a user's request. By default there is nothing
    /// to verify.
    fn check() -> Result<(), PluginError> {
        Ok(())
    }

    /// Draws an image: bytes, or a URL on the plugin's allowlist for the host to download.
    fn generate(request: ImageRequest) -> Result<ImageOutput, PluginError>;
}

/// Generates an image with whichever image plugin is active (job handlers only).
#[cfg(feature = "job-handler")]
pub fn generate(request: &ImageRequest) -> Result<GeneratedImage, PluginError> {
    crate::host_call::generate_image(request)
}

impl ImageOutput {
    /// An image returned as bytes.
    pub fn bytes(content_type: &str, data: Vec<u8>) -> Self {
        Self {
            image: ImageData::Bytes(ImageBytes {
                content_type: content_type.to_string(),
                data,
            }),
            seed: None,
            model: None,
        }
    }

    /// An image the host downloads from `url`.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            image: ImageData::Url(url.into()),
            seed: None,
            model: None,
        }
    }
}

/// Exports an [`ImageProvider`] implementation as this component's `image-provider` world.
#[cfg(feature = "image-provider")]
#[macro_export]
macro_rules! export_image_provider {
    ($plugin:ty) => {
        $crate::__embed_contract_version!();

        #[doc(hidden)]
        pub struct __AvaImageProviderExport;

        impl $crate::__bindings::image_provider::Guest for __AvaImageProviderExport {
            fn metadata() -> $crate::PluginInfo {
                <$plugin as $crate::images::ImageProvider>::metadata()
            }
            fn check() -> ::core::result::Result<(), $crate::PluginError> {
                <$plugin as $crate::images::ImageProvider>::check()
            }
            fn generate(
                request: $crate::images::ImageRequest,
            ) -> ::core::result::Result<$crate::images::ImageOutput, $crate::PluginError> {
                <$plugin as $crate::images::ImageProvider>::generate(request)
            }
        }

        $crate::__bindings::image_provider::__export_image_provider_world!(
            __AvaImageProviderExport with_types_in $crate::__bindings::image_provider
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_are_recognised_by_their_bytes_and_others_are_not() {
        assert_eq!(
            sniff_content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(
            sniff_content_type(&[0xFF, 0xD8, 0xFF, 0xDB]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_content_type(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_content_type(b"GIF89a"), None);
        assert_eq!(sniff_content_type(b"RIFF\x24\0\0\0WAVE"), None);
        assert_eq!(sniff_content_type(b"<html>"), None);
        assert_eq!(sniff_content_type(b""), None);
    }
}
