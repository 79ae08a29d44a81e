//! Plugins are validated at load time: the contract version, the world, the configuration.

mod common;

use common::TestHost;

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
        err.contains("built against contract ava:plugin@0.2.0"),
        "{err}"
    );
    assert!(
        err.contains("this host implements ava:plugin@0.1.0"),
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
        assert_eq!(plugin.info().contract, "0.1.0");
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
