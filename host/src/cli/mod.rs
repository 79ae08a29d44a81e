//! Commands other than `serve`.

pub mod plugins;
