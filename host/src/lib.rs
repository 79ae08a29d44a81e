//! Ava's host: the HTTP API, the WebAssembly plugin runtime and the worker.

pub mod accounts;
pub mod api;
pub mod app;
pub mod billing;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod jobs;
pub mod personas;
pub mod photos;
pub mod plugins;
pub mod telemetry;
pub mod text;
pub mod tls;
