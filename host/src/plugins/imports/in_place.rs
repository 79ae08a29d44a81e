//! `hmac-sha256`, `http-fetch` and `http-stream` read their `list<u8>` argument in place.
//!
//! bindgen's functions get a `list<u8>` as a `Vec<u8>` that wasmtime fills before the import
//! runs: the host has copied the whole argument, and in a debug build byte by byte (its
//! generic lifting is compiled with the host, unoptimized: ~10 ms per MiB on the worker
//! thread), before it can look at the size. These three, whose lists a plugin sizes as it
//! likes, are defined again here over a [`WasmList`] (a view of the plugin's memory): the
//! import's limit is checked first, so a list over it is refused with the import's error and
//! never copied, and one within it is copied with a single `memcpy`. The functions behind
//! them are the same as the bindgen trait's (`host.rs`), which these definitions shadow.
//!
//! Under both, wasmtime's hostcall fuel (`Limits::host_call_bytes`) caps what any host call
//! may carry out of the plugin before anything is read.

use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Lift, Linker, WasmList};

use super::{config, http};
use crate::plugins::ctx::CallCtx;
use crate::plugins::types::{HttpError, HttpMethod, HttpRequest};

/// `http-request`, with its body left in the plugin's memory.
#[derive(ComponentType, Lift)]
#[component(record)]
struct RequestInPlace {
    #[component(name = "method")]
    method: HttpMethod,
    #[component(name = "url")]
    url: String,
    #[component(name = "headers")]
    headers: Vec<(String, String)>,
    #[component(name = "body")]
    body: WasmList<u8>,
    #[component(name = "timeout-ms")]
    timeout_ms: Option<u32>,
}

impl RequestInPlace {
    /// The request with its body copied, once its sizes are within the plugin's limits.
    fn read(self, store: &StoreContextMut<'_, CallCtx>) -> Result<HttpRequest, HttpError> {
        let ctx = store.data();
        if let Err(err) = http::check_size(&ctx.grants, &self.url, &self.headers, self.body.len()) {
            http::record_refused(ctx, self.method, &self.url, &err);
            return Err(err);
        }
        Ok(HttpRequest {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body.as_le_slice(store).to_vec(),
            timeout_ms: self.timeout_ms,
        })
    }
}

/// Defines the three imports again, in both contract versions' `host` instances.
pub fn add_to_linker(linker: &mut Linker<CallCtx>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    for name in ["ava:plugin/host", "ava:plugin/host@0.2.0"] {
        let mut host = linker.instance(name)?;
        host.func_wrap_async(
            "hmac-sha256",
            |mut store: StoreContextMut<'_, CallCtx>, (secret, message): (String, WasmList<u8>)| {
                Box::new(async move {
                    if let Err(err) = config::check_hmac(store.data(), &secret, message.len()) {
                        return Ok((Err(err),));
                    }
                    let message = message.as_le_slice(&store).to_vec();
                    let digest = config::sign(store.data_mut(), secret, message).await?;
                    Ok((Ok(digest),))
                })
            },
        )?;
        host.func_wrap_async(
            "http-fetch",
            |mut store: StoreContextMut<'_, CallCtx>, (request,): (RequestInPlace,)| {
                Box::new(async move {
                    let result = match request.read(&store) {
                        Ok(request) => http::fetch(store.data_mut(), request).await,
                        Err(err) => Err(err),
                    };
                    Ok((result,))
                })
            },
        )?;
        host.func_wrap_async(
            "http-stream",
            |mut store: StoreContextMut<'_, CallCtx>, (request,): (RequestInPlace,)| {
                Box::new(async move {
                    let result = match request.read(&store) {
                        Ok(request) => http::stream(store.data_mut(), request).await?,
                        Err(err) => Err(err),
                    };
                    Ok((result,))
                })
            },
        )?;
    }
    linker.allow_shadowing(false);
    Ok(())
}
