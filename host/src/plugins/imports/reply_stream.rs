//! `reply-stream.push`: text a persona streams while it writes its reply.

use crate::plugins::bindings::chat_persona::ava::plugin::reply_stream::Host;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::limits::OutputLimitExceeded;

impl Host for CallCtx {
    async fn push(&mut self, delta: String) -> wasmtime::Result<()> {
        self.record(|| HostCall::Push {
            text: delta.clone(),
        });
        self.streamed_bytes += delta.len() as u64;
        let limit = self.grants.limits.max_output_bytes;
        if self.streamed_bytes > limit {
            return Err(wasmtime::Error::new(OutputLimitExceeded {
                size: self.streamed_bytes,
                limit,
            }));
        }
        if let Some(stream) = &self.scope.stream {
            // The client may be gone; the reply is still produced and stored in full.
            let _ = stream.send(delta);
        }
        Ok(())
    }
}
