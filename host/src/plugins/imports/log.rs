//! `host.log`: plugin log lines into the host's tracing, tagged with the plugin's name,
//! cut, capped per call and with secret values redacted.

use tracing::{debug, error, info, trace, warn};

use crate::plugins::ctx::{CallCtx, HostCall, LogBudget};
use crate::plugins::types::LogLevel;

/// Writes one plugin log line.
pub fn write(ctx: &mut CallCtx, level: LogLevel, message: &str) {
    let budget = &mut ctx.log_budget;
    if budget.lines >= LogBudget::MAX_LINES || budget.bytes >= LogBudget::MAX_BYTES {
        if budget.dropped == 0 {
            warn!(
                target: "plugin",
                plugin = %ctx.grants.name,
                "plugin log flood: dropping further lines of this call"
            );
        }
        budget.dropped += 1;
        return;
    }
    let cut = truncate(message, LogBudget::MAX_LINE_BYTES);
    budget.lines += 1;
    budget.bytes += cut.len();
    let line = ctx.grants.redact(cut);
    ctx.record(|| HostCall::Log {
        level: level_name(level),
        line: line.clone(),
    });
    let plugin = ctx.grants.name.as_str();
    match level {
        LogLevel::Trace => trace!(target: "plugin", plugin, "{line}"),
        LogLevel::Debug => debug!(target: "plugin", plugin, "{line}"),
        LogLevel::Info => info!(target: "plugin", plugin, "{line}"),
        LogLevel::Warn => warn!(target: "plugin", plugin, "{line}"),
        LogLevel::Error => error!(target: "plugin", plugin, "{line}"),
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
