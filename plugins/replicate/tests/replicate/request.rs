//! The create request exactly as Replicate receives it.

use super::*;

fn succeeded() -> TestHost {
    FakeReplicate::new(created("succeeded", json!([OUTPUT_URL]))).serve(host())
}

/// The create request of a run on `host`.
fn create_request(host: &TestHost) -> RecordedRequest {
    let requests = host.requests();
    let create = &requests[0];
    assert_eq!(create.method, HttpMethod::Post, "{requests:#?}");
    create.clone()
}

#[test]
fn an_official_model_is_run_through_its_endpoint_with_the_token_and_a_wait() {
    let host = succeeded();
    generate(&host).unwrap();
    let create = create_request(&host);
    assert_eq!(create.url, CREATE_URL);
    let mut headers: Vec<(String, String)> = create
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.sort();
    assert_eq!(
        headers,
        [
            ("authorization", format!("Bearer {TOKEN}")),
            ("content-type", "application/json".to_string()),
            ("prefer", "wait=60".to_string()),
        ]
        .map(|(n, v)| (n.to_string(), v))
    );
    assert_eq!(
        create.json(),
        json!({
            "input": {
                "prompt": "portrait of Mira, short black hair, freckles, golden hour",
                "negative_prompt": "blurry, watermark",
                "seed": 1_234_567,
                "width": 768,
                "height": 1024
            }
        })
    );
}

#[test]
fn a_model_version_is_named_in_the_body_of_a_plain_prediction() {
    let version = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";
    let host = FakeReplicate::new(created("succeeded", json!(OUTPUT_URL))).serve(
        TestHost::new()
            .config("version", version)
            .secret("api_token", TOKEN),
    );
    generate(&host).unwrap();
    let create = create_request(&host);
    assert_eq!(create.url, "https://api.replicate.com/v1/predictions");
    assert_eq!(create.json()["version"], version);
    assert_eq!(create.json()["input"]["seed"], 1_234_567);
}

#[test]
fn extra_input_is_merged_and_the_request_wins_on_the_same_key() {
    let host = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL]))).serve(host().config(
        "input",
        r#"{"output_format": "png", "num_outputs": 1, "prompt": "from the config"}"#,
    ));
    generate(&host).unwrap();
    let input = &create_request(&host).json()["input"];
    assert_eq!(input["output_format"], "png");
    assert_eq!(input["num_outputs"], 1);
    assert_eq!(
        input["prompt"],
        "portrait of Mira, short black hair, freckles, golden hour"
    );
}

#[test]
fn a_flux_style_model_gets_the_nearest_aspect_ratio_instead_of_a_size() {
    let host = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL]))).serve(
        host()
            .config("negative_prompt_field", "none")
            .config("width_field", "none")
            .config("height_field", "none")
            .config("aspect_ratio_field", "aspect_ratio"),
    );
    generate(&host).unwrap();
    assert_eq!(
        create_request(&host).json()["input"],
        json!({
            "prompt": "portrait of Mira, short black hair, freckles, golden hour",
            "seed": 1_234_567,
            "aspect_ratio": "3:4"
        })
    );
}

#[test]
fn renamed_fields_carry_the_values() {
    let host = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL]))).serve(
        host()
            .config("prompt_field", "text")
            .config("negative_prompt_field", "negative")
            .config("seed_field", "noise_seed"),
    );
    generate(&host).unwrap();
    let input = &create_request(&host).json()["input"];
    assert_eq!(
        input["text"],
        "portrait of Mira, short black hair, freckles, golden hour"
    );
    assert_eq!(input["negative"], "blurry, watermark");
    assert_eq!(input["noise_seed"], 1_234_567);
    assert!(input.get("prompt").is_none() && input.get("seed").is_none());
}

#[test]
fn a_large_seed_is_folded_into_range_and_reported_as_sent() {
    let host = succeeded();
    let seed = (1u64 << 52) - 1;
    let output = host
        .run(|| {
            Replicate::generate(ImageRequest {
                seed: Some(seed),
                ..request()
            })
        })
        .unwrap();
    let sent = create_request(&host).json()["input"]["seed"]
        .as_u64()
        .unwrap();
    assert_eq!(sent, seed % (1 << 31));
    assert_eq!(output.seed, Some(sent));
}

#[test]
fn what_the_request_leaves_out_is_not_sent() {
    let host = succeeded();
    let output = host
        .run(|| {
            Replicate::generate(ImageRequest {
                negative_prompt: Some("  ".into()),
                seed: None,
                width: 0,
                height: 0,
                ..request()
            })
        })
        .unwrap();
    assert_eq!(
        create_request(&host).json()["input"],
        json!({"prompt": "portrait of Mira, short black hair, freckles, golden hour"})
    );
    assert_eq!(output.seed, None);
}

#[test]
fn an_empty_prompt_is_refused_before_anything_is_sent() {
    let host = succeeded();
    let result = host.run(|| {
        Replicate::generate(ImageRequest {
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
fn the_wait_is_the_configured_one_and_never_beyond_the_deadline() {
    let shorter_wait = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL])))
        .serve(host().config("wait_seconds", "10"));
    generate(&shorter_wait).unwrap();
    assert_eq!(
        create_request(&shorter_wait).header("prefer"),
        Some("wait=10")
    );

    let short_deadline = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL])))
        .serve(host().config("timeout_ms", "4500"));
    generate(&short_deadline).unwrap();
    assert_eq!(
        create_request(&short_deadline).header("prefer"),
        Some("wait=5")
    );
}

#[test]
fn a_configuration_error_sends_nothing_and_names_the_key() {
    let host = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL])))
        .serve(host().config("wait_seconds", "90"));
    let result = generate(&host);
    assert!(
        matches!(&result, Err(PluginError::Internal(m)) if m.contains("`wait_seconds`")),
        "{result:?}"
    );
    assert!(host.requests().is_empty());
}
