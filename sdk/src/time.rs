//! The host's clock.

use crate::host_call;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    host_call::now_ms()
}

/// Waits `ms` milliseconds without using CPU; counts against the call's wall-clock limit.
pub fn sleep_ms(ms: u32) {
    host_call::sleep_ms(ms)
}
