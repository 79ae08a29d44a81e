//! Per-plugin limits, and the per-call resource limiter that enforces memory.

use std::time::Duration;

use wasmtime::ResourceLimiter;

use crate::config::LimitsConfig;

/// Tables beyond this many elements are refused (a Rust plugin uses a few hundred).
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// The limits every call of one plugin runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: usize,
    pub timeout: Duration,
    pub fuel: Option<u64>,
    pub max_http_response_bytes: u64,
    pub max_http_request_bytes: u64,
    pub max_output_bytes: u64,
    pub concurrency: u32,
    /// What the plugin may keep in its key-value store, over all its calls.
    pub kv_quota: super::kv::KvQuota,
}

impl From<&LimitsConfig> for Limits {
    fn from(c: &LimitsConfig) -> Self {
        Self {
            memory_bytes: (c.memory_mib as usize) << 20,
            timeout: Duration::from_millis(c.timeout_ms),
            fuel: c.fuel,
            max_http_response_bytes: c.max_http_response_bytes,
            max_http_request_bytes: c.max_http_request_bytes,
            max_output_bytes: c.max_output_bytes,
            concurrency: c.concurrency,
            kv_quota: super::kv::KvQuota {
                max_keys: c.kv_max_keys,
                max_bytes: c.kv_max_bytes,
            },
        }
    }
}

impl Limits {
    /// `memory 64 MiB, timeout 10000 ms, ...` for `ava plugins check`.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "memory {} MiB, timeout {} ms, concurrency {}, http body {} KiB, http request {} KiB, output {} KiB",
            self.memory_bytes >> 20,
            self.timeout.as_millis(),
            self.concurrency,
            self.max_http_response_bytes >> 10,
            self.max_http_request_bytes >> 10,
            self.max_output_bytes >> 10,
        );
        if let Some(fuel) = self.fuel {
            out.push_str(&format!(", fuel {fuel}"));
        }
        out.push_str(&format!(
            ", kv {} keys / {} KiB",
            self.kv_quota.max_keys,
            self.kv_quota.max_bytes >> 10
        ));
        out
    }

    /// The most one host call (or the call's result) may carry from the plugin to the host:
    /// the largest input any import accepts, or the output limit, plus
    /// [`HOST_CALL_OVERHEAD_BYTES`]. wasmtime checks it (its "hostcall fuel") before it
    /// copies an argument out of the plugin's memory, so a larger argument traps without the
    /// host allocating anything for it; below it, each import refuses what is over its own
    /// limit with its own error.
    pub fn host_call_bytes(&self) -> usize {
        let largest = [
            self.max_http_request_bytes,
            self.max_output_bytes,
            ava_sdk::crypto::MAX_HMAC_MESSAGE_BYTES as u64,
            ava_sdk::kv::MAX_VALUE_BYTES as u64,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        usize::try_from(largest)
            .unwrap_or(usize::MAX)
            .saturating_add(HOST_CALL_OVERHEAD_BYTES)
    }
}

/// Room in one host call beside its largest input: the URL, headers and names of an HTTP
/// request, a key beside a value ([`Limits::host_call_bytes`]).
pub const HOST_CALL_OVERHEAD_BYTES: usize = 1 << 20;

/// The error wasmtime raises when a host call's arguments are over the call's hostcall fuel
/// ([`Limits::host_call_bytes`]). Its type is private; its message is not.
pub fn is_host_call_too_large(error_chain: &str) -> bool {
    error_chain.contains("fuel allocated for hostcalls has been exhausted")
}

/// Raised (as the trap's error) when a plugin asks for more memory than it may have.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded (asked for {requested})")]
pub struct MemoryLimitExceeded {
    pub limit: usize,
    pub requested: usize,
}

/// Raised when a plugin returns or streams more than its output limit.
#[derive(Debug, thiserror::Error)]
#[error("output of {size} bytes exceeds the limit of {limit}")]
pub struct OutputLimitExceeded {
    pub size: u64,
    pub limit: u64,
}

/// Enforces one call's memory cap. Growing past it traps at once with
/// [`MemoryLimitExceeded`] instead of returning -1, so the host reports the real cause
/// rather than whatever the plugin's allocator does on failure.
#[derive(Debug)]
pub struct CallLimiter {
    memory_bytes: usize,
    /// The largest linear memory granted so far (`ava plugin call` reports it).
    peak_bytes: usize,
}

impl CallLimiter {
    pub fn new(memory_bytes: usize) -> Self {
        Self {
            memory_bytes,
            peak_bytes: 0,
        }
    }

    /// The largest linear memory granted in this call, in bytes.
    pub fn peak_memory_bytes(&self) -> usize {
        self.peak_bytes
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory_bytes,
                requested: desired,
            }));
        }
        let granted = maximum.is_none_or(|max| desired <= max);
        if granted {
            self.peak_bytes = self.peak_bytes.max(desired);
        }
        Ok(granted)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS && maximum.is_none_or(|max| desired <= max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_call_may_carry_the_largest_input_or_output_limit_and_some_room() {
        let mut config = LimitsConfig {
            max_output_bytes: 1 << 20,
            ..LimitsConfig::default()
        };
        assert_eq!(
            Limits::from(&config).host_call_bytes(),
            (8 << 20) + HOST_CALL_OVERHEAD_BYTES,
            "the request body limit is the largest"
        );
        config.max_output_bytes = 32 << 20;
        assert_eq!(
            Limits::from(&config).host_call_bytes(),
            (32 << 20) + HOST_CALL_OVERHEAD_BYTES,
            "a result, or a photo saved, may be as large as the output limit"
        );
    }
}
