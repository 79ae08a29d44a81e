//! What each of Replicate's refusals of a create becomes.

use ava_sdk::HttpError;

use super::*;

/// Replicate's problem JSON.
fn problem(status: u16, title: &str, detail: &str) -> MockResponse {
    MockResponse::json(
        status,
        &json!({"title": title, "detail": detail, "status": status}),
    )
}

/// The error of a run whose create is answered with `response`; nothing else was sent.
fn refused(response: MockResponse) -> PluginError {
    let host = FakeReplicate::new(response).serve(host());
    let err = generate(&host).unwrap_err();
    assert_eq!(calls(&host), [(HttpMethod::Post, CREATE_URL.to_string())]);
    err
}

#[test]
fn throttling_is_temporary_with_replicates_retry_after() {
    let err = refused(
        problem(
            429,
            "Request was throttled",
            "Request was throttled. Expected available in 5 seconds.",
        )
        .header("Retry-After", "5"),
    );
    assert_eq!(
        err,
        PluginError::unavailable(
            "Request was throttled. Expected available in 5 seconds.",
            Some(5_000)
        )
    );
}

#[test]
fn throttling_without_retry_after_waits_ten_seconds() {
    let err = refused(problem(
        429,
        "Request was throttled",
        "Request was throttled.",
    ));
    assert_eq!(
        err,
        PluginError::unavailable("Request was throttled.", Some(10_000))
    );
}

#[test]
fn server_errors_are_temporary() {
    let err = refused(MockResponse::new(500, "Internal Server Error"));
    assert_eq!(
        err,
        PluginError::unavailable("Replicate answered HTTP 500", Some(10_000))
    );
    let err = refused(
        problem(503, "Service Unavailable", "Down for maintenance").header("Retry-After", "30"),
    );
    assert_eq!(
        err,
        PluginError::unavailable("Down for maintenance", Some(30_000))
    );
}

#[test]
fn a_rejected_token_names_the_secret_to_fix() {
    let err = refused(problem(
        401,
        "Unauthenticated",
        "You did not pass a valid authentication token",
    ));
    assert!(
        matches!(&err, PluginError::Unauthorized(m)
            if m.contains("`api_token`") && m.contains("You did not pass a valid authentication token")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[test]
fn input_the_model_refuses_is_invalid_input_with_replicates_detail() {
    let err = refused(problem(
        422,
        "Input validation failed",
        "- input.aspect_ratio: aspect_ratio must be one of the following: \"1:1\", \"16:9\"",
    ));
    assert_eq!(
        err,
        PluginError::invalid_input(
            "Replicate refused the input: - input.aspect_ratio: aspect_ratio must be one of the following: \"1:1\", \"16:9\""
        )
    );
}

#[test]
fn an_unknown_model_is_a_final_upstream_error() {
    let err = refused(problem(
        404,
        "Not found",
        "The requested resource could not be found.",
    ));
    assert_eq!(
        err,
        PluginError::upstream(
            Some(404),
            None,
            "The requested resource could not be found."
        )
    );
    assert!(!err.is_retryable());
}

#[test]
fn a_body_that_is_not_a_prediction_is_an_upstream_error() {
    for body in [
        "<html>upstream connect error</html>",
        r#"{"status": "starting"}"#,
        r#"{"id": "../../v1/account", "status": "starting"}"#,
    ] {
        let err = refused(MockResponse::new(201, body).header("content-type", "application/json"));
        assert!(
            matches!(&err, PluginError::Upstream(u)
                if u.status == Some(201) && u.message.starts_with("Replicate's prediction could not be read")),
            "{body}: {err:?}"
        );
    }
}

#[test]
fn a_malformed_status_check_cancels_the_prediction() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([MockResponse::new(200, "{\"id\": ")])
        .serve(host());
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.status == Some(200)),
        "{err:?}"
    );
    assert_eq!(
        calls(&host).last(),
        Some(&(HttpMethod::Post, CANCEL_URL.to_string()))
    );
}

#[test]
fn a_broken_connection_is_temporary_and_a_refused_destination_is_a_setup_bug() {
    let broken = host().on_http(|_| MockResponse::fail(HttpError::Connection("reset".into())));
    let err = generate(&broken).unwrap_err();
    assert!(matches!(err, PluginError::Unavailable(_)), "{err:?}");

    let denied =
        host().on_http(|_| MockResponse::fail(HttpError::Denied("api.replicate.com".into())));
    let err = generate(&denied).unwrap_err();
    assert!(matches!(err, PluginError::Internal(_)), "{err:?}");
}
