//! {{name}} through the SDK's stand-in host: what it asks the upstream, and what it makes of
//! the answer.

use ava_sdk::images::{ImageData, ImageProvider, ImageRequest};
use ava_sdk::testing::{MockResponse, TestHost};
use {{crate}}::{{type}};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn request() -> ImageRequest {
    ImageRequest {
        prompt: "a lighthouse at dusk".into(),
        negative_prompt: None,
        seed: Some(7),
        width: 768,
        height: 1024,
    }
}

fn host(answer: MockResponse) -> TestHost {
    TestHost::new()
        .config("base_url", "https://images.example.test/")
        .on_http(move |_| answer.clone())
}

#[test]
fn the_picture_is_fetched_by_seed_and_size() {
    let host = host(MockResponse::new(200, PNG));
    let output = host.run(|| {{type}}::generate(request())).unwrap();
    let ImageData::Bytes(image) = output.image else {
        panic!("expected bytes");
    };
    assert_eq!(image.content_type, "image/png");
    assert_eq!(image.data, PNG);
    assert_eq!(output.seed, Some(7));
    let sent = &host.requests()[0];
    assert_eq!(sent.url, "https://images.example.test/seed/7/768/1024");
    assert_eq!(sent.header("authorization"), None);
}

#[test]
fn the_token_is_sent_when_configured() {
    let host = host(MockResponse::new(200, PNG)).secret("api_token", "tok_123");
    host.run(|| {{type}}::generate(request())).unwrap();
    assert_eq!(
        host.requests()[0].header("authorization"),
        Some("Bearer tok_123")
    );
}

#[test]
fn an_error_status_or_a_non_image_is_an_error() {
    let missing = host(MockResponse::new(404, "not found"));
    assert!(missing.run(|| {{type}}::generate(request())).is_err());
    let html = host(MockResponse::new(200, "<html>"));
    assert!(html.run(|| {{type}}::generate(request())).is_err());
}
