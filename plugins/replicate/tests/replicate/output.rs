//! The output file: which one is taken, how it is fetched, and what it turns out to be.

use ava_sdk::HttpError;
use base64::Engine;

use super::*;

/// 1×1 JPEG and WebP headers: the plugin only needs their first bytes to tell them apart.
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];
const WEBP: &[u8] =
    b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";

/// A run whose prediction succeeds at once with `output`, the file at `url` being `file`.
fn finished_with(output: Value, url: &str, file: MockResponse) -> TestHost {
    FakeReplicate::new(created("succeeded", output))
        .file(url, file)
        .serve(host())
}

#[test]
fn a_single_url_output_is_downloaded() {
    let host = finished_with(json!(OUTPUT_URL), OUTPUT_URL, png_file());
    assert_eq!(bytes(&generate(&host).unwrap()), ("image/png", PNG));
}

#[test]
fn of_several_outputs_the_first_is_taken() {
    let second = OUTPUT_URL.replace("out-0", "out-1");
    let host = finished_with(json!([OUTPUT_URL, second]), OUTPUT_URL, png_file());
    generate(&host).unwrap();
    let downloads: Vec<_> = calls(&host)
        .into_iter()
        .filter(|(_, url)| url.starts_with("https://replicate.delivery/"))
        .collect();
    assert_eq!(downloads, [(HttpMethod::Get, OUTPUT_URL.to_string())]);
}

#[test]
fn the_content_type_comes_from_the_bytes() {
    let webp_url = OUTPUT_URL.replace(".png", ".webp");
    let host = finished_with(
        json!([webp_url]),
        &webp_url,
        MockResponse::new(200, WEBP).header("content-type", "application/octet-stream"),
    );
    assert_eq!(bytes(&generate(&host).unwrap()), ("image/webp", WEBP));

    let jpg_url = OUTPUT_URL.replace(".png", ".jpg");
    let host = finished_with(
        json!([jpg_url]),
        &jpg_url,
        MockResponse::new(200, JPEG).header("content-type", "image/png"),
    );
    assert_eq!(bytes(&generate(&host).unwrap()), ("image/jpeg", JPEG));
}

#[test]
fn an_output_that_is_not_an_image_is_refused() {
    let host = finished_with(
        json!([OUTPUT_URL]),
        OUTPUT_URL,
        MockResponse::new(200, "<html>Moved</html>").header("content-type", "text/html"),
    );
    assert_eq!(
        generate(&host).unwrap_err(),
        PluginError::upstream(
            None,
            None,
            "the model's output is not a PNG, JPEG or WebP image (served as text/html)"
        )
    );
}

#[test]
fn an_output_that_cannot_be_downloaded_is_an_error_not_a_url() {
    let gone = finished_with(
        json!([OUTPUT_URL]),
        OUTPUT_URL,
        MockResponse::new(404, "Not Found"),
    );
    let err = generate(&gone).unwrap_err();
    assert_eq!(
        err,
        PluginError::upstream(
            Some(404),
            None,
            "the output file could not be downloaded (HTTP 404)"
        )
    );

    let busy = finished_with(
        json!([OUTPUT_URL]),
        OUTPUT_URL,
        MockResponse::new(503, "").header("Retry-After", "3"),
    );
    assert_eq!(
        generate(&busy).unwrap_err(),
        PluginError::unavailable(
            "the output file could not be downloaded (HTTP 503)",
            Some(3_000)
        )
    );
}

#[test]
fn an_output_host_off_the_allowlist_says_what_to_allow() {
    let host = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL])))
        .file(
            OUTPUT_URL,
            MockResponse::fail(HttpError::Denied("replicate.delivery".into())),
        )
        .serve(host());
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Internal(m)
            if m.contains("https://replicate.delivery") && m.contains("allow_hosts")),
        "{err:?}"
    );
}

#[test]
fn the_token_goes_with_replicates_files_and_nowhere_else() {
    let host = finished_with(json!([OUTPUT_URL]), OUTPUT_URL, png_file());
    generate(&host).unwrap();
    let download = host.requests().pop().unwrap();
    assert_eq!(download.url, OUTPUT_URL);
    assert_eq!(
        download.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    let elsewhere = "https://cdn.example.com/outputs/out-0.png";
    let host = finished_with(json!([elsewhere]), elsewhere, png_file());
    generate(&host).unwrap();
    let download = host.requests().pop().unwrap();
    assert_eq!(download.url, elsewhere);
    assert_eq!(download.header("authorization"), None);
}

#[test]
fn a_data_url_output_is_decoded_without_a_download() {
    let data_url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(PNG)
    );
    let host = FakeReplicate::new(created("succeeded", json!([data_url]))).serve(host());
    assert_eq!(bytes(&generate(&host).unwrap()), ("image/png", PNG));
    assert_eq!(host.requests().len(), 1, "only the create");
}

#[test]
fn a_success_whose_output_is_gone_is_an_upstream_error() {
    let mut p = prediction("succeeded", Value::Null);
    p["data_removed"] = json!(true);
    let host = FakeReplicate::new(MockResponse::json(201, &p)).serve(host());
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("no output")),
        "{err:?}"
    );
}
