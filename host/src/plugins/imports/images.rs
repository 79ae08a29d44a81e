//! `images.generate`: a job handler draws through whichever image plugin is active in the
//! same plugin set. URL outputs are downloaded here, with the image plugin's own grants.

use crate::plugins::CallError;
use crate::plugins::bindings::job_handler::ava::plugin::images::Host;
use crate::plugins::ctx::CallCtx;
use crate::plugins::types::{
    GeneratedImage, ImageBytes, ImageData, ImageRequest, PluginError, Unavailable,
};

impl Host for CallCtx {
    async fn generate(
        &mut self,
        request: ImageRequest,
    ) -> wasmtime::Result<Result<GeneratedImage, PluginError>> {
        Ok(generate(self, request).await)
    }
}

async fn generate(ctx: &mut CallCtx, request: ImageRequest) -> Result<GeneratedImage, PluginError> {
    let set = ctx
        .scope
        .set
        .clone()
        .ok_or_else(|| unavailable("image generation is not available to this call".into()))?;
    let images = set.images().map_err(|e| unavailable(e.to_string()))?;
    // Boxed: this call runs inside another plugin call.
    let output = Box::pin(images.generate(&request))
        .await
        .map_err(|err| match err {
            CallError::Plugin { error, .. } => error,
            other => unavailable(other.to_string()),
        })?;
    let image = match output.image {
        ImageData::Bytes(bytes) => bytes,
        ImageData::Url(url) => {
            let (content_type, data) = images
                .download(&url)
                .await
                .map_err(|e| unavailable(format!("cannot download the image: {}", e.message())))?;
            ImageBytes {
                content_type: content_type.unwrap_or_default(),
                data,
            }
        }
    };
    let content_type = sniff_image_type(&image.data).ok_or_else(|| {
        PluginError::Internal(format!(
            "image plugin `{}` returned data that is not a PNG, JPEG or WebP image",
            images.name()
        ))
    })?;
    Ok(GeneratedImage {
        image: ImageBytes {
            content_type: content_type.to_string(),
            data: image.data,
        },
        seed: output.seed,
        model: output.model,
        provider: images.name().to_string(),
    })
}

fn unavailable(message: String) -> PluginError {
    PluginError::Unavailable(Unavailable {
        message,
        retry_after_ms: None,
    })
}

/// The content type of an encoded image, from its magic bytes: the claimed type is not
/// trusted, since the bytes are served to users' browsers.
pub fn sniff_image_type(data: &[u8]) -> Option<&'static str> {
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

#[cfg(test)]
mod tests {
    use super::sniff_image_type;

    #[test]
    fn image_types_are_recognised_by_their_bytes() {
        assert_eq!(
            sniff_image_type(b"\x89PNG\r\n\x1a\nrest"),
            Some("image/png")
        );
        assert_eq!(
            sniff_image_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_image_type(b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_image_type(b"<html>"), None);
    }
}
