//! Signatures with this plugin's secrets, computed by the host so the secret never enters
//! the plugin.

use crate::{SecretError, host_call};

/// The longest message [`hmac_sha256`] signs, in bytes (1 MiB). Ava takes webhook bodies of
/// at most 512 KiB, and a provider's signature covers little more than the body (Stripe's a
/// timestamp and the body); the limit keeps the host's work for one call small. A longer
/// message is refused with [`SecretError::NotGranted`], whose message names the limit, by the
/// host as by [`testing::TestHost`](crate::testing).
pub const MAX_HMAC_MESSAGE_BYTES: usize = 1 << 20;

/// HMAC-SHA256 of `message` keyed with the bytes of the secret `secret`; at most
/// [`MAX_HMAC_MESSAGE_BYTES`] of message.
pub fn hmac_sha256(secret: &str, message: &[u8]) -> Result<Vec<u8>, SecretError> {
    host_call::hmac_sha256(secret, message)
}

/// Refuses a message of `len` bytes, over [`MAX_HMAC_MESSAGE_BYTES`], for the secret
/// `secret`, saying why: the text of the host's `SecretError::NotGranted` (`"NAME: why"`).
pub fn check_message(secret: &str, len: usize) -> Result<(), String> {
    if len > MAX_HMAC_MESSAGE_BYTES {
        return Err(format!(
            "{secret}: message of {len} bytes, over the {MAX_HMAC_MESSAGE_BYTES}-byte (1 MiB) limit of hmac-sha256"
        ));
    }
    Ok(())
}

/// Compares two byte strings in time that depends only on their lengths, so a signature
/// check does not leak how many leading bytes matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// Bytes from hex (either case); `None` when `text` is not hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_over_the_limit_is_refused_naming_it() {
        assert_eq!(check_message("key", MAX_HMAC_MESSAGE_BYTES), Ok(()));
        let err = check_message("key", MAX_HMAC_MESSAGE_BYTES + 1).unwrap_err();
        let message = SecretError::NotGranted(err).message();
        assert_eq!(
            message,
            "secret `key` refused: message of 1048577 bytes, over the 1048576-byte (1 MiB) limit of hmac-sha256"
        );
    }

    #[test]
    fn equal_and_unequal_inputs() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(to_hex(&bytes), "0001abff");
        assert_eq!(from_hex("0001ABff").unwrap(), bytes);
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
    }
}
