//! A configured plugin: a module with its grants, and the machinery of one call.
//!
//! Every call gets a fresh `Store` and instance from the module's `InstancePre`, so nothing
//! survives between calls (no data leaks between users), under the plugin's limits:
//! a concurrency permit, a memory cap, a wall-clock deadline (epoch callback for CPU-bound
//! code, a tokio timeout around host calls, whose heavy work is awaited, never done in the
//! call's poll), optional fuel, a cap on what one host call may carry out of the plugin's
//! memory, and an output cap. Whatever the plugin does, the call ends with a value or a
//! [`CallError`].

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::{Store, Trap, UpdateDeadline};

use super::ctx::{CallCtx, CallScope, Stdio};
use super::error::CallError;
use super::grants::Grants;
use super::imports::http;
use super::limits::{Limits, MemoryLimitExceeded, OutputLimitExceeded, is_host_call_too_large};
use super::module::{Description, Module, World};
use super::output::OutputSize;
use super::runtime::Runtime;
use super::types::{HttpError, PluginInfo};

/// How long past its deadline a call blocked in a host import is given before it is cut off:
/// CPU-bound code traps at the deadline itself, through the epoch callback.
const GRACE: Duration = Duration::from_millis(50);

/// Raised by the epoch callback when a call's deadline has passed, and by a host import
/// whose work is still unfinished at the deadline.
#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded")]
pub(crate) struct DeadlineExceeded;

/// A plugin ready to be called.
pub struct LoadedPlugin {
    pub(crate) name: String,
    pub(crate) module: Arc<Module>,
    pub(crate) grants: Arc<Grants>,
    permits: Arc<Semaphore>,
    pub(crate) rt: Arc<Runtime>,
    /// This plugin's live figures (shared with earlier loads of the same name).
    counters: Arc<super::stats::PluginCounters>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("world", &self.module.world)
            .field("sha256", &self.module.sha256)
            .finish()
    }
}

impl LoadedPlugin {
    /// This plugin's live figures since the process started.
    pub fn stats(&self) -> super::stats::PluginStats {
        self.counters.snapshot()
    }

    pub(crate) fn new(name: &str, module: Arc<Module>, grants: Grants, rt: Arc<Runtime>) -> Self {
        Self {
            name: name.to_string(),
            counters: rt.stats.counters(name),
            permits: Arc::new(Semaphore::new(grants.limits.concurrency as usize)),
            grants: Arc::new(grants),
            module,
            rt,
        }
    }

    /// The plugin's name in `ava.toml`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its kind.
    pub fn world(&self) -> World {
        self.module.world
    }

