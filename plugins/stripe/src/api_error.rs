//! What a failed Stripe API call means for the host: the HTTP status and Stripe's error JSON
//! (`{"error": {"type", "code", "decline_code", "message", "param"}}`) turned into the right
//! `PluginError`, with Stripe's own message, so the user and the operator see why.

use ava_sdk::PluginError;
use ava_sdk::http::{Response, status_error};
use ava_sdk::text::truncate;
use serde::Deserialize;

/// Upstream messages can reach users: very long ones are cut.
const MAX_MESSAGE: usize = 500;

/// The `error` object of Stripe's error responses. Every field is optional: a proxy or an
/// outage may answer with anything.
#[derive(Debug, Default, Deserialize)]
struct StripeError {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: StripeError,
}

/// The error a non-2xx response from Stripe means.
pub fn from_response(response: &Response) -> PluginError {
    let status = response.status;
    let detail = serde_json::from_slice::<Envelope>(&response.body)
        .map(|e| e.error)
        .unwrap_or_default();
    let message = detail
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| truncate(m, MAX_MESSAGE).to_string())
        .unwrap_or_else(|| format!("Stripe answered HTTP {status}"));
    match status {
        // Stripe's outages and lock timeouts are worth retrying, not just its 503s.
        500.. => PluginError::unavailable(message, response.retry_after_ms()),
        // 401 (a wrong or revoked key), 403 (a restricted key), 429 (rate limits: Stripe
        // often sends no Retry-After) and the rest. The decline code (`insufficient_funds`,
        // …) is for the merchant's dashboard; the code (`card_declined`) and Stripe's
        // message say what the user needs to know.
        _ => status_error(
            status,
            &response.headers,
            detail.code.or(detail.kind),
            message,
        ),
    }
}

/// Whether `error` is Stripe's "no such object" (a 404 `resource_missing`).
pub fn is_missing(error: &PluginError) -> bool {
    matches!(error, PluginError::Upstream(u)
        if u.status == Some(404) && u.code.as_deref() == Some("resource_missing"))
}

/// A 2xx answer whose body is not the object Stripe promises.
pub fn malformed(detail: impl std::fmt::Display) -> PluginError {
    PluginError::upstream(
        None,
        None,
        format!("Stripe's response could not be read: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_without_code_uses_its_type() {
        let err = from_response(&Response::new(
            400,
            &[],
            r#"{"error":{"type":"invalid_request_error","message":"Missing required param: customer."}}"#,
        ));
        assert_eq!(
            err,
            PluginError::upstream(
                Some(400),
                Some("invalid_request_error".into()),
                "Missing required param: customer."
            )
        );
    }

    #[test]
    fn a_body_that_is_not_stripes_json_still_names_the_status() {
        let err = from_response(&Response::new(502, &[], "<html>Bad Gateway</html>"));
        assert_eq!(
            err,
            PluginError::unavailable("Stripe answered HTTP 502", None)
        );
    }

    #[test]
    fn a_forbidden_restricted_key_is_unauthorized() {
        let err = from_response(&Response::new(
            403,
            &[],
            r#"{"error":{"type":"invalid_request_error","message":"The provided key 'rk_test_***' does not have the required permissions for this endpoint."}}"#,
        ));
        assert!(matches!(err, PluginError::Unauthorized(m) if m.contains("rk_test_")));
    }

    #[test]
    fn only_a_404_resource_missing_is_missing() {
        let missing = PluginError::upstream(Some(404), Some("resource_missing".into()), "x");
        assert!(is_missing(&missing));
        assert!(!is_missing(&PluginError::upstream(Some(404), None, "x")));
        assert!(!is_missing(&PluginError::upstream(
            Some(400),
            Some("resource_missing".into()),
            "x"
        )));
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let long = "é".repeat(400);
        assert_eq!(truncate(&long, 501).len(), 500);
    }
}
