//! Hot reload: the plugin set is swapped atomically when `ava.toml` or a plugin binary
//! changes; a bad configuration keeps the running set.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ava_host::plugins::watch;
use common::{TestHost, chat, plugin_path};

fn persona_config(active: &str) -> String {
    format!(
        r#"
        [plugins.persona]
        use = "{active}"

        [plugin.first]
        path = "{{plugins}}/local-persona.wasm"

        [plugin.second]
        path = "{{plugins}}/misbehave.wasm"
        "#
    )
}

/// Waits until the registry reaches `generation`, or panics.
async fn wait_for_generation(host: &TestHost, generation: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while host.registry.current().generation < generation {
        assert!(
            Instant::now() < deadline,
            "no reload happened; status: {:?}",
            host.registry.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_the_persona_under_load_fails_no_call() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    let registry = host.registry.clone();
    // When the swap became visible (ms since start); u64::MAX until then.
    let swapped_at = Arc::new(AtomicU64::new(u64::MAX));
    let completed = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();

    let mut workers = Vec::new();
    for worker in 0..8 {
        let registry = registry.clone();
        let swapped_at = swapped_at.clone();
        let completed = completed.clone();
        workers.push(tokio::spawn(async move {
            let mut served = Vec::new();
            for i in 0..125 {
                let started = t0.elapsed().as_millis() as u64;
                let persona = registry.current().persona().unwrap();
                let name = persona.name().to_string();
                let reply = persona
                    .reply(&chat(&format!("message {worker}-{i}")))
                    .await
                    .unwrap_or_else(|e| panic!("call {worker}-{i} failed during the swap: {e}"));
                assert!(!reply.text.is_empty());
                if name == "second" {
                    swapped_at.fetch_min(started, Ordering::SeqCst);
                }
                served.push((started, name));
                completed.fetch_add(1, Ordering::SeqCst);
                // Paced so the 1,000 calls span the debounced reload.
                tokio::time::sleep(Duration::from_millis(8)).await;
            }
            served
        }));
    }

    while completed.load(Ordering::SeqCst) < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    host.write_config(&persona_config("second"));

    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    assert_eq!(all.len(), 1_000);
    let swap = swapped_at.load(Ordering::SeqCst);
    assert_ne!(swap, u64::MAX, "no call was ever served by the new plugin");
    let before = all.iter().filter(|(_, n)| n == "first").count();
    assert!(before > 0, "the swap happened before any call ran");
    // Once the new set served a call, every call started later was served by it as well
    // (a call holds the set it started with).
    let late_old: Vec<_> = all
        .iter()
        .filter(|(started, name)| *started > swap && name == "first")
        .collect();
    assert!(
        late_old.is_empty(),
        "calls served by the old plugin after the swap: {late_old:?}"
    );
    assert_eq!(host.registry.current().generation, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_keeps_the_running_set() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let persona = || async {
        host.registry
            .current()
            .persona()
            .unwrap()
            .name()
            .to_string()
    };

    for (broken, expected) in [
        ("this is not toml [", "is not valid"),
        (
            "[plugins.persona]\nuse = \"ghost\"\n",
            "there is no [plugin.ghost]",
        ),
        (
            "[plugins.persona]\nuse = \"x\"\n[plugin.x]\npath = \"/nonexistent/x.wasm\"\n",
            "plugin `x`: cannot read /nonexistent/x.wasm",
        ),
        (
            "[plugins.persona]\nuse = \"x\"\n[plugin.x]\npath = \"{plugins}/local-images.wasm\"\n",
            "needs a chat-persona plugin, but it is a image-provider plugin",
        ),
    ] {
        host.write_config(broken);
        let err = host.registry.reload().await.unwrap_err().to_string();
        assert!(err.contains(expected), "for {broken:?}: {err}");
        assert_eq!(host.registry.current().generation, 1);
        assert_eq!(persona().await, "first");
        assert!(
            host.registry
                .status()
                .last_error
                .unwrap()
                .contains(expected)
        );
        let reply = host
            .registry
            .current()
            .persona()
            .unwrap()
            .reply(&chat("still there?"))
            .await;
        assert!(reply.is_ok());
    }

    // Two broken plugins and a broken slot: the refusal names each, not only the first.
    host.write_config(
        "[plugins.persona]\nuse = \"x\"\n[plugins.images]\nuse = \"y\"\n\
         [plugin.x]\npath = \"/nonexistent/x.wasm\"\n\
         [plugin.y]\npath = \"/nonexistent/y.wasm\"\n\
         [plugin.z]\npath = \"{plugins}/local-images.wasm\"\n[plugins.billing]\nuse = \"z\"\n",
    );
    let err = host.registry.reload().await.unwrap_err().to_string();
    for expected in [
        "plugin `x`: cannot read /nonexistent/x.wasm",
        "plugin `y`: cannot read /nonexistent/y.wasm",
        "needs a billing-provider plugin, but it is a image-provider plugin",
    ] {
        assert!(
            err.contains(expected),
            "{expected:?} is missing from: {err}"
        );
    }
    assert_eq!(host.registry.current().generation, 1);

    host.write_config(&persona_config("second"));
    assert_eq!(host.registry.reload().await.unwrap(), 2);
    assert_eq!(persona().await, "second");
    assert!(host.registry.status().last_error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_plugin_takes_effect_without_a_restart() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    assert!(host.registry.current().plugin("second").is_some());
    host.write_config(&persona_config("first").replace(
        "path = \"{plugins}/misbehave.wasm\"",
        "path = \"{plugins}/misbehave.wasm\"\nenabled = false",
    ));
    wait_for_generation(&host, 2).await;
    let set = host.registry.current();
    assert!(set.plugin("second").is_none());
    assert!(set.disabled().any(|(name, _)| name == "second"));
    assert!(set.persona_named("second").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_plugin_binary_reloads_it() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("persona.wasm");
    std::fs::copy(plugin_path("local-persona"), &binary).unwrap();
    let config = format!(
        "[plugins.persona]\nuse = \"p\"\n[plugin.p]\npath = \"{}\"\n",
        binary.display()
    );
    let host = TestHost::start(&config, &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    let before = host
        .registry
        .current()
        .plugin("p")
        .unwrap()
        .module()
        .sha256
        .clone();

    let tmp = dir.path().join("persona.wasm.tmp");
    std::fs::copy(plugin_path("misbehave"), &tmp).unwrap();
    std::fs::rename(&tmp, &binary).unwrap();
    wait_for_generation(&host, 2).await;

    let set = host.registry.current();
    assert_ne!(set.plugin("p").unwrap().module().sha256, before);
    let reply = set.persona().unwrap().reply(&chat("hello")).await.unwrap();
    assert_eq!(reply.text, "misbehave: hello");
}