    /// What it said about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.description().info
    }

    /// The job kinds it handles (job handlers).
    pub fn kinds(&self) -> &[String] {
        &self.description().kinds
    }

    fn description(&self) -> &Description {
        self.module
            .description
            .get()
            .expect("a loaded plugin has been described")
    }

    /// Its limits.
    pub fn limits(&self) -> &Limits {
        &self.grants.limits
    }

    /// Its grants.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// The compiled binary.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Runs one call: `call` gets a fresh store, instantiates and calls the export, and
    /// hands the store back with the result.
    pub(crate) async fn invoke<R, F, Fut>(
        &self,
        op: &'static str,
        scope: CallScope,
        call: F,
    ) -> Result<R, CallError>
    where
        F: FnOnce(Store<CallCtx>) -> Fut,
        Fut: Future<Output = (Store<CallCtx>, wasmtime::Result<R>)> + Send,
        R: OutputSize,
    {
        let started = Instant::now();
        let limits = self.grants.limits;
        let deadline = started + limits.timeout;
        let busy = || CallError::Busy {
            plugin: self.name.clone(),
            concurrency: limits.concurrency,
        };
        let _plugin_permit = acquire(&self.permits, deadline).await.ok_or_else(busy)?;
        let _pool_permit = acquire(&self.rt.instances, deadline)
            .await
            .ok_or_else(busy)?;

        let stdio = Arc::new(OnceLock::new());
        let ctx = CallCtx::new(
            self.grants.clone(),
            self.rt.http.clone(),
            self.rt.services.clone(),
            deadline,
            scope,
            stdio.clone(),
        );
        let mut store = Store::new(&self.rt.engine, ctx);
        store.limiter(|ctx| &mut ctx.limiter);
        store.set_hostcall_fuel(limits.host_call_bytes());
        store
            .set_fuel(limits.fuel.unwrap_or(u64::MAX))
            .expect("the engine consumes fuel");
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(wasmtime::Error::new(DeadlineExceeded))
            } else {
                // Let other tasks run, then come back next tick.
                Ok(UpdateDeadline::Yield(1))
            }
        });

        let outcome = tokio::time::timeout_at((deadline + GRACE).into(), call(store)).await;
        let result = match outcome {
            Err(_) => Err(CallError::Timeout {
                plugin: self.name.clone(),
                limit: limits.timeout,
            }),
            Ok((_, Ok(value))) => {
                let size = value.output_size();
                if size > limits.max_output_bytes {
                    Err(CallError::OutputTooLarge {
                        plugin: self.name.clone(),
                        size,
                        limit: limits.max_output_bytes,
                    })
                } else {
                    Ok(value)
                }
            }
            Ok((_, Err(err))) => Err(self.classify(err, stdio.get())),
        };
        self.log_stdio(stdio.get());
        self.record(op, started.elapsed(), &result);
        result
    }

    /// Turns a failed call into the error that says what happened.
    fn classify(&self, err: wasmtime::Error, stdio: Option<&Stdio>) -> CallError {
        let plugin = self.name.clone();
        let limits = self.grants.limits;
        if err.downcast_ref::<DeadlineExceeded>().is_some() {
            return CallError::Timeout {
                plugin,
                limit: limits.timeout,
            };
        }
        if let Some(e) = err.downcast_ref::<MemoryLimitExceeded>() {
            return CallError::MemoryLimit {
                plugin,
                limit_bytes: e.limit,
            };
        }
        if let Some(e) = err.downcast_ref::<OutputLimitExceeded>() {
            return CallError::OutputTooLarge {
                plugin,
                size: e.size,
                limit: e.limit,
            };
        }
        if err
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return CallError::Busy {
                plugin,
                concurrency: limits.concurrency,
            };
        }
        tracing::debug!(plugin = %plugin, "plugin call failed: {err:?}");
        if is_host_call_too_large(&format!("{err:#}")) {
            return CallError::Trap {
                plugin,
                message: format!(
                    "a host call or the result carried more than {} bytes out of the plugin \
                     (the largest of its input and output limits, plus 1 MiB); nothing was copied",
                    limits.host_call_bytes()
                ),
            };
        }
        let panic = stdio.and_then(|s| panic_message(&s.stderr.contents()));
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::FuelExhausted {
                plugin,
                fuel: limits.fuel.unwrap_or(u64::MAX),
            },
            Some(Trap::StackOverflow) => CallError::StackOverflow { plugin },
            Some(Trap::MemoryOutOfBounds) if shadow_stack_overflow(&format!("{err:#}")) => {
                CallError::StackOverflow { plugin }
            }
            Some(Trap::Interrupt) => CallError::Timeout {
                plugin,
                limit: limits.timeout,
            },
            Some(trap) => match panic {
                Some(message) => CallError::Panic {
                    plugin,
                    message: self.grants.redact(&message),
                },
                None => CallError::Trap {
                    plugin,
                    message: trap.to_string(),
                },
            },
            None => CallError::Host {
                plugin,
                message: self.grants.redact(&format!("{err:#}")),
            },
        }
    }

    /// The plugin's stdout and stderr, into the log.
    fn log_stdio(&self, stdio: Option<&Stdio>) {
        let Some(stdio) = stdio else { return };
        for (stream, bytes) in [
            ("stdout", stdio.stdout.contents()),
            ("stderr", stdio.stderr.contents()),
        ] {
            if bytes.is_empty() {
                continue;
            }
            let text = self.grants.redact(&String::from_utf8_lossy(&bytes));
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                tracing::info!(target: "plugin", plugin = %self.name, stream, "{line}");
            }
        }
    }

    fn record<R>(&self, op: &'static str, elapsed: Duration, result: &Result<R, CallError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        if let Err(err) = result {
            if err.is_fault() {
                // ERROR: a trap, a timeout or a limit hit is reported (Sentry), tagged.
                tracing::error!(
                    tags.plugin = %self.name,
                    tags.slot = self.module.world.slot(),
                    tags.op = op,
                    tags.outcome = outcome,
                    error = %err,
                    "plugin call failed"
                );
            } else {
                tracing::debug!(plugin = %self.name, op, error = %err, "plugin call returned an error");
            }
        }
        self.counters.record(outcome, elapsed);
        metrics::counter!("ava_plugin_calls_total", "plugin" => self.name.clone(), "op" => op, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("ava_plugin_call_duration_seconds", "plugin" => self.name.clone(), "op" => op)
            .record(elapsed.as_secs_f64());
    }

    /// Downloads `url` under this plugin's grants, within its time limit.
    pub(crate) async fn download(&self, url: &str) -> Result<(Option<String>, Vec<u8>), HttpError> {
        let deadline = Instant::now() + self.grants.limits.timeout;
        http::download(&self.rt.http, &self.grants, url, deadline).await
    }
}

