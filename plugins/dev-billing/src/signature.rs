//! Webhook signatures, exactly like Stripe's but in the header `Ava-Dev-Signature`:
//! `t=<unix secs>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Several `v1` entries may
//! be present (during a secret rotation); one match is enough. Other schemes are ignored.

use ava_sdk::{PluginError, crypto};

/// The header carrying the signature.
pub const HEADER: &str = "Ava-Dev-Signature";
/// How far a signature's timestamp may be from the clock: replays older than this are refused.
pub const TOLERANCE_MS: u64 = 300_000;

/// The header value signing `body` at `t` (Unix seconds) with the secret named `secret`.
pub fn sign(secret: &str, t: u64, body: &[u8]) -> Result<String, PluginError> {
    let mac = crypto::hmac_sha256(secret, &signed_payload(t, body))?;
    Ok(format!("t={t},v1={}", crypto::to_hex(&mac)))
}

/// Checks `header` against `body` at `now_ms`, with the secret named `secret`.
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_ms: u64,
) -> Result<(), PluginError> {
    let header =
        header.ok_or_else(|| PluginError::unauthorized(format!("missing {HEADER} header")))?;
    let (t, candidates) = parse(header)
        .ok_or_else(|| PluginError::unauthorized(format!("malformed {HEADER} header")))?;
    let expected = crypto::hmac_sha256(secret, &signed_payload(t, body))?;
    // Every candidate is compared in full, so the time taken says nothing about which matched.
    let matched = candidates.iter().fold(false, |found, candidate| {
        crypto::constant_time_eq(candidate, &expected) | found
    });
    if !matched {
        return Err(PluginError::unauthorized("no v1 signature matches"));
    }
    if t.saturating_mul(1000).abs_diff(now_ms) > TOLERANCE_MS {
        return Err(PluginError::unauthorized(
            "signature timestamp outside the tolerance",
        ));
    }
    Ok(())
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
    use ava_sdk::testing::TestHost;

    use super::*;

    const NOW_MS: u64 = 1_767_225_600_000;
    const NOW: u64 = NOW_MS / 1000;

    fn host() -> TestHost {
        TestHost::new()
            .secret("s", "whsec_test")
            .secret("other", "whsec_other")
    }

    #[test]
    fn a_fresh_signature_verifies() {
        let host = host();
        let header = host.run(|| sign("s", NOW, b"{}")).unwrap();
        assert_eq!(
            host.run(|| verify("s", Some(&header), b"{}", NOW_MS)),
            Ok(())
        );
    }

    #[test]
    fn the_header_has_stripes_shape() {
        let header = host().run(|| sign("s", 12, b"x")).unwrap();
        let (t, v1) = header.split_once(",v1=").unwrap();
        assert_eq!(t, "t=12");
        assert_eq!(v1.len(), 64);
    }

    #[test]
    fn a_timestamp_300_s_away_is_still_accepted_and_301_s_is_not() {
        let host = host();
        let ok = host.run(|| sign("s", NOW - 300, b"{}")).unwrap();
        assert_eq!(host.run(|| verify("s", Some(&ok), b"{}", NOW_MS)), Ok(()));
        let old = host.run(|| sign("s", NOW - 301, b"{}")).unwrap();
        assert!(matches!(
            host.run(|| verify("s", Some(&old), b"{}", NOW_MS)),
            Err(PluginError::Unauthorized(_))
        ));
        let future = host.run(|| sign("s", NOW + 301, b"{}")).unwrap();
        assert!(matches!(
            host.run(|| verify("s", Some(&future), b"{}", NOW_MS)),
            Err(PluginError::Unauthorized(_))
        ));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let host = host();
        for header in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1",
            "t=1,v1=zz",
            "t=1,t=2,v1=00",
            "garbage",
        ] {
            let result = host.run(|| verify("s", Some(header), b"{}", NOW_MS));
            assert!(
                matches!(result, Err(PluginError::Unauthorized(_))),
                "{header:?}: {result:?}"
            );
        }
    }

    #[test]
    fn other_schemes_are_ignored() {
        let host = host();
        let header = host.run(|| sign("s", NOW, b"{}")).unwrap();
        let with_v0 = format!("{header},v0=deadbeef");
        assert_eq!(
            host.run(|| verify("s", Some(&with_v0), b"{}", NOW_MS)),
            Ok(())
        );
    }

    #[test]
    fn a_signature_with_another_secret_is_refused() {
        let host = host();
        let header = host.run(|| sign("other", NOW, b"{}")).unwrap();
        assert!(matches!(
            host.run(|| verify("s", Some(&header), b"{}", NOW_MS)),
            Err(PluginError::Unauthorized(_))
        ));
    }
}
