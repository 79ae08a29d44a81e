//! What `ava serve` answers besides the API: the SPA (client routes fall back to
//! `index.html`, assets cached for good, compressed), JSON for unknown paths and methods,
//! and the OpenAPI document the SPA's types are generated from.

mod common;

use common::app::{Backend, TestApp};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use serde_json::Value;

const INDEX: &str = "<!doctype html><title>Ava</title><div id=root></div>";

/// A built SPA in the server's web folder: an index and one hashed asset, big enough to be
/// worth compressing.
fn write_spa(t: &TestApp) -> String {
    let web = t.data_dir().join("web");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(web.join("index.html"), INDEX).unwrap();
    let script = "console.log('ava');\n".repeat(500);
    std::fs::write(web.join("assets/index-abc123.js"), &script).unwrap();
    std::fs::write(web.join("favicon.svg"), "<svg/>").unwrap();
    script
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/json",
        "{}",
        response.url()
    );
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_routes_answer_the_index_and_nothing_else_does() {
    let t = TestApp::start(Backend::Sqlite).await;
    write_spa(&t);
    for path in [
        "/",
        "/login",
        "/signup",
        "/chat",
        "/chat?checkout=success&session_id=cs_1",
        "/subscribe?cancelled=1",
        "/gallery",
        "/personas",
        "/personas/abc",
        "/settings",
        "/admin",
    ] {
        let response = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{path}");
        assert!(
            response.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(response.text().await.unwrap(), INDEX, "{path}");
    }
    // Not client routes: the API's JSON 404, never the index.
    for path in [
        "/nope",
        "/personas/a/b",
        "/messages/x/y",
        "/assets/missing.js",
        "/api/chat",
    ] {
        let response = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json_of(response).await["detail"], "Not found", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_cached_for_good_and_compressed() {
    let t = TestApp::start(Backend::Sqlite).await;
    let script = write_spa(&t);
    let plain = t
        .client
        .get(t.url("/assets/index-abc123.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        plain.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), script);

    let gzip = t
        .client
        .get(t.url("/assets/index-abc123.js"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
    let body = gzip.bytes().await.unwrap();
    assert!(body.len() < script.len() / 4, "{} bytes", body.len());

    let br = t
        .client
        .get(t.url("/assets/index-abc123.js"))
        .header("Accept-Encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");

    // Files outside assets/ have no hash in their name: cached for an hour only.
    let icon = t.client.get(t.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()[CACHE_CONTROL], "public, max-age=3600");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_build_and_a_wrong_method_answer_json() {
    let t = TestApp::start(Backend::Sqlite).await;
    let response = t.client.get(t.url("/chat")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = json_of(response).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not built"),
        "{body}"
    );

    write_spa(&t);
    let response = t.client.delete(t.url("/chat")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_of(response).await["detail"], "Method not allowed");
    // The API's own routes keep their methods: POST /chat is the chat, not the SPA.
    let response = t.client.post(t.url("/chat")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// The document the SPA's types were generated from is the one the host serves: a route
/// or schema change without `npm run gen:api` fails here (and in the frontend's check:api).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_is_the_committed_one() {
    let t = TestApp::start(Backend::Sqlite).await;
    let response = t.client.get(t.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served: Value = response.json().await.unwrap();
    let committed: Value =
        serde_json::from_str(include_str!("../../frontend/openapi.json")).unwrap();
    assert!(
        served == committed,
        "frontend/openapi.json is stale: run `npm run gen:api` in frontend/"
    );

    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut ids = std::collections::BTreeSet::new();
    for (path, operations) in served["paths"].as_object().unwrap() {
        for (method, op) in operations.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "{id} twice");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            // A route behind the bearer token says it answers 401, with the error body.
            if op["security"].to_string().contains("bearer") {
                let unauthorized = &responses["401"];
                assert_eq!(
                    unauthorized["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path}"
                );
            }
        }
    }
    // Every route the SPA calls is in the document.
    for path in [
        "/auth/register",
        "/auth/login",
        "/chat/stream",
        "/messages",
        "/photos/events",
        "/photos/{id}/image",
        "/avatars/import",
        "/billing/checkout",
        "/billing/status",
        "/preferences",
        "/admin/plugins",
        "/admin/jobs/dead",
        "/admin/jobs/{id}/retry",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} is missing");
    }
}