/// A permit of `semaphore`, waiting until `deadline` at most. The common case, a free permit,
/// takes no timer.
async fn acquire(semaphore: &Arc<Semaphore>, deadline: Instant) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = semaphore.clone().try_acquire_owned() {
        return Some(permit);
    }
    tokio::time::timeout_at(deadline.into(), semaphore.clone().acquire_owned())
        .await
        .ok()?
        .ok()
}

/// Whether an out-of-bounds access is a guest stack overflow. Rust (like C) keeps its stack
/// at the start of linear memory, growing down toward address 0; running past 0 wraps to
/// the top of the 32-bit address space, and an access's static offset can carry it just
/// past 4 GiB. wasmtime reports the faulting address as context ("memory fault at wasm
/// address 0x... in linear memory of size 0x...").
fn shadow_stack_overflow(error_chain: &str) -> bool {
    const WRAPPED: std::ops::Range<u64> = 0xF000_0000..(1 << 32) + 0x1_0000;
    let Some(rest) = error_chain.split("memory fault at wasm address 0x").nth(1) else {
        return false;
    };
    let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    u64::from_str_radix(&hex, 16).is_ok_and(|address| WRAPPED.contains(&address))
}

/// The message of a Rust panic printed to stderr, if there is one.
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let at = text.find("panicked at")?;
    let message: Vec<&str> = text[at..]
        .lines()
        .take_while(|l| !l.starts_with("note:"))
        .filter(|l| !l.trim().is_empty())
        .collect();
    Some(message.join(" ").chars().take(2_000).collect())
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn a_fault_just_below_address_zero_is_a_stack_overflow() {
        use super::shadow_stack_overflow;
        let overflow = "wasm trap: out of bounds memory access: memory fault at wasm address \
                        0xfffffff0 in linear memory of size 0x140000";
        assert!(shadow_stack_overflow(overflow));
        let past = "memory fault at wasm address 0x100000030 in linear memory of size 0x110000";
        assert!(
            shadow_stack_overflow(past),
            "a wrapped address plus an offset"
        );
        let wild = "memory fault at wasm address 0x2000000 in linear memory of size 0x140000";
        assert!(!shadow_stack_overflow(wild));
        let far = "memory fault at wasm address 0x200000000 in linear memory of size 0x140000";
        assert!(!shadow_stack_overflow(far));
        assert!(!shadow_stack_overflow(
            "wasm trap: out of bounds memory access"
        ));
    }

    #[test]
    fn a_rust_panic_message_is_extracted() {
        let stderr = b"\nthread '<unnamed>' panicked at src/lib.rs:12:9:\nboom on purpose\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).unwrap(),
            "panicked at src/lib.rs:12:9: boom on purpose"
        );
        assert_eq!(panic_message(b"just output"), None);
    }
}
