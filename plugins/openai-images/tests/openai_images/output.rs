//! The image in the answer: decoded or downloaded, and what it turns out to be.

use ava_sdk::HttpError;

use super::*;

#[test]
fn a_base64_image_is_decoded_and_reported_with_the_model() {
    let host = drawing(host());
    let output = generate(&host).unwrap();
    assert_eq!(bytes(&output), ("image/png", PNG));
    assert_eq!(output.model.as_deref(), Some("gpt-image-1"));
    assert_eq!(output.seed, None, "the Images API takes no seed");
    assert_eq!(host.requests().len(), 1, "only the generation");
}

#[test]
fn the_content_type_comes_from_the_bytes() {
    let jpeg = serve(
        host().config("output_format", "jpeg"),
        b64_answer(JPEG, "jpeg"),
        Vec::new(),
    );
    assert_eq!(bytes(&generate(&jpeg).unwrap()), ("image/jpeg", JPEG));
    // The bytes win over what the answer says.
    let mislabelled = serve(host(), b64_answer(WEBP, "png"), Vec::new());
    assert_eq!(
        bytes(&generate(&mislabelled).unwrap()),
        ("image/webp", WEBP)
    );
}

#[test]
fn an_answer_that_is_not_an_image_is_refused_naming_the_declared_format() {
    let host = serve(host(), b64_answer(b"GIF89a....", "png"), Vec::new());
    assert_eq!(
        generate(&host).unwrap_err(),
        PluginError::upstream(
            None,
            None,
            "the model's image is not a PNG, JPEG or WebP image (declared image/png)"
        )
    );
}

#[test]
fn a_url_is_downloaded_without_the_key_from_another_origin() {
    let host = serve(
        host().config("model", "dall-e-3"),
        url_answer(BLOB_URL),
        vec![(
            BLOB_URL,
            MockResponse::new(200, PNG).header("content-type", "image/png"),
        )],
    );
    assert_eq!(bytes(&generate(&host).unwrap()), ("image/png", PNG));
    let download = host.requests().pop().unwrap();
    assert_eq!(
        (download.method, download.url.as_str()),
        (HttpMethod::Get, BLOB_URL)
    );
    assert_eq!(download.header("authorization"), None);
}

#[test]
fn a_url_on_the_apis_own_origin_gets_the_key_and_relative_urls_resolve_there() {
    let base = "http://127.0.0.1:8080";
    for link in [
        "http://127.0.0.1:8080/generated-images/img-1.png",
        "/generated-images/img-1.png",
    ] {
        let host = serve(
            host().config("base_url", base).config("model", "sdxl"),
            url_answer(link),
            vec![(
                "http://127.0.0.1:8080/generated-images/img-1.png",
                MockResponse::new(200, PNG),
            )],
        );
        assert_eq!(
            bytes(&generate(&host).unwrap()),
            ("image/png", PNG),
            "{link}"
        );
        let download = host.requests().pop().unwrap();
        assert_eq!(
            download.header("authorization"),
            Some(format!("Bearer {KEY}").as_str()),
            "{link}"
        );
    }
}

#[test]
fn the_same_host_on_another_port_or_scheme_is_another_origin() {
    for link in [
        "http://127.0.0.1:9999/img-1.png",
        "https://127.0.0.1:8080/img-1.png",
    ] {
        let host = serve(
            host().config("base_url", "http://127.0.0.1:8080"),
            url_answer(link),
            vec![(link, MockResponse::new(200, PNG))],
        );
        generate(&host).unwrap();
        assert_eq!(
            host.requests().pop().unwrap().header("authorization"),
            None,
            "{link}"
        );
    }
}

#[test]
fn an_image_that_cannot_be_downloaded_is_an_error() {
    let gone = serve(host(), url_answer(BLOB_URL), Vec::new());
    assert_eq!(
        generate(&gone).unwrap_err(),
        PluginError::upstream(
            Some(404),
            None,
            "the image could not be downloaded (HTTP 404)"
        )
    );
    let busy = serve(
        host(),
        url_answer(BLOB_URL),
        vec![(
            BLOB_URL,
            MockResponse::new(503, "").header("Retry-After", "3"),
        )],
    );
    assert_eq!(
        generate(&busy).unwrap_err(),
        PluginError::unavailable("the image could not be downloaded (HTTP 503)", Some(3_000))
    );
}

#[test]
fn an_image_host_off_the_allowlist_says_what_to_allow() {
    let host = serve(
        host(),
        url_answer(BLOB_URL),
        vec![(
            BLOB_URL,
            MockResponse::fail(HttpError::Denied(
                "oaidalleapiprodscus.blob.core.windows.net".into(),
            )),
        )],
    );
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Internal(m)
            if m.contains("https://oaidalleapiprodscus.blob.core.windows.net") && m.contains("allow_hosts")),
        "{err:?}"
    );
}

#[test]
fn a_url_that_is_not_http_is_refused_without_a_download() {
    let host = serve(host(), url_answer("file:///etc/passwd"), Vec::new());
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("not an http(s) URL")),
        "{err:?}"
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn a_success_without_an_image_is_an_upstream_error() {
    for body in [
        json!({"created": 1}),
        json!({"created": 1, "data": null}),
        json!({"created": 1, "data": []}),
        json!({"created": 1, "data": [{"revised_prompt": "a portrait"}]}),
        json!({"created": 1, "data": [{"b64_json": "", "url": null}]}),
    ] {
        let host = serve(host(), MockResponse::json(200, &body), Vec::new());
        let err = generate(&host).unwrap_err();
        assert!(
            matches!(&err, PluginError::Upstream(u)
                if u.status == Some(200) && u.message.contains("without an image")),
            "{body}: {err:?}"
        );
    }
}

#[test]
fn a_success_that_is_not_json_or_not_base64_is_an_upstream_error() {
    let html = serve(
        host(),
        MockResponse::new(200, "<html>upstream connect error</html>"),
        Vec::new(),
    );
    let err = generate(&html).unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("could not be read")),
        "{err:?}"
    );
    let garbled = serve(
        host(),
        MockResponse::json(200, &json!({"data": [{"b64_json": "not base64!"}]})),
        Vec::new(),
    );
    let err = generate(&garbled).unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("does not decode")),
        "{err:?}"
    );
}
