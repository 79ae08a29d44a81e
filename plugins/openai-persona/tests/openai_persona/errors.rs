//! What each API failure becomes.

use ava_sdk::chat::{ChatMode, ChatPersona};
use ava_sdk::testing::MockResponse;
use ava_sdk::{HttpError, PluginError};
use openai_persona::OpenAiPersona;
use serde_json::json;

use super::*;

/// The error a reply gets from `response`, with a key configured.
fn reply_error(response: MockResponse) -> PluginError {
    reply_error_from(host().secret("api_key", "sk-test-123"), response)
}

fn reply_error_from(host: TestHost, response: MockResponse) -> PluginError {
    host.on_http(move |_| response.clone())
        .run(|| OpenAiPersona::reply(request(ChatMode::Secretary, "hello")))
        .unwrap_err()
}

fn openai_error(status: u16, code: &str, message: &str) -> MockResponse {
    MockResponse::json(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}}),
    )
}

#[test]
fn a_rate_limit_with_retry_after_is_unavailable_for_that_long() {
    let err = reply_error(MockResponse::new(429, "").header("Retry-After", "7"));
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.retry_after_ms == Some(7_000)),
        "{err:?}"
    );
}

#[test]
fn a_rate_limit_with_openai_reset_headers_is_unavailable_until_the_reset() {
    let err = reply_error(
        openai_error(429, "rate_limit_exceeded", "Rate limit reached")
            .header("x-ratelimit-reset-requests", "1m30s"),
    );
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.retry_after_ms == Some(90_000)),
        "{err:?}"
    );
}

#[test]
fn a_rejected_key_is_unauthorized() {
    let err = reply_error(openai_error(
        401,
        "invalid_api_key",
        "Incorrect API key provided",
    ));
    assert!(
        matches!(&err, PluginError::Unauthorized(m) if m.contains("rejected the key")),
        "{err:?}"
    );
}

#[test]
fn a_forbidden_answer_is_unauthorized() {
    let err = reply_error(MockResponse::new(403, "forbidden"));
    assert!(matches!(err, PluginError::Unauthorized(_)), "{err:?}");
}

#[test]
fn a_server_error_is_upstream_with_its_status() {
    let err = reply_error(MockResponse::new(500, "oops"));
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.status == Some(500)),
        "{err:?}"
    );
}

#[test]
fn a_too_long_conversation_is_invalid_input() {
    let err = reply_error(openai_error(
        400,
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens.",
    ));
    assert_eq!(
        err,
        PluginError::invalid_input("the conversation is too long for this model")
    );
}

#[test]
fn another_client_error_carries_the_status_code_and_message() {
    let err = reply_error(openai_error(
        404,
        "model_not_found",
        "The model `gpt-test` does not exist",
    ));
    assert_eq!(
        err,
        PluginError::upstream(
            Some(404),
            Some("model_not_found".into()),
            "The model `gpt-test` does not exist"
        )
    );
}

#[test]
fn a_timeout_is_unavailable() {
    let err = reply_error(MockResponse::fail(HttpError::Timeout));
    assert!(matches!(err, PluginError::Unavailable(_)), "{err:?}");
}

#[test]
fn an_html_body_with_200_is_a_malformed_upstream_response() {
    let err = reply_error(MockResponse::new(
        200,
        "<html><body>Welcome to nginx</body></html>",
    ));
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.starts_with("malformed response:")),
        "{err:?}"
    );
}

#[test]
fn a_truncated_body_with_200_is_a_malformed_upstream_response() {
    let err = reply_error(MockResponse::new(200, r#"{"choices": [{"message": {"con"#));
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.starts_with("malformed response:")),
        "{err:?}"
    );
}

#[test]
fn a_200_without_choices_is_a_malformed_upstream_response() {
    let err = reply_error(MockResponse::json(
        200,
        &json!({"model": "m", "choices": []}),
    ));
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message == "malformed response: no choices"),
        "{err:?}"
    );
}

#[test]
fn a_rejection_without_a_configured_key_says_to_configure_one() {
    let err = reply_error_from(host(), MockResponse::new(401, ""));
    assert!(
        matches!(&err, PluginError::Unauthorized(m) if m.contains("`api_key`")),
        "{err:?}"
    );
}
