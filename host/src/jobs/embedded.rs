//! The embedded queue: a `jobs` table with leases (see `mod.rs`).
