//! `check`: the token and the model verified with one free request, before any photo.

use super::*;

fn checked(host: TestHost, answer: MockResponse) -> (Result<(), PluginError>, TestHost) {
    let host = host.on_http(move |_| answer.clone());
    let result = host.run(Replicate::check);
    (result, host)
}

#[test]
fn the_configured_model_is_looked_up_with_the_token() {
    let model =
        json!({"owner": "black-forest-labs", "name": "flux-schnell", "visibility": "public"});
    let (result, host) = checked(host(), MockResponse::json(200, &model));
    assert_eq!(result, Ok(()));
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, HttpMethod::Get);
    assert_eq!(
        requests[0].url,
        "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell"
    );
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn a_version_is_looked_up_under_its_model_and_a_bare_one_checks_the_token() {
    let host_with = |version: &str| {
        TestHost::new()
            .config("version", version)
            .secret("api_token", TOKEN)
    };
    let (result, host) = checked(
        host_with(
            "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
        ),
        MockResponse::json(200, &json!({"id": "7762fd07"})),
    );
    assert_eq!(result, Ok(()));
    assert_eq!(
        host.requests()[0].url,
        "https://api.replicate.com/v1/models/stability-ai/sdxl/versions/7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
    );
    let (_, host) = checked(
        host_with("7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"),
        MockResponse::json(200, &json!({"username": "ava", "type": "organization"})),
    );
    assert_eq!(
        host.requests()[0].url,
        "https://api.replicate.com/v1/account"
    );
}

#[test]
fn a_rejected_token_or_a_missing_model_fails_the_check() {
    let (result, _) = checked(
        host(),
        MockResponse::json(
            401,
            &json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}),
        ),
    );
    let err = result.unwrap_err();
    assert!(
        matches!(&err, PluginError::Unauthorized(m) if m.contains("api_token")),
        "{err:?}"
    );

    let (result, _) = checked(
        host(),
        MockResponse::json(
            404,
            &json!({"title": "Not found", "detail": "The requested resource could not be found.", "status": 404}),
        ),
    );
    assert!(result.is_err(), "{result:?}");
}
