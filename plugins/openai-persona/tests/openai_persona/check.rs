//! `check`: the key and the model verified with one free request, before any user writes.

use ava_sdk::chat::ChatPersona;
use ava_sdk::{HttpMethod, PluginError};
use openai_persona::OpenAiPersona;

use super::*;

fn checked(host: TestHost, answer: MockResponse) -> (Result<(), PluginError>, TestHost) {
    let host = host.on_http(move |_| answer.clone());
    let result = host.run(OpenAiPersona::check);
    (result, host)
}

#[test]
fn the_configured_model_is_looked_up_with_the_key() {
    let model = json!({"id": "gpt-test", "object": "model", "owned_by": "system"});
    let (result, host) = checked(
        host().secret("api_key", "sk-test"),
        MockResponse::json(200, &model),
    );
    assert_eq!(result, Ok(()));
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, HttpMethod::Get);
    assert_eq!(
        requests[0].url,
        "https://api.example.test/v1/models/gpt-test"
    );
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-test"));
}

#[test]
fn a_rejected_key_or_an_unknown_model_fails_the_check() {
    let rejected = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}});
    let (result, _) = checked(
        host().secret("api_key", "sk-wrong"),
        MockResponse::json(401, &rejected),
    );
    assert!(
        matches!(result, Err(PluginError::Unauthorized(_))),
        "{result:?}"
    );

    let missing = json!({"error": {"message": "The model `gpt-test` does not exist", "type": "invalid_request_error", "code": "model_not_found"}});
    let (result, _) = checked(host(), MockResponse::json(404, &missing));
    let err = result.unwrap_err();
    assert!(format!("{err:?}").contains("gpt-test"), "{err:?}");
}

#[test]
fn a_server_that_does_not_describe_models_is_not_failed() {
    let (result, _) = checked(host(), MockResponse::new(404, "404 page not found"));
    assert_eq!(result, Ok(()));
}
