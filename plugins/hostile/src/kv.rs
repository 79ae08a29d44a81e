//! Filling the key-value store the host keeps for every plugin.
//!
//! - `keys:bytes[:from]`: writes `keys` values of `bytes` bytes under `fill:<i>`, for `i`
//!   from `from` (0 by default); stops at the first refusal.
//! - `keys:delete[:from]`: deletes the same keys.
//!
//! The values are random bytes, so a database that compresses what it stores (PostgreSQL's
//! TOAST) keeps all of them.

use ava_sdk::kv;

pub fn fill(arg: &str) -> String {
    let mut parts = arg.split(':');
    let keys: usize = parts.next().and_then(|k| k.parse().ok()).unwrap_or(0);
    let size = parts.next().unwrap_or("1024");
    let from: usize = parts.next().and_then(|f| f.parse().ok()).unwrap_or(0);
    let range = from..from.saturating_add(keys);
    if size == "delete" {
        let mut deleted = 0;
        for i in range {
            match kv::delete(&format!("fill:{i}")) {
                Ok(true) => deleted += 1,
                Ok(false) => {}
                Err(err) => return format!("deleted {deleted}; refused: {}", err.message()),
            }
        }
        return format!("deleted {deleted}");
    }
    let value = noise(size.parse().unwrap_or(1024));
    let mut stored = 0;
    for i in range {
        if let Err(err) = kv::set(&format!("fill:{i}"), &value, None) {
            return format!("stored {stored}; refused: {}", err.message());
        }
        stored += 1;
    }
    format!("stored {stored}")
}

/// `len` bytes that do not compress (xorshift64).
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
