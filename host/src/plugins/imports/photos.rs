//! `photos`: a job handler reads and completes only the photo its job names.

use std::sync::Arc;

use crate::plugins::bindings::job_handler::ava::plugin::photos::Host;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::services::PhotoStore;
use crate::plugins::types::{GeneratedImage, PhotoSpec, PluginError};

fn granted(ctx: &CallCtx, id: &str) -> Result<Arc<dyn PhotoStore>, PluginError> {
    if ctx.scope.photo_id.as_deref() != Some(id) {
        return Err(PluginError::InvalidInput(format!(
            "photo {id} is not part of this job"
        )));
    }
    ctx.services
        .photos
        .clone()
        .ok_or_else(|| PluginError::Unsupported("this host process has no photo store".into()))
}

fn record<T>(ctx: &CallCtx, call: &str, id: &str, result: &Result<T, PluginError>) {
    ctx.record(|| HostCall::Other {
        call: format!("photos.{call} {id}"),
        outcome: match result {
            Ok(_) => "ok".into(),
            Err(err) => format!("error: {}", err.describe()),
        },
    });
}

impl Host for CallCtx {
    async fn get(&mut self, id: String) -> wasmtime::Result<Result<PhotoSpec, PluginError>> {
        let result = match granted(self, &id) {
            Ok(store) => store.get(&id).await,
            Err(err) => Err(err),
        };
        record(self, "get", &id, &result);
        Ok(result)
    }

    async fn save(
        &mut self,
        id: String,
        image: GeneratedImage,
    ) -> wasmtime::Result<Result<(), PluginError>> {
        // The photo is what the job hands back: it counts like a returned value.
        let limit = self.grants.limits.max_output_bytes;
        let size = image.image.data.len() as u64;
        let result = match granted(self, &id) {
            Ok(_) if size > limit => Err(PluginError::InvalidInput(format!(
                "an image of {size} bytes, over limits.max_output_bytes ({limit}) of plugin `{}`",
                self.grants.name
            ))),
            Ok(store) => store.save(&id, image).await,
            Err(err) => Err(err),
        };
        record(self, "save", &id, &result);
        Ok(result)
    }

    async fn fail(
        &mut self,
        id: String,
        reason: String,
    ) -> wasmtime::Result<Result<(), PluginError>> {
        let result = match granted(self, &id) {
            Ok(store) => store.fail(&id, &reason).await,
            Err(err) => Err(err),
        };
        record(self, "fail", &id, &result);
        Ok(result)
    }
}
