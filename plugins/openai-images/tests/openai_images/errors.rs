//! What each of the Images API's refusals, and each broken connection, becomes.

use ava_sdk::HttpError;

use super::*;

/// The error of a run whose generation is answered with `response`; nothing else was sent.
fn refused(response: MockResponse) -> PluginError {
    refused_on(host(), response)
}

fn refused_on(host: TestHost, response: MockResponse) -> PluginError {
    let host = serve(host, response, Vec::new());
    let err = generate(&host).unwrap_err();
    assert_eq!(host.requests().len(), 1, "only the generation");
    err
}

const SAFETY: &str = "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_123.";

#[test]
fn a_gpt_image_moderation_refusal_is_invalid_input_with_openais_message() {
    let err = refused(api_error(
        400,
        SAFETY,
        "image_generation_user_error",
        Some("moderation_blocked"),
    ));
    assert_eq!(
        err,
        PluginError::invalid_input(format!("OpenAI refused the prompt: {SAFETY}"))
    );
    assert!(!err.is_retryable());
}

#[test]
fn a_dall_e_content_policy_refusal_is_invalid_input_with_openais_message() {
    let message = "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.";
    let err = refused(api_error(
        400,
        message,
        "invalid_request_error",
        Some("content_policy_violation"),
    ));
    assert_eq!(
        err,
        PluginError::invalid_input(format!("OpenAI refused the prompt: {message}"))
    );
}

#[test]
fn a_refusal_known_by_its_type_alone_is_a_moderation_refusal() {
    let err = refused(api_error(400, SAFETY, "image_generation_user_error", None));
    assert_eq!(
        err,
        PluginError::invalid_input(format!("OpenAI refused the prompt: {SAFETY}"))
    );
}

#[test]
fn another_bad_request_is_invalid_input() {
    let message = "Invalid value: '1024x1792'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.";
    let err = refused(api_error(
        400,
        message,
        "invalid_request_error",
        Some("invalid_value"),
    ));
    assert_eq!(
        err,
        PluginError::invalid_input(format!("OpenAI refused the request: {message}"))
    );
}

#[test]
fn very_long_messages_are_cut() {
    let long = format!("{SAFETY} {}", "x".repeat(2_000));
    let err = refused(api_error(
        400,
        &long,
        "image_generation_user_error",
        Some("moderation_blocked"),
    ));
    let PluginError::InvalidInput(message) = err else {
        panic!("expected invalid input, got {err:?}");
    };
    assert!(message.len() < 600, "{} bytes", message.len());
    assert!(message.contains("rejected by the safety system"));
}

#[test]
fn a_rejected_key_names_the_secret_to_fix() {
    let message = "Incorrect API key provided: sk-proj-********0000. You can find your API key at https://platform.openai.com/account/api-keys.";
    for status in [401, 403] {
        let err = refused(api_error(
            status,
            message,
            "invalid_request_error",
            Some("invalid_api_key"),
        ));
        assert!(
            matches!(&err, PluginError::Unauthorized(m)
                if m.contains("`api_key`") && m.contains(&format!("HTTP {status}")) && m.contains("Incorrect API key")),
            "{err:?}"
        );
        assert!(!err.is_retryable());
    }
}

#[test]
fn without_a_key_a_rejection_says_to_configure_one() {
    let err = refused_on(
        TestHost::new(),
        api_error(
            401,
            "You didn't provide an API key.",
            "invalid_request_error",
            None,
        ),
    );
    assert!(
        matches!(&err, PluginError::Unauthorized(m)
            if m.contains("requires a key") && m.contains("configure the `api_key` secret")),
        "{err:?}"
    );
}

#[test]
fn rate_limiting_is_temporary_with_the_apis_retry_after() {
    let message = "Rate limit reached for gpt-image-1 in organization org-abc on images per minute (IPM): Limit 5, Used 5, Requested 1.";
    let err = refused(
        api_error(429, message, "requests", Some("rate_limit_exceeded"))
            .header("Retry-After", "12"),
    );
    assert_eq!(err, PluginError::unavailable(message, Some(12_000)));

    let err = refused(
        api_error(429, message, "requests", Some("rate_limit_exceeded"))
            .header("retry-after-ms", "1500")
            .header("Retry-After", "2"),
    );
    assert_eq!(err, PluginError::unavailable(message, Some(1_500)));
}

#[test]
fn rate_limiting_without_retry_after_waits_twenty_seconds() {
    let err = refused(api_error(
        429,
        "Too many requests",
        "requests",
        Some("rate_limit_exceeded"),
    ));
    assert_eq!(
        err,
        PluginError::unavailable("Too many requests", Some(20_000))
    );
}

#[test]
fn an_exhausted_quota_is_final_not_a_rate_limit() {
    let message = "You exceeded your current quota, please check your plan and billing details.";
    let err = refused(
        api_error(
            429,
            message,
            "insufficient_quota",
            Some("insufficient_quota"),
        )
        .header("Retry-After", "1"),
    );
    assert_eq!(
        err,
        PluginError::upstream(
            Some(429),
            Some("insufficient_quota".into()),
            format!("the OpenAI account is out of credit: {message}")
        )
    );
    assert!(!err.is_retryable());

    let err = refused(api_error(
        400,
        "Billing hard limit has been reached",
        "billing_limit_user_error",
        Some("billing_hard_limit_reached"),
    ));
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.code.as_deref() == Some("billing_hard_limit_reached")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[test]
fn server_errors_are_temporary() {
    let err = refused(MockResponse::new(500, "Internal Server Error"));
    assert_eq!(
        err,
        PluginError::unavailable("the Images API answered HTTP 500", Some(20_000))
    );
    let err = refused(
        api_error(
            503,
            "The engine is currently overloaded, please try again later.",
            "server_error",
            None,
        )
        .header("Retry-After", "30"),
    );
    assert_eq!(
        err,
        PluginError::unavailable(
            "The engine is currently overloaded, please try again later.",
            Some(30_000)
        )
    );
}

#[test]
fn an_unknown_model_is_a_final_upstream_error() {
    let message = "The model `gpt-image-9` does not exist or you do not have access to it.";
    let err = refused_on(
        host().config("model", "gpt-image-9"),
        api_error(
            404,
            message,
            "invalid_request_error",
            Some("model_not_found"),
        ),
    );
    assert_eq!(
        err,
        PluginError::upstream(Some(404), Some("model_not_found".into()), message)
    );
    assert!(!err.is_retryable());
}

#[test]
fn a_broken_connection_is_temporary_and_a_refused_destination_is_a_setup_bug() {
    for broken in [HttpError::Timeout, HttpError::Connection("reset".into())] {
        let err = refused(MockResponse::fail(broken));
        assert!(matches!(err, PluginError::Unavailable(_)), "{err:?}");
    }
    let err = refused(MockResponse::fail(HttpError::Denied(
        "api.openai.com".into(),
    )));
    assert!(matches!(err, PluginError::Internal(_)), "{err:?}");
}
