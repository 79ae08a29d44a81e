//! The state of one call: what a fresh `Store` holds while a plugin instance runs.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::mpsc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::grants::Grants;
use super::limits::CallLimiter;
use super::registry::PluginSet;
use super::services::Services;
use super::stdio::CapturePipe;

/// How much of a plugin's stdout and stderr is kept per call, each: the first and the last
/// half of it (a panic message fits easily). More is accepted and dropped.
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
    pub stdout: CapturePipe,
    pub stderr: CapturePipe,
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
    /// Where the host calls of this call are recorded (`ava plugin call`); `None` in the
    /// server, where recording costs one branch per host call.
    recorder: Option<Recorder>,
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
            recorder: RECORDER.try_with(Recorder::clone).ok(),
        }
    }

    /// Records the host call `call()` describes, when this call is being recorded. The
    /// description is only built then.
    #[inline]
    pub fn record(&self, call: impl FnOnce() -> HostCall) {
        if let Some(recorder) = &self.recorder {
            recorder.push(call());
        }
    }

    /// Whether this call is being recorded.
    #[inline]
    pub fn recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

impl Drop for CallCtx {
    fn drop(&mut self) {
        if let Some(recorder) = &self.recorder {
            recorder.memory(self.limiter.peak_memory_bytes());
        }
    }
}

impl WasiView for CallCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let stdio = &self.stdio;
        let wasi = self.wasi.get_or_insert_with(|| {
            let pipes = stdio.get_or_init(|| Stdio {
                stdout: CapturePipe::new(STDIO_CAPTURE_BYTES),
                stderr: CapturePipe::new(STDIO_CAPTURE_BYTES),
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

tokio::task_local! {
    /// The recorder of the plugin calls made inside [`Recorder::scope`].
    static RECORDER: Recorder;
}

/// Records every host call of the plugin calls made inside [`Recorder::scope`], in order,
/// and the largest linear memory their instances had. For `ava plugin call`: the server
/// never sets one.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Recording>>);

/// What a [`Recorder`] saw.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    pub calls: Vec<HostCall>,
    /// The largest linear memory of an instance, in bytes.
    pub peak_memory_bytes: usize,
}

/// One host call, as `ava plugin call` shows it: secrets by name only, never their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCall {
    /// `http-fetch` or `http-stream`: the request and the final status, or the error.
    Http {
        method: &'static str,
        url: String,
        outcome: Result<u16, String>,
    },
    /// `config`: the key, and whether it had a value.
    Config { key: String, found: bool },
    /// `has-secret`: the name, and whether it is granted.
    HasSecret { name: String, granted: bool },
    /// `hmac-sha256`: the secret's name, and whether it is granted.
    Hmac { secret: String, granted: bool },
    /// `kv-get`, `kv-set`, `kv-add`, `kv-delete`: the key, and what came of it.
    Kv {
        op: &'static str,
        key: String,
        outcome: String,
    },
    /// `log`: the level and the line as the host logged it (cut, redacted).
    Log { level: &'static str, line: String },
    /// `reply-stream.push`.
    Push { text: String },
    /// `sleep-ms`.
    Sleep { ms: u32 },
    /// `images.generate`, `photos.*`: what was asked, and what came of it.
    Other { call: String, outcome: String },
}

impl Recorder {
    /// Runs `future`, recording the plugin calls it makes.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        RECORDER.scope(self.clone(), future).await
    }

    /// What was recorded so far.
    pub fn recording(&self) -> Recording {
        self.0.lock().expect("recorder lock").clone()
    }

    fn push(&self, call: HostCall) {
        self.0.lock().expect("recorder lock").calls.push(call);
    }

    fn memory(&self, bytes: usize) {
        let mut recording = self.0.lock().expect("recorder lock");
        recording.peak_memory_bytes = recording.peak_memory_bytes.max(bytes);
    }
}
