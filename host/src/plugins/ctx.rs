//! The state of one call: what a fresh `Store` holds while a plugin instance runs.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::mpsc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::grants::Grants;
use super::limits::CallLimiter;
use super::registry::PluginSet;
use super::services::Services;

/// How much of a plugin's stdout and stderr is kept per call (a panic message fits easily).
const STDIO_CAPTURE_BYTES: usize = 64 << 10;

/// What a call may do beyond the plugin's standing grants.
#[derive(Default, Clone)]
pub struct CallScope {
    /// Where `reply-stream.push` sends text (streaming persona calls).
    pub stream: Option<mpsc::UnboundedSender<String>>,
    /// The photo a job handler may touch.
    pub photo_id: Option<String>,
    /// The plugin set the call belongs to, for forwarding `images.generate` to the active
    /// image plugin of the same set.
    pub set: Option<Arc<PluginSet>>,
}

/// The plugin's stdout and stderr, captured for the logs and for panic messages. Shared with
/// the caller so it survives a call that is cut off by its deadline.
#[derive(Clone)]
pub struct Stdio {
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

/// The data of one call's `Store`.
pub struct CallCtx {
    pub grants: Arc<Grants>,
    /// The host's HTTP client (shared; cheap to clone).
    pub http: reqwest::Client,
    pub services: Services,
    pub deadline: Instant,
    pub scope: CallScope,
    pub limiter: CallLimiter,
    pub table: ResourceTable,
    pub log_budget: LogBudget,
    /// Bytes pushed to `reply-stream` so far, counted against the output limit.
    pub streamed_bytes: u64,
    stdio: Arc<OnceLock<Stdio>>,
    /// WASI is built on first use: most calls never touch it, and building it costs more than
    /// the rest of a call.
    wasi: Option<WasiCtx>,
}

impl CallCtx {
    pub fn new(
        grants: Arc<Grants>,
        http: reqwest::Client,
        services: Services,
        deadline: Instant,
        scope: CallScope,
        stdio: Arc<OnceLock<Stdio>>,
    ) -> Self {
        let limiter = CallLimiter::new(grants.limits.memory_bytes);
        Self {
            grants,
            http,
            services,
            deadline,
            scope,
            limiter,
            table: ResourceTable::new(),
            log_budget: LogBudget::default(),
            streamed_bytes: 0,
            stdio,
            wasi: None,
        }
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

impl WasiView for CallCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let stdio = &self.stdio;
        let wasi = self.wasi.get_or_insert_with(|| {
            let pipes = stdio.get_or_init(|| Stdio {
                stdout: MemoryOutputPipe::new(STDIO_CAPTURE_BYTES),
                stderr: MemoryOutputPipe::new(STDIO_CAPTURE_BYTES),
            });
            // No files, no sockets, no environment, no arguments: a plugin's only ways out
            // are the `ava:plugin` imports. Clocks and randomness are harmless.
            WasiCtxBuilder::new()
                .stdout(pipes.stdout.clone())
                .stderr(pipes.stderr.clone())
                .build()
        });
        WasiCtxView {
            ctx: wasi,
            table: &mut self.table,
        }
    }
}

/// Caps what one call may write to the log: lines are cut, and past a number of lines or
/// bytes the rest is dropped with a single warning.
#[derive(Debug, Default)]
pub struct LogBudget {
    pub lines: u32,
    pub bytes: usize,
    pub dropped: u32,
}

impl LogBudget {
    pub const MAX_LINE_BYTES: usize = 8 << 10;
    pub const MAX_LINES: u32 = 1_000;
    pub const MAX_BYTES: usize = 1 << 20;
}
