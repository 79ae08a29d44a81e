//! What a failed Replicate API call means for the host: the HTTP status and Replicate's
//! problem JSON (`{"title", "detail", "status"}`) turned into the right `PluginError`, with
//! Replicate's own words, so the user and the operator see why.

use ava_sdk::http::{Response, status_error};
use ava_sdk::text::truncate;
use ava_sdk::{PluginError, Unavailable};
use serde::Deserialize;

use crate::settings::API_TOKEN;

/// Upstream messages can reach users: very long ones are cut.
const MAX_MESSAGE: usize = 500;

/// How long to wait when Replicate is rate limiting or down and says nothing about when to
/// come back: long enough for a throttle window to pass, short enough for a chat photo.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 10_000;

/// Replicate's error body. Every field is optional: a proxy or an outage may answer with
/// anything.
#[derive(Debug, Default, Deserialize)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
}

/// The error a non-2xx response from Replicate means.
pub fn from_response(response: &Response) -> PluginError {
    let status = response.status;
    let problem = serde_json::from_slice::<Problem>(&response.body).unwrap_or_default();
    let message = [problem.detail, problem.title]
        .into_iter()
        .flatten()
        .map(|m| m.trim().to_string())
        .find(|m| !m.is_empty())
        .map(|m| truncate(&m, MAX_MESSAGE).to_string())
        .unwrap_or_else(|| format!("Replicate answered HTTP {status}"));
    match status {
        // Replicate checks the input against the model's schema: the request is at fault.
        422 => PluginError::invalid_input(format!("Replicate refused the input: {message}")),
        // Replicate's outages are worth retrying, not just its 503s.
        500.. => PluginError::unavailable(
            message,
            Some(response.retry_after_ms().unwrap_or(DEFAULT_RETRY_AFTER_MS)),
        ),
        // 401/403 (a wrong or revoked token), 429 (throttled), 402 (out of credit), 404
        // (no such model or version) and the rest.
        _ => match status_error(status, &response.headers, None, message) {
            PluginError::Unauthorized(message) => PluginError::unauthorized(format!(
                "Replicate rejected the API token (HTTP {status}; check the `{API_TOKEN}` secret): {message}"
            )),
            PluginError::Unavailable(Unavailable {
                message,
                retry_after_ms,
            }) => PluginError::unavailable(
                message,
                Some(retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS)),
            ),
            other => other,
        },
    }
}

/// A 2xx answer whose body is not the prediction Replicate promises.
pub fn malformed(status: u16, detail: impl std::fmt::Display) -> PluginError {
    PluginError::upstream(
        Some(status),
        None,
        format!("Replicate's prediction could not be read: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_is_preferred_over_the_title() {
        let err = from_response(&Response::new(
            404,
            &[],
            r#"{"title":"Not found","detail":"The requested resource could not be found.","status":404}"#,
        ));
        assert_eq!(
            err,
            PluginError::upstream(
                Some(404),
                None,
                "The requested resource could not be found."
            )
        );
    }

    #[test]
    fn a_body_that_is_not_replicates_json_still_names_the_status() {
        let err = from_response(&Response::new(502, &[], "<html>Bad Gateway</html>"));
        assert_eq!(
            err,
            PluginError::unavailable("Replicate answered HTTP 502", Some(DEFAULT_RETRY_AFTER_MS))
        );
    }

    #[test]
    fn out_of_credit_is_final() {
        let err = from_response(&Response::new(
            402,
            &[],
            r#"{"title":"Insufficient credit","detail":"You have insufficient credit to run this model.","status":402}"#,
        ));
        assert!(!err.is_retryable(), "{err:?}");
        assert!(matches!(err, PluginError::Upstream(u) if u.status == Some(402)));
    }
}
