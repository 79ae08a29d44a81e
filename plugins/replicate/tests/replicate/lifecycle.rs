//! A prediction followed from creation to its end: at once, by polling, or to the deadline.

use super::*;

/// The TestHost's clock now.
fn now(host: &TestHost) -> u64 {
    host.run(ava_sdk::time::now_ms)
}

fn get(url: &str) -> (HttpMethod, String) {
    (HttpMethod::Get, url.to_string())
}

fn post(url: &str) -> (HttpMethod, String) {
    (HttpMethod::Post, url.to_string())
}

/// A prediction whose `urls.get` is `url`.
fn created_with_get_url(url: &str) -> MockResponse {
    let mut p = prediction("starting", Value::Null);
    p["urls"]["get"] = json!(url);
    MockResponse::json(201, &p)
}

#[test]
fn a_prediction_finished_within_the_wait_is_taken_at_once() {
    let host = FakeReplicate::new(created("succeeded", json!([OUTPUT_URL]))).serve(host());
    let output = generate(&host).unwrap();
    assert_eq!(bytes(&output), ("image/png", PNG));
    assert_eq!(output.model.as_deref(), Some(MODEL));
    assert_eq!(output.seed, Some(1_234_567));
    assert_eq!(calls(&host), [post(CREATE_URL), get(OUTPUT_URL)]);
}

#[test]
fn a_slow_prediction_is_polled_until_it_succeeds() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([
            polled("starting", Value::Null),
            polled("processing", Value::Null),
            polled("succeeded", json!([OUTPUT_URL])),
        ])
        .serve(host().config("poll_interval_ms", "250"));
    let before = now(&host);
    let output = generate(&host).unwrap();
    assert_eq!(bytes(&output), ("image/png", PNG));
    assert_eq!(
        calls(&host),
        [
            post(CREATE_URL),
            get(GET_URL),
            get(GET_URL),
            get(GET_URL),
            get(OUTPUT_URL)
        ]
    );
    assert_eq!(
        now(&host) - before,
        750,
        "one pause before each status check"
    );
    for check in &host.requests()[1..4] {
        assert_eq!(
            check.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}

#[test]
fn a_sync_answer_with_the_files_is_taken_before_the_prediction_is_marked_done() {
    let host = FakeReplicate::new(created("processing", json!([OUTPUT_URL]))).serve(host());
    generate(&host).unwrap();
    assert_eq!(calls(&host), [post(CREATE_URL), get(OUTPUT_URL)]);
}

#[test]
fn a_failed_prediction_is_refused_with_replicates_reason() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([failed(
            "NSFW content detected. Try running it again, or try a different prompt.",
        )])
        .serve(host());
    let err = generate(&host).unwrap_err();
    assert_eq!(
        err,
        PluginError::invalid_input(
            "Replicate could not make the image: NSFW content detected. Try running it again, or try a different prompt."
        )
    );
    assert_eq!(calls(&host), [post(CREATE_URL), get(GET_URL)]);
}

#[test]
fn a_prediction_failed_within_the_wait_is_refused_without_polling() {
    let mut p = prediction("failed", Value::Null);
    p["error"] = json!("CUDA out of memory");
    let host = FakeReplicate::new(MockResponse::json(201, &p)).serve(host());
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::InvalidInput(m) if m.ends_with("CUDA out of memory")),
        "{err:?}"
    );
    assert_eq!(calls(&host), [post(CREATE_URL)]);
}

#[test]
fn an_interrupted_prediction_is_worth_retrying() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([failed("Prediction interrupted; please retry (code: PA)")])
        .serve(host());
    let err = generate(&host).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.message.contains("code: PA")),
        "{err:?}"
    );
}

