//! What Ava tells its operators: logs (human-readable in development, JSON lines in
//! production), Prometheus metrics, and error reports to Sentry.

pub mod error_reports;
pub mod http;
pub mod metrics;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber: the log on stderr, and error-level events to Sentry
/// (a no-op while no Sentry client is bound). `filter` uses `tracing`'s directive syntax.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|err| {
        eprintln!("invalid log filter {filter:?} ({err}); using `info`");
        EnvFilter::new("info")
    });
    // Logs on stderr: stdout is what a command prints (`ava jobs dead`, `ava plugins check`).
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true);
    let log = if json {
        log.json().flatten_event(true).boxed()
    } else {
        log.boxed()
    };
    // Tests may install one first.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(log)
        .with(error_reports::tracing_layer())
        .try_init();
}
