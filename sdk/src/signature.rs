//! Webhook signatures in Stripe's scheme, in a header of the provider's choosing.
//!
//! The header's value is `t=<unix secs>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The
//! HMAC is keyed with the bytes of the whole secret as configured (Stripe's `whsec_…` string,
//! prefix included) and computed by the host, so the secret never enters the plugin. Several
//! `v1` entries may be present while a secret is being rotated, and one match is enough; other
//! schemes (`v0`, anything unknown) are ignored. A timestamp more than [`TOLERANCE_MS`] away
//! from the clock is refused, so a captured webhook cannot be replayed later.
//!
//! ```
//! use ava_sdk::signature::SignatureHeader;
//! use ava_sdk::testing::TestHost;
//!
//! const SIGNATURE: SignatureHeader = SignatureHeader::new("Stripe-Signature");
//!
//! let host = TestHost::new().secret("webhook_secret", "whsec_test");
//! host.run(|| {
//!     let value = SIGNATURE.sign("webhook_secret", 1_767_225_600, b"{}").unwrap();
//!     assert!(SIGNATURE.verify("webhook_secret", Some(&value), b"{}", 1_767_225_600_000).is_ok());
//! });
//! ```

use crate::{PluginError, crypto};

/// How far a signature's timestamp may be from the clock: Stripe's default tolerance.
pub const TOLERANCE_MS: u64 = 300_000;

/// A Stripe-style signature carried in the header `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeader {
    name: &'static str,
}

impl SignatureHeader {
    /// Signatures in the header `name` (compared case-insensitively by the caller's lookup).
    pub const fn new(name: &'static str) -> Self {
        Self { name }
    }

    /// The header's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The header value signing `body` at `t` (Unix seconds) with this plugin's secret `secret`.
    pub fn sign(&self, secret: &str, t: u64, body: &[u8]) -> Result<String, PluginError> {
        let mac = crypto::hmac_sha256(secret, &signed_payload(t, body))?;
        Ok(format!("t={t},v1={}", crypto::to_hex(&mac)))
    }

