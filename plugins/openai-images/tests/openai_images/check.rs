//! `check`: the key and the model verified with one free request, before any user draws.

use super::*;

fn checked(host: TestHost, answer: MockResponse) -> (Result<(), PluginError>, TestHost) {
    let host = host.on_http(move |_| answer.clone());
    let result = host.run(OpenAiImages::check);
    (result, host)
}

#[test]
fn a_known_model_and_an_accepted_key_pass_with_one_get() {
    let model = json!({"id": "gpt-image-1", "object": "model", "owned_by": "system"});
    let (result, host) = checked(host(), MockResponse::json(200, &model));
    assert_eq!(result, Ok(()));
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, HttpMethod::Get);
    assert_eq!(
        requests[0].url,
        "https://api.openai.com/v1/models/gpt-image-1"
    );
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn a_rejected_key_fails_the_check_naming_the_secret() {
    let (result, _) = checked(
        host(),
        api_error(
            401,
            "Incorrect API key provided",
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
    );
    let err = result.unwrap_err();
    assert!(
        matches!(&err, PluginError::Unauthorized(m) if m.contains("api_key")),
        "{err:?}"
    );
}

#[test]
fn a_model_the_key_cannot_use_fails_the_check() {
    let (result, _) = checked(
        host().config("model", "dall-e-4"),
        api_error(
            404,
            "The model `dall-e-4` does not exist or you do not have access to it.",
            "invalid_request_error",
            Some("model_not_found"),
        ),
    );
    let err = result.unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("dall-e-4")),
        "{err:?}"
    );
}

#[test]
fn a_server_without_model_descriptions_is_not_failed() {
    let host = host().config("base_url", "http://127.0.0.1:8081");
    let (result, host) = checked(host, MockResponse::new(404, "Not Found"));
    assert_eq!(result, Ok(()));
    assert_eq!(
        host.requests()[0].url,
        "http://127.0.0.1:8081/v1/models/gpt-image-1"
    );
}
