//! The Redis queue: Redis Streams with a consumer group (see `mod.rs`).