#[test]
fn a_prediction_canceled_or_aborted_at_replicate_is_an_upstream_error() {
    for status in ["canceled", "aborted"] {
        let host = FakeReplicate::new(created("starting", Value::Null))
            .polls([polled(status, Value::Null)])
            .serve(host());
        let err = generate(&host).unwrap_err();
        assert_eq!(
            err,
            PluginError::upstream(
                None,
                Some(status.into()),
                format!("the prediction was {status} at Replicate before it finished")
            )
        );
        assert_eq!(
            calls(&host),
            [post(CREATE_URL), get(GET_URL)],
            "nothing to cancel or download"
        );
    }
}

#[test]
fn past_the_deadline_the_prediction_is_canceled_and_the_call_times_out() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([polled("processing", Value::Null)])
        .serve(
            host()
                .config("timeout_ms", "3000")
                .config("poll_interval_ms", "1000"),
        );
    let before = now(&host);
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Unavailable(u)
            if u.message.contains("within 3000 ms") && u.message.contains(ID)),
        "{err:?}"
    );
    assert_eq!(
        calls(&host),
        [
            post(CREATE_URL),
            get(GET_URL),
            get(GET_URL),
            get(GET_URL),
            post(CANCEL_URL)
        ]
    );
    assert_eq!(now(&host) - before, 3000);
    let cancel = host.requests().pop().unwrap();
    assert_eq!(
        cancel.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn a_failed_cancel_still_ends_in_the_timeout() {
    let host = TestHost::new()
        .config("model", MODEL)
        .config("timeout_ms", "1000")
        .secret("api_token", TOKEN)
        .on_http(|req| match req.method {
            HttpMethod::Post if req.url.ends_with("/cancel") => MockResponse::new(500, ""),
            HttpMethod::Post => created("starting", Value::Null),
            _ => polled("processing", Value::Null),
        });
    let err = generate(&host).unwrap_err();
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.message.contains("within 1000 ms")),
        "{err:?}"
    );
    assert_eq!(calls(&host).last(), Some(&post(CANCEL_URL)));
}

#[test]
fn a_status_check_that_fails_briefly_does_not_abandon_the_prediction() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([
            MockResponse::json(503, &json!({"detail": "Service Unavailable"}))
                .header("Retry-After", "2"),
            polled("succeeded", json!([OUTPUT_URL])),
        ])
        .serve(host().config("poll_interval_ms", "500"));
    let before = now(&host);
    generate(&host).unwrap();
    assert_eq!(
        calls(&host),
        [
            post(CREATE_URL),
            get(GET_URL),
            get(GET_URL),
            get(OUTPUT_URL)
        ]
    );
    assert_eq!(
        now(&host) - before,
        500 + 2000,
        "the second check waits as long as Replicate asked"
    );
}

#[test]
fn a_status_check_refused_for_good_cancels_the_prediction() {
    let host = FakeReplicate::new(created("starting", Value::Null))
        .polls([MockResponse::json(
            401,
            &json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}),
        )])
        .serve(host());
    let err = generate(&host).unwrap_err();
    assert!(matches!(err, PluginError::Unauthorized(_)), "{err:?}");
    assert_eq!(
        calls(&host),
        [post(CREATE_URL), get(GET_URL), post(CANCEL_URL)]
    );
}

#[test]
fn the_status_url_replicate_gives_is_followed_only_under_the_api_base() {
    let own = format!("{GET_URL}?from=urls");
    let own_host = FakeReplicate::new(created_with_get_url(&own))
        .polls([polled("succeeded", json!(OUTPUT_URL))])
        .serve(host());
    generate(&own_host).unwrap();
    assert_eq!(calls(&own_host)[1], get(&own));

    let foreign = format!("https://api.replicate.com.evil.example/v1/predictions/{ID}");
    let foreign_host = FakeReplicate::new(created_with_get_url(&foreign))
        .polls([polled("succeeded", json!(OUTPUT_URL))])
        .serve(host());
    generate(&foreign_host).unwrap();
    assert_eq!(
        calls(&foreign_host)[1],
        get(GET_URL),
        "the token stays with Replicate"
    );
}