    /// Checks the header's `value` (none when the header is missing) against `body` at
    /// `now_ms`, with this plugin's secret `secret`. A missing, malformed, forged or stale
    /// signature is `unauthorized`.
    pub fn verify(
        &self,
        secret: &str,
        value: Option<&str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(), PluginError> {
        let name = self.name;
        let value =
            value.ok_or_else(|| PluginError::unauthorized(format!("missing {name} header")))?;
        let (t, candidates) = parse(value)
            .ok_or_else(|| PluginError::unauthorized(format!("malformed {name} header")))?;
        let expected = crypto::hmac_sha256(secret, &signed_payload(t, body))?;
        // Every candidate is compared in full, so the time taken says nothing about which matched.
        let matched = candidates.iter().fold(false, |found, candidate| {
            crypto::constant_time_eq(candidate, &expected) | found
        });
        if !matched {
            return Err(PluginError::unauthorized(format!(
                "no v1 signature in {name} matches"
            )));
        }
        if t.saturating_mul(1000).abs_diff(now_ms) > TOLERANCE_MS {
            return Err(PluginError::unauthorized(format!(
                "the {name} timestamp is outside the tolerance"
            )));
        }
        Ok(())
    }
}

fn signed_payload(t: u64, body: &[u8]) -> Vec<u8> {
    let mut payload = format!("{t}.").into_bytes();
    payload.extend_from_slice(body);
    payload
}

/// The timestamp and the decoded `v1` signatures; `None` without exactly one valid `t` or
/// without any well-formed `v1`.
fn parse(header: &str) -> Option<(u64, Vec<Vec<u8>>)> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=')?;
        match key.trim() {
            "t" => {
                if t.is_some() {
                    return None;
                }
                t = Some(value.trim().parse::<u64>().ok()?);
            }
            "v1" => v1.extend(crypto::from_hex(value.trim())),
            _ => {}
        }
    }
    match (t, v1.is_empty()) {
        (Some(t), false) => Some((t, v1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestHost;

    const HEADER: SignatureHeader = SignatureHeader::new("Test-Signature");
    const NOW_MS: u64 = 1_767_225_600_000;
    const NOW: u64 = NOW_MS / 1000;

    fn host() -> TestHost {
        TestHost::new()
            .secret("s", "whsec_test")
            .secret("other", "whsec_other")
    }

    fn verify(host: &TestHost, value: &str, body: &[u8]) -> Result<(), PluginError> {
        host.run(|| HEADER.verify("s", Some(value), body, NOW_MS))
    }

    fn v1_of(value: &str) -> &str {
        value.split_once(",v1=").unwrap().1
    }

    #[test]
    fn a_fresh_signature_verifies() {
        let host = host();
        let value = host.run(|| HEADER.sign("s", NOW, b"{}")).unwrap();
        assert_eq!(verify(&host, &value, b"{}"), Ok(()));
    }

    #[test]
    fn the_value_has_stripes_shape_and_stripes_hmac() {
        // HMAC-SHA256 keyed with the whole secret, prefix included, over "12.x" (computed
        // independently with Python's hmac module).
        let value = host().run(|| HEADER.sign("s", 12, b"x")).unwrap();
        assert_eq!(
            value,
            "t=12,v1=07b1a7be0b1163472c8bc898f9376635b3b5e78a64af6d78fdedf45b7f6fdb9c"
        );
    }

    #[test]
    fn a_timestamp_300_s_away_is_still_accepted_and_301_s_is_not() {
        let host = host();
        let ok = host.run(|| HEADER.sign("s", NOW - 300, b"{}")).unwrap();
        assert_eq!(verify(&host, &ok, b"{}"), Ok(()));
        for t in [NOW - 301, NOW + 301] {
            let stale = host.run(|| HEADER.sign("s", t, b"{}")).unwrap();
            assert!(matches!(
                verify(&host, &stale, b"{}"),
                Err(PluginError::Unauthorized(m)) if m.contains("tolerance")
            ));
        }
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let host = host();
        let value = host.run(|| HEADER.sign("s", NOW, b"{\"a\":1}")).unwrap();
        assert!(matches!(
            verify(&host, &value, b"{\"a\":2}"),
            Err(PluginError::Unauthorized(_))
        ));
    }

    #[test]
    fn a_signature_with_another_secret_is_refused() {
        let host = host();
        let value = host.run(|| HEADER.sign("other", NOW, b"{}")).unwrap();
        assert!(matches!(
            verify(&host, &value, b"{}"),
            Err(PluginError::Unauthorized(m)) if m.contains("no v1 signature in Test-Signature")
        ));
    }

    #[test]
    fn one_matching_v1_among_several_is_enough() {
        let host = host();
        let good = host.run(|| HEADER.sign("s", NOW, b"{}")).unwrap();
        let bad = host.run(|| HEADER.sign("other", NOW, b"{}")).unwrap();
        for value in [
            format!("t={NOW},v1={},v1={}", v1_of(&bad), v1_of(&good)),
            format!("t={NOW},v1={},v1={}", v1_of(&good), v1_of(&bad)),
        ] {
            assert_eq!(verify(&host, &value, b"{}"), Ok(()), "{value}");
        }
    }

    #[test]
    fn v0_and_unknown_schemes_are_ignored() {
        let host = host();
        let good = host.run(|| HEADER.sign("s", NOW, b"{}")).unwrap();
        let with_others = format!("{good},v0=deadbeef,v9=00");
        assert_eq!(verify(&host, &with_others, b"{}"), Ok(()));
        // A valid HMAC offered only under another scheme does not count.
        let v0_only = format!("t={NOW},v0={}", v1_of(&good));
        assert!(matches!(
            verify(&host, &v0_only, b"{}"),
            Err(PluginError::Unauthorized(m)) if m.contains("malformed")
        ));
    }

    #[test]
    fn a_missing_header_is_refused_by_name() {
        let result = host().run(|| HEADER.verify("s", None, b"{}", NOW_MS));
        assert_eq!(
            result,
            Err(PluginError::unauthorized("missing Test-Signature header"))
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let host = host();
        for value in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1",
            "t=1,v1=zz",
            "t=1,t=2,v1=00",
            "garbage",
        ] {
            let result = verify(&host, value, b"{}");
            assert!(
                matches!(result, Err(PluginError::Unauthorized(_))),
                "{value:?}: {result:?}"
            );
        }
    }

    #[test]
    fn an_undeclared_secret_is_an_internal_error_not_a_forgery() {
        let result = host().run(|| HEADER.verify("nope", Some("t=1,v1=00"), b"{}", NOW_MS));
        assert!(
            matches!(result, Err(PluginError::Internal(_))),
            "{result:?}"
        );
    }
}
