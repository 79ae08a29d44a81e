//! Replies far larger than any chat needs: what poisons a history when it is stored whole.

/// A reply of `bytes` bytes (ASCII words, so any cut is on a character boundary).
pub fn of_bytes(bytes: &str) -> String {
    let bytes: usize = bytes.parse().unwrap_or(0);
    "poison ".repeat(bytes / 7 + 1)[..bytes].to_string()
}

/// What the host sent: how many history messages, and how many bytes of text in them and
/// in the memory, for the test to hold against the host's bounds.
pub fn describe_history(request: &ava_sdk::chat::ChatRequest) -> String {
    let bytes: usize = request.history.iter().map(|m| m.content.len()).sum();
    let memory = request.memory.as_deref().map_or(0, str::len);
    format!(
        "history {} messages, {bytes} bytes; memory {memory} bytes",
        request.history.len()
    )
}
