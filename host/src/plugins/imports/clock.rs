//! `host.now-ms` and `host.sleep-ms`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Sleeps without holding a thread; the call's deadline still applies (the whole call is
/// under a timeout), so a long sleep ends the call rather than overstaying.
pub async fn sleep(ms: u32) {
    tokio::time::sleep(Duration::from_millis(u64::from(ms))).await
}
