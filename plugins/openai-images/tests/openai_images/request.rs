//! The generation request exactly as the Images API receives it, for each model.

use super::*;

const FOLDED: &str =
    "portrait of Mira, short black hair, freckles, golden hour\n\nAvoid: blurry, watermark";
const PROMPT: &str = "portrait of Mira, short black hair, freckles, golden hour";

#[test]
fn gpt_image_1_is_asked_with_the_key_for_the_nearest_size_and_no_response_format() {
    let host = drawing(host());
    generate(&host).unwrap();
    let sent = generation(&host);
    assert_eq!(sent.url, ENDPOINT);
    let mut headers: Vec<(String, String)> = sent
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.sort();
    assert_eq!(
        headers,
        [
            ("authorization", format!("Bearer {KEY}")),
            ("content-type", "application/json".to_string()),
        ]
        .map(|(n, v)| (n.to_string(), v))
    );
    assert_eq!(
        sent.json(),
        json!({
            "model": "gpt-image-1",
            "prompt": FOLDED,
            "n": 1,
            "size": "1024x1536"
        })
    );
}

#[test]
fn the_key_is_a_placeholder_the_host_fills_in() {
    // What the plugin hands the host: it never holds the key itself.
    let host = drawing(TestHost::new().secret("api_key", "sk-other"));
    generate(&host).unwrap();
    assert_eq!(
        generation(&host).header("authorization"),
        Some("Bearer sk-other")
    );
}

#[test]
fn gpt_image_1_gets_the_configured_size_quality_and_output_format() {
    let host = serve(
        host()
            .config("size", "auto")
            .config("quality", "high")
            .config("output_format", "webp"),
        b64_answer(WEBP, "webp"),
        Vec::new(),
    );
    generate(&host).unwrap();
    assert_eq!(
        sent_body(&host),
        json!({
            "model": "gpt-image-1",
            "prompt": FOLDED,
            "n": 1,
            "size": "auto",
            "quality": "high",
            "output_format": "webp"
        })
    );
}

#[test]
fn dall_e_3_is_asked_for_base64_in_its_own_sizes() {
    let host = drawing(host().config("model", "dall-e-3").config("quality", "hd"));
    generate(&host).unwrap();
    assert_eq!(
        sent_body(&host),
        json!({
            "model": "dall-e-3",
            "prompt": FOLDED,
            "n": 1,
            "size": "1024x1792",
            "quality": "hd",
            "response_format": "b64_json"
        })
    );
}

#[test]
fn dall_e_2_gets_a_square_and_no_negative_prompt() {
    let host = drawing(host().config("model", "dall-e-2"));
    generate(&host).unwrap();
    assert_eq!(
        sent_body(&host),
        json!({
            "model": "dall-e-2",
            "prompt": PROMPT,
            "n": 1,
            "size": "1024x1024",
            "response_format": "b64_json"
        })
    );
}

#[test]
fn another_server_gets_its_base_url_the_size_asked_for_and_dall_es_parameters() {
    let host = drawing(
        host()
            .config("base_url", "http://127.0.0.1:8080/v1/")
            .config("model", "flux.1-schnell")
            .config("output_format", "png"),
    );
    generate(&host).unwrap();
    let sent = generation(&host);
    assert_eq!(sent.url, "http://127.0.0.1:8080/v1/images/generations");
    assert_eq!(
        sent.json(),
        json!({
            "model": "flux.1-schnell",
            "prompt": FOLDED,
            "n": 1,
            "size": "768x1024",
            "response_format": "b64_json",
            "output_format": "png"
        })
    );
}

#[test]
fn without_a_key_no_authorization_is_sent() {
    let host = drawing(TestHost::new().config("base_url", "http://127.0.0.1:8080"));
    generate(&host).unwrap();
    assert_eq!(generation(&host).header("authorization"), None);
}

#[test]
fn what_the_request_leaves_open_is_not_sent() {
    let host = drawing(host());
    host.run(|| {
        OpenAiImages::generate(ImageRequest {
            negative_prompt: Some("  ".into()),
            seed: None,
            width: 0,
            height: 0,
            ..request()
        })
    })
    .unwrap();
    assert_eq!(
        sent_body(&host),
        json!({"model": "gpt-image-1", "prompt": PROMPT, "n": 1})
    );
}

#[test]
fn a_negative_prompt_that_would_overflow_the_prompt_limit_is_left_out() {
    let host = drawing(host().config("model", "dall-e-3"));
    let long = "a".repeat(3_990);
    host.run(|| {
        OpenAiImages::generate(ImageRequest {
            prompt: long.clone(),
            ..request()
        })
    })
    .unwrap();
    assert_eq!(sent_body(&host)["prompt"], long.as_str());
}

#[test]
fn an_empty_prompt_is_refused_before_anything_is_sent() {
    let host = drawing(host());
    let result = host.run(|| {
        OpenAiImages::generate(ImageRequest {
            prompt: " \n".into(),
            ..request()
        })
    });
    assert!(
        matches!(result, Err(PluginError::InvalidInput(_))),
        "{result:?}"
    );
    assert!(host.requests().is_empty());
}

#[test]
fn a_configuration_error_sends_nothing_and_names_the_key() {
    let host = drawing(
        host()
            .config("model", "dall-e-3")
            .config("size", "1536x1024"),
    );
    let result = generate(&host);
    assert!(
        matches!(&result, Err(PluginError::Internal(m)) if m.contains("`size`")),
        "{result:?}"
    );
    assert!(host.requests().is_empty());
}
