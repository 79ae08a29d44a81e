//! What a failed Images API call means for the host: the HTTP status and OpenAI's error body
//! (`{"error": {"message", "type", "code", "param"}}`) turned into the right `PluginError`,
//! with OpenAI's own words, so the user and the operator see why.

use ava_sdk::PluginError;
use ava_sdk::http::Response;
use ava_sdk::text::truncate;
use serde_json::Value;

use crate::settings::API_KEY;

/// Upstream messages can reach users: very long ones are cut.
const MAX_MESSAGE: usize = 500;

/// How long to wait when the API is rate limiting or down and says nothing about when to
/// come back. Image rate limits are counted per minute: a third of a window.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 20_000;

/// OpenAI's codes for a prompt or image its safety system refused.
const MODERATION_CODES: [&str; 2] = ["moderation_blocked", "content_policy_violation"];
/// The error type gpt-image models give a refused prompt.
const MODERATION_TYPE: &str = "image_generation_user_error";
/// OpenAI's codes for an account out of money: 429 `insufficient_quota`, 400
/// `billing_hard_limit_reached`.
const OUT_OF_CREDIT_CODES: [&str; 2] = ["insufficient_quota", "billing_hard_limit_reached"];

/// The parts of OpenAI's error object worth keeping. Every field is optional: a proxy, an
/// outage or another server may answer with anything; `code` may be a number.
#[derive(Debug, Default, PartialEq)]
struct ApiError {
    message: Option<String>,
    kind: Option<String>,
    code: Option<String>,
}

impl ApiError {
    fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        let error = match value.get("error") {
            // Some servers answer `{"error": "text"}`.
            Some(Value::String(text)) => {
                return Self {
                    message: clean(text),
                    ..Self::default()
                };
            }
            Some(error @ Value::Object(_)) => error,
            _ => &value,
        };
        let text = |key: &str| match error.get(key) {
            Some(Value::String(s)) => clean(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Self {
            message: text("message"),
            kind: text("type"),
            code: text("code"),
        }
    }

    fn is_moderation(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| MODERATION_CODES.contains(&c))
            || self.kind.as_deref() == Some(MODERATION_TYPE)
    }

    fn is_out_of_credit(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| OUT_OF_CREDIT_CODES.contains(&c))
    }
}

fn clean(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| truncate(text, MAX_MESSAGE).to_string())
}

/// The error a non-2xx response from the API means.
/// Whether `body` is the API's own error object, not a bare 404 page of a server that lacks
/// the endpoint.
pub fn is_api_error(body: &[u8]) -> bool {
    ApiError::parse(body).message.is_some()
}

pub fn from_response(response: &Response, has_api_key: bool) -> PluginError {
    let status = response.status;
    let error = ApiError::parse(&response.body);
    let message = error
        .message
        .clone()
        .unwrap_or_else(|| format!("the Images API answered HTTP {status}"));
    // An empty account is not the prompt's fault, and waiting minutes does not refill it:
    // someone has to add credit. Final (not retried every few seconds until the job gives
    // up), with OpenAI's code, so it stands out among the dead jobs; `ava jobs retry` once
    // the credit is there.
    if error.is_out_of_credit() {
        return PluginError::upstream(
            Some(status),
            error.code,
            format!("the OpenAI account is out of credit: {message}"),
        );
    }
    match status {
        400 if error.is_moderation() => {
            PluginError::invalid_input(format!("OpenAI refused the prompt: {message}"))
        }
        // 422: servers built on FastAPI answer their validation errors so.
        400 | 422 => PluginError::invalid_input(format!("OpenAI refused the request: {message}")),
        401 | 403 if !has_api_key => PluginError::unauthorized(format!(
            "the Images API requires a key (HTTP {status}): configure the `{API_KEY}` secret: {message}"
        )),
        401 | 403 => PluginError::unauthorized(format!(
            "the Images API rejected the key (HTTP {status}; check the `{API_KEY}` secret): {message}"
        )),
        429 | 500.. => PluginError::unavailable(
            message,
            Some(response.retry_after_ms().unwrap_or(DEFAULT_RETRY_AFTER_MS)),
        ),
        // 404 (no such model), 413 and the rest: final, with OpenAI's code.
        _ => PluginError::upstream(Some(status), error.code, message),
    }
}

/// A 2xx answer that is not the image the API promises.
pub fn malformed(status: Option<u16>, detail: impl std::fmt::Display) -> PluginError {
    PluginError::upstream(
        status,
        None,
        format!("the Images API's answer could not be read: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_error_and_a_numeric_code_are_understood() {
        assert_eq!(
            ApiError::parse(br#"{"error": "model not found"}"#),
            ApiError {
                message: Some("model not found".into()),
                ..ApiError::default()
            }
        );
        assert_eq!(
            ApiError::parse(br#"{"message": "bad size", "type": "BadRequestError", "code": 400}"#),
            ApiError {
                message: Some("bad size".into()),
                kind: Some("BadRequestError".into()),
                code: Some("400".into()),
            }
        );
    }

    #[test]
    fn a_body_that_is_not_json_still_names_the_status() {
        let err = from_response(&Response::new(502, &[], "<html>Bad Gateway</html>"), true);
        assert_eq!(
            err,
            PluginError::unavailable(
                "the Images API answered HTTP 502",
                Some(DEFAULT_RETRY_AFTER_MS)
            )
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(2_000);
        let body = serde_json::json!({"error": {"message": long}}).to_string();
        let err = from_response(&Response::new(500, &[], &body), true);
        assert!(
            matches!(&err, PluginError::Unavailable(u) if u.message.len() == MAX_MESSAGE),
            "{err:?}"
        );
    }
}
