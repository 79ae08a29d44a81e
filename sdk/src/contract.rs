//! Facts about the contract that the SDK and the host must agree on.

/// The version of the `ava:plugin` WIT package this SDK implements.
pub const VERSION: &str = "0.2.0";

/// The name of the custom section in which a plugin carries [`VERSION`]. The host reads it
/// before instantiating anything, so a plugin built for another contract is refused cleanly.
pub const VERSION_SECTION: &str = "ava:contract-version";

/// [`VERSION`] as the bytes of the custom section (`export_*!` embeds it).
#[doc(hidden)]
pub const VERSION_BYTES: [u8; VERSION.len()] = version_bytes();

const fn version_bytes() -> [u8; VERSION.len()] {
    let src = VERSION.as_bytes();
    let mut out = [0u8; VERSION.len()];
    let mut i = 0;
    while i < src.len() {
        out[i] = src[i];
        i += 1;
    }
    out
}

/// Replaces every `{secret:NAME}` in a header value with `lookup(NAME)`.
///
/// This is the one definition of the placeholder syntax: the host uses it to inject secrets
/// into outgoing requests, and the test harness uses it to show tests what a server would see.
/// A `{secret:` without a closing brace is left as it is.
pub fn expand_secret_placeholders<E>(
    value: &str,
    mut lookup: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    const OPEN: &str = "{secret:";
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        out.push_str(&rest[..start]);
        out.push_str(&lookup(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a header value asks for a secret, without expanding it.
pub fn has_secret_placeholder(value: &str) -> bool {
    value
        .find("{secret:")
        .is_some_and(|i| value[i..].contains('}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Result<String, String> {
        match name {
            "api_key" => Ok("sk_test_123".into()),
            other => Err(other.to_string()),
        }
    }

    #[test]
    fn placeholder_is_replaced_in_place() {
        let out = expand_secret_placeholders("Bearer {secret:api_key}", lookup).unwrap();
        assert_eq!(out, "Bearer sk_test_123");
    }

    #[test]
    fn several_placeholders_and_plain_text_survive() {
        let out = expand_secret_placeholders("a{secret:api_key}b{secret:api_key}c", lookup);
        assert_eq!(out.unwrap(), "ask_test_123bsk_test_123c");
        assert_eq!(
            expand_secret_placeholders("plain", lookup).unwrap(),
            "plain"
        );
    }

    #[test]
    fn unknown_secret_is_reported_by_name() {
        let err = expand_secret_placeholders("Bearer {secret:other}", lookup).unwrap_err();
        assert_eq!(err, "other");
    }

    #[test]
    fn unclosed_placeholder_is_left_alone() {
        let out = expand_secret_placeholders("x {secret:api_key", lookup).unwrap();
        assert_eq!(out, "x {secret:api_key");
        assert!(!has_secret_placeholder("x {secret:api_key"));
        assert!(has_secret_placeholder("Bearer {secret:api_key}"));
    }

    #[test]
    fn version_bytes_match_version() {
        assert_eq!(&VERSION_BYTES, VERSION.as_bytes());
    }
}
