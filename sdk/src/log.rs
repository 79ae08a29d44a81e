//! Logging into the host's log, tagged with the plugin's name. Use the macros:
//! `ava_sdk::info!("charged {} cents", amount)`.

use crate::{LogLevel, host_call};

/// Writes `message` at `level`.
pub fn write(level: LogLevel, message: &str) {
    host_call::log(level, message)
}

/// Logs at trace level, with `format!` arguments.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::write($crate::LogLevel::Trace, &::std::format!($($arg)*)) };
}

/// Logs at debug level, with `format!` arguments.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::write($crate::LogLevel::Debug, &::std::format!($($arg)*)) };
}

/// Logs at info level, with `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::LogLevel::Info, &::std::format!($($arg)*)) };
}

/// Logs at warn level, with `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::LogLevel::Warn, &::std::format!($($arg)*)) };
}

/// Logs at error level, with `format!` arguments.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::LogLevel::Error, &::std::format!($($arg)*)) };
}
