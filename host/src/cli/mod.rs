//! Commands other than `serve`.

pub mod jobs;
pub mod plugin;
