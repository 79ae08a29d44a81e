//! Logging: human-readable in development, JSON lines in production.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `filter` uses `tracing`'s directive syntax.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|err| {
        eprintln!("invalid log filter {filter:?} ({err}); using `info`");
        EnvFilter::new("info")
    });
    // Logs on stderr: stdout is what a command prints (`ava jobs dead`, `ava plugins check`).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    // Tests may install one first.
    let _ = result;
}
