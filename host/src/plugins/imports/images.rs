//! `images.generate`: a job handler draws through whichever image plugin is active in the
//! same plugin set. URL outputs are downloaded here, with the image plugin's own grants.

use crate::plugins::CallError;
use crate::plugins::bindings::job_handler::ava::plugin::images::Host;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::types::{GeneratedImage, ImageRequest, PluginError, Unavailable};

impl Host for CallCtx {
    async fn generate(
        &mut self,
        request: ImageRequest,
    ) -> wasmtime::Result<Result<GeneratedImage, PluginError>> {
        let prompt = self.recording().then(|| request.prompt.clone());
        let result = generate(self, request).await;
        if let Some(prompt) = prompt {
            self.record(|| HostCall::Other {
                call: format!("images.generate {prompt:?}"),
                outcome: match &result {
                    Ok(image) => format!(
                        "{} bytes of {}",
                        image.image.data.len(),
                        image.image.content_type
                    ),
                    Err(err) => format!("error: {}", err.describe()),
                },
            });
        }
        Ok(result)
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
    Box::pin(images.draw(&request))
        .await
        .map_err(|err| match err {
            CallError::Plugin { error, .. } => error,
            other => unavailable(other.to_string()),
        })
}

fn unavailable(message: String) -> PluginError {
    PluginError::Unavailable(Unavailable {
        message,
        retry_after_ms: None,
    })
}
