//! The single place where the SDK calls the host.
//!
//! Inside a component the calls go to the generated imports. Compiled natively (a plugin's
//! `cargo test`), they go to the [`TestHost`](crate::testing::TestHost) installed on the
//! current thread, so plugin logic is testable without a WebAssembly runtime.

#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

/// A streamed response before its body is read.
pub(crate) struct StreamHead {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: BodyChunks,
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::host_calls::*;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use crate::bindings::base::ava::plugin::host;
    use crate::{HttpError, HttpRequest, HttpResponse, LogLevel, SecretError, StorageError};

    pub(crate) fn log(level: LogLevel, message: &str) {
        host::log(level, message)
    }
    pub(crate) fn config(key: &str) -> Option<String> {
        host::config(key)
    }
    pub(crate) fn has_secret(name: &str) -> bool {
        host::has_secret(name)
    }
    pub(crate) fn hmac_sha256(secret: &str, message: &[u8]) -> Result<Vec<u8>, SecretError> {
        host::hmac_sha256(secret, message)
    }
    pub(crate) fn now_ms() -> u64 {
        host::now_ms()
    }
    pub(crate) fn sleep_ms(ms: u32) {
        host::sleep_ms(ms)
    }
    pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        host::kv_get(key)
    }
    pub(crate) fn kv_set(key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<(), StorageError> {
        host::kv_set(key, value, ttl_ms)
    }
    pub(crate) fn kv_add(
        key: &str,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<bool, StorageError> {
        host::kv_add(key, value, ttl_ms)
    }
    pub(crate) fn kv_delete(key: &str) -> Result<bool, StorageError> {
        host::kv_delete(key)
    }
    pub(crate) fn http_fetch(request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        host::http_fetch(request)
    }

    /// A response body being read from the host.
    pub(crate) struct BodyChunks(host::BodyStream);

    impl BodyChunks {
        pub(crate) fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
            self.0.next_chunk()
        }
    }

    pub(crate) fn http_stream(request: &HttpRequest) -> Result<super::StreamHead, HttpError> {
        let response = host::http_stream(request)?;
        Ok(super::StreamHead {
            status: response.status,
            headers: response.headers,
            body: BodyChunks(response.body),
        })
    }

    #[cfg(feature = "chat-persona")]
    pub(crate) fn push_reply(delta: &str) {
        crate::bindings::base::ava::plugin::reply_stream::push(delta)
    }

    #[cfg(feature = "job-handler")]
    pub(crate) use job::*;

    #[cfg(feature = "job-handler")]
    mod job {
        use crate::PluginError;
        use crate::bindings::base::ava::plugin::{images, photos};
        use crate::images::{GeneratedImage, ImageRequest};
        use crate::photos::PhotoSpec;

        pub(crate) fn generate_image(
            request: &ImageRequest,
        ) -> Result<GeneratedImage, PluginError> {
            images::generate(request)
        }
        pub(crate) fn photo_get(id: &str) -> Result<PhotoSpec, PluginError> {
            photos::get(id)
        }
        pub(crate) fn photo_save(id: &str, image: &GeneratedImage) -> Result<(), PluginError> {
            photos::save(id, image)
        }
        pub(crate) fn photo_fail(id: &str, reason: &str) -> Result<(), PluginError> {
            photos::fail(id, reason)
        }
    }
}
