//! Ava's host: the HTTP API, the WebAssembly plugin runtime and the worker.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod plugins;
pub mod telemetry;
