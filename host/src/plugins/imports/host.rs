//! The generated `host` interface, delegated to the capability modules.

use wasmtime::component::Resource;

use super::http::BodyStream;
use super::{clock, config, http, kv, log};
use crate::plugins::bindings::job_handler::ava::plugin::host::{
    Host, HostBodyStream, HttpError, HttpRequest, HttpResponse, SecretError, StorageError,
    StreamedResponse,
};
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::types::LogLevel;

impl Host for CallCtx {
    async fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        log::write(self, level, &message);
        Ok(())
    }

    async fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(config::value(self, &key))
    }

    async fn has_secret(&mut self, name: String) -> wasmtime::Result<bool> {
        Ok(config::has_secret(self, &name))
    }

    async fn hmac_sha256(
        &mut self,
        secret: String,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, SecretError>> {
        config::hmac_sha256(self, secret, message).await
    }

    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(clock::now_ms())
    }

    async fn sleep_ms(&mut self, ms: u32) -> wasmtime::Result<()> {
        self.record(|| HostCall::Sleep { ms });
        clock::sleep(ms).await;
        Ok(())
    }

    async fn kv_get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, StorageError>> {
        Ok(kv::get(self, &key).await)
    }

    async fn kv_set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<(), StorageError>> {
        Ok(kv::set(self, &key, &value, ttl_ms).await)
    }

    async fn kv_add(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<bool, StorageError>> {
        Ok(kv::add(self, &key, &value, ttl_ms).await)
    }

    async fn kv_delete(&mut self, key: String) -> wasmtime::Result<Result<bool, StorageError>> {
        Ok(kv::delete(self, &key).await)
    }

    async fn http_fetch(
        &mut self,
        request: HttpRequest,
    ) -> wasmtime::Result<Result<HttpResponse, HttpError>> {
        Ok(http::fetch(self, request).await)
    }

    async fn http_stream(
        &mut self,
        request: HttpRequest,
    ) -> wasmtime::Result<Result<StreamedResponse, HttpError>> {
        http::stream(self, request).await
    }
}

impl HostBodyStream for CallCtx {
    async fn next_chunk(
        &mut self,
        stream: Resource<BodyStream>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, HttpError>> {
        http::next_chunk(self, &stream).await
    }

    async fn drop(&mut self, stream: Resource<BodyStream>) -> wasmtime::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}
