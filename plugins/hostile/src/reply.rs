//! Replies far larger than any chat needs: what poisons a history when it is stored whole.

/// A reply of `bytes` bytes (ASCII words, so any cut is on a character boundary).
pub fn of_bytes(bytes: &str) -> String {
    let bytes: usize = bytes.parse().unwrap_or(0);
    "poison ".repeat(bytes / 7 + 1)[..bytes].to_string()
}
