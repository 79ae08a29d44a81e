//! CPU-heavy work a host import does for a plugin (an HMAC over a large message), moved off
//! the async worker threads that serve every request, onto a bounded number of blocking
//! threads.
//!
//! Done in place, such work runs inside the poll of the plugin's call: nothing else runs on
//! that worker meanwhile (`/health`, other users' chats), and the call's deadline cannot
//! fire until it ends. Here the import only awaits it, and no longer than the call's
//! deadline; work already started runs to its end on its thread (it is bounded by the
//! import's input limit) and keeps its permit until then, so abandoned work counts against
//! the bound too.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::plugins::plugin::DeadlineExceeded;

/// Inputs up to this size are worked on in place: handing them to another thread costs
/// about as much as the work (an HMAC of 64 KiB takes about 0.1 ms optimized).
pub const INLINE_MAX_BYTES: usize = 64 << 10;

/// Blocking threads working for plugins at once: every core but one, so the async workers
/// always keep a core however many plugins ask for heavy work; at least one.
static PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Arc::new(Semaphore::new(cores.saturating_sub(1).max(1)))
});

/// Runs `work` on the blocking pool once a permit is free, and gives its result, or
/// [`DeadlineExceeded`] when `deadline` (the call's) passes first, waiting or working: the
/// call then ends at its deadline, as a CPU-bound plugin does.
pub async fn run<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DeadlineExceeded> {
    let done = tokio::time::timeout_at(deadline.into(), async {
        let permit = PERMITS
            .clone()
            .acquire_owned()
            .await
            .expect("the host work semaphore is never closed");
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
    })
    .await;
    match done {
        Err(_) => Err(DeadlineExceeded),
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        // Only when the runtime shuts down, which drops this future as well.
        Ok(Err(err)) => panic!("host work was cancelled: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn work_runs_off_the_async_thread() {
        let caller = std::thread::current().id();
        let worker = run(far(), move || std::thread::current().id()).await;
        assert_ne!(worker.unwrap(), caller);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn work_unfinished_at_the_deadline_ends_there() {
        // A single-threaded runtime: work done in place would hold the timer back until it
        // ended, 300 ms later.
        let started = Instant::now();
        let outcome = run(started + Duration::from_millis(20), || {
            std::thread::sleep(Duration::from_millis(300))
        })
        .await;
        assert!(outcome.is_err());
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
    }
}
