//! Plugins are validated at load time: the contract version, the world, the configuration.

mod common;

use common::TestHost;
use common::app::{Backend, TestApp};
use serde_json::json;

async fn load_error(config: &str, env: &[(&str, &str)]) -> String {
    match TestHost::try_start(config, env).await {
        Ok(_) => panic!("the configuration loaded, but it should not:\n{config}"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_plugin_built_for_another_contract_version_is_refused() {
    let err = load_error(
        "[plugin.future]\npath = \"{plugins}/future-contract.wasm\"\n",
        &[],
    )
    .await;
    assert!(err.starts_with("plugin `future`:"), "{err}");
    assert!(
        err.contains("built against contract ava:plugin@0.3.0"),
        "{err}"
    );
    assert!(
        err.contains("this host runs plugins built for 0.1.x up to 0.1.0 and 0.2.x up to 0.2.0"),
        "{err}"
    );
    assert!(err.contains("rebuild it with a matching ava-sdk"), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_plugin_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm garbage that is not wasm").unwrap();
    let err = load_error(
        &format!("[plugin.junk]\npath = \"{}\"\n", junk.display()),
        &[],
    )
    .await;
    assert!(
        err.starts_with("plugin `junk`: not a valid WebAssembly binary"),
        "{err}"
    );
}

#[tokio::test]
async fn a_plugin_in_the_wrong_slot_is_refused() {
    let err = load_error(
        "[plugins.images]\nuse = \"p\"\n[plugin.p]\npath = \"{plugins}/misbehave.wasm\"\n",
        &[],
    )
    .await;
    assert!(
        err.contains("plugin `p`: it serves [plugins.images], which needs a image-provider plugin, but it is a chat-persona plugin"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_config_key_is_refused_with_the_known_ones() {
    let err = load_error(
        "[plugin.p]\npath = \"{plugins}/misbehave.wasm\"\nconfig = { greting = \"hi\" }\n",
        &[],
    )
    .await;
    assert!(
        err.contains("plugin `p`: has no configuration key `greting`"),
        "{err}"
    );
    assert!(err.contains("greeting, api_key"), "{err}");
}

#[tokio::test]
async fn a_secret_written_in_the_file_is_refused() {
    let err = load_error(
        "[plugin.p]\npath = \"{plugins}/misbehave.wasm\"\nconfig = { api_key = \"sk_live_oops\" }\n",
        &[],
    )
    .await;
    assert!(err.contains("`api_key` is a secret"), "{err}");
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let err = load_error(
        r#"
        [plugin.future]
        path = "{plugins}/future-contract.wasm"
        [plugin.p]
        path = "{plugins}/misbehave.wasm"
        config = { nope = 1 }
        "#,
        &[],
    )
    .await;
    assert!(err.contains("plugin `future`"), "{err}");
    assert!(err.contains("plugin `p`"), "{err}");
}

#[tokio::test]
async fn every_world_loads_and_describes_itself() {
    let host = TestHost::start(
        r#"
        [plugins.persona]
        use = "local-persona"
        [plugins.images]
        use = "local-images"
        [plugins.jobs]
        use = ["photo-job"]
        [plugins.billing]
        use = "dev-billing"

        [plugin.local-persona]
        path = "{plugins}/local-persona.wasm"
        [plugin.local-images]
        path = "{plugins}/local-images.wasm"
        [plugin.photo-job]
        path = "{plugins}/photo-job.wasm"
        [plugin.dev-billing]
        path = "{plugins}/dev-billing.wasm"
        allow_hosts = ["self"]
        config = { webhook_secret = { generate = true } }
        "#,
        &[],
    )
    .await;
    let set = host.registry.current();
    for name in ["local-persona", "local-images", "photo-job", "dev-billing"] {
        let plugin = set.plugin(name).unwrap();
        assert_eq!(plugin.info().name, name);
        assert_eq!(plugin.info().contract, "0.2.0");
    }
    assert_eq!(
        set.job_handler("photo.generate").unwrap().name(),
        "photo-job"
    );
    assert!(set.billing().is_ok() && set.images().is_ok() && set.persona().is_ok());
    // A reload keeps unchanged binaries: the same compiled module, not compiled again.
    let before: *const _ = set.plugin("local-persona").unwrap().module();
    host.registry.reload().await.unwrap();
    let after: *const _ = host
        .registry
        .current()
        .plugin("local-persona")
        .unwrap()
        .module();
    assert!(std::ptr::eq(before, after));
}

/// A plugin built for the frozen 0.1.0 contract (without the SDK, from
/// `sdk/wit/since_v0.1.0`) runs beside plugins of the current one in one server: its
/// imports under their 0.1.0 names, its exports through the same calls, and the export 0.2.0
/// added (`check`) reported as absent rather than failing.
#[tokio::test]
async fn a_plugin_of_contract_0_1_runs_beside_plugins_of_0_2() {
    let host = TestHost::start(
        r#"
        [plugins.persona]
        use = "contract-v0-1"
        [plugins.images]
        use = "local-images"

        [plugin.contract-v0-1]
        path = "{plugins}/contract-v0-1.wasm"
        config = { greeting = "Hi there" }
        [plugin.local-images]
        path = "{plugins}/local-images.wasm"
        "#,
        &[],
    )
    .await;
    let set = host.registry.current();
    let old = set.plugin("contract-v0-1").unwrap();
    let new = set.plugin("local-images").unwrap();
    assert_eq!(old.info().contract, "0.1.0");
    assert_eq!(old.module().contract.to_string(), "0.1.0");
    assert_eq!(new.info().contract, "0.2.0");

    let persona = set.persona().unwrap();
    let reply = persona
        .reply(&common::chat("are you there?"))
        .await
        .unwrap();
    assert_eq!(
        reply.text,
        "Hi there, Ava here (contract 0.1.0): are you there?"
    );
    let (sink, mut pushed) = tokio::sync::mpsc::unbounded_channel();
    let streamed = persona
        .stream_reply(&common::chat("stream it"), sink)
        .await
        .unwrap();
    let mut pieces = Vec::new();
    while let Ok(piece) = pushed.try_recv() {
        pieces.push(piece);
    }
    assert!(pieces.len() > 1, "{pieces:?}");
    assert_eq!(pieces.concat(), streamed.text);

    let drawn = set
        .images()
        .unwrap()
        .generate(&ava_host::plugins::types::ImageRequest {
            prompt: "a lighthouse at dusk".into(),
            negative_prompt: None,
            seed: Some(7),
            width: 64,
            height: 64,
        })
        .await;
    assert!(drawn.is_ok(), "{drawn:?}");

    assert!(!old.check().await.unwrap(), "0.1.0 has no check export");
    assert!(
        new.check().await.unwrap(),
        "local-images checks nothing and says so"
    );
}

/// The fixture's twin, the same code built against 0.2.0 (what `plugin_call` measures the
/// fixture against), loads as 0.2.0 and answers alike: the two differ only in their contract.
#[tokio::test]
async fn the_0_1_fixture_and_its_0_2_twin_answer_alike() {
    let host = TestHost::start(
        r#"
        [plugin.old]
        path = "{plugins}/contract-v0-1.wasm"
        [plugin.twin]
        path = "{plugins}/contract-v0-1-twin.wasm"
        "#,
        &[],
    )
    .await;
    let set = host.registry.current();
    let mut replies = Vec::new();
    for (name, contract) in [("old", "0.1.0"), ("twin", "0.2.0")] {
        let plugin = set.plugin(name).unwrap();
        assert_eq!(plugin.module().contract.to_string(), contract);
        assert_eq!(plugin.info().contract, contract);
        assert_eq!(plugin.check().await.unwrap(), contract == "0.2.0");
        let reply = set
            .persona_named(name)
            .unwrap()
            .reply(&common::chat("same?"))
            .await
            .unwrap();
        replies.push(reply.text.replace(contract, "X"));
    }
    assert_eq!(replies[0], "Hello, Ava here (contract X): same?");
    assert_eq!(replies[0], replies[1]);
}

/// In a real server: a user's turn is answered by the 0.1.0 persona while the 0.2.0 billing
/// plugin opens their checkout, both through the HTTP API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answers_with_a_0_1_persona_and_a_0_2_billing_plugin() {
    let t = TestApp::with_config(
        Backend::Sqlite,
        r#"
        [plugins.persona]
        use = "contract-v0-1"
        [plugins.billing]
        use = "dev-billing"

        [plugin.contract-v0-1]
        path = "{plugins}/contract-v0-1.wasm"
        config = { greeting = "Hi there" }
        [plugin.dev-billing]
        path = "{plugins}/dev-billing.wasm"
        allow_hosts = ["self"]
        config = { webhook_secret = { generate = true } }
        "#,
    )
    .await;
    let (buyer, _) = t.register("buyer@example.com").await;
    let (status, body) = t
        .call(
            reqwest::Method::POST,
            "/billing/checkout",
            Some(&buyer),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert!(
        body["checkout_url"]
            .as_str()
            .unwrap()
            .contains("/dev/checkout/"),
        "{body}"
    );

    let (token, _) = t.subscriber("chatter@example.com").await;
    let (status, turn) = t
        .post("/chat", &token, json!({ "message": "still with us?" }))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{turn}");
    let reply = turn["reply"]["content"].as_str().unwrap();
    assert!(
        reply.starts_with("Hi there, ") && reply.ends_with("(contract 0.1.0): still with us?"),
        "{reply}"
    );
}
