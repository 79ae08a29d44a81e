//! The `ava` binary: `plugin check`, `plugin list` (also spelled `plugins`), and `serve` as a
//! real process.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::render;

const GOOD: &str = r#"
[plugins.persona]
use = "local-persona"
[plugins.billing]
use = "dev-billing"

[plugin.local-persona]
path = "{plugins}/local-persona.wasm"

[plugin.dev-billing]
path = "{plugins}/dev-billing.wasm"
allow_hosts = ["self"]
config = { webhook_secret = { generate = true } }

[plugin.spare]
path = "{plugins}/misbehave.wasm"
enabled = false
"#;

fn ava(dir: &Path, config: &str, args: &[&str]) -> std::process::Output {
    let path = dir.join("ava.toml");
    std::fs::write(&path, render(config)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_ava"))
        .args(args)
        .env("AVA_CONFIG", &path)
        .env("AVA_DATA_DIR", dir.join("data"))
        .env("AVA_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn plugins_check_prints_a_table_and_succeeds_for_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = ava(dir.path(), GOOD, &["plugins", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header = stdout.lines().next().unwrap();
    for column in [
        "SLOT", "PLUGIN", "VERSION", "CONTRACT", "GRANTS", "LIMITS", "STATUS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let persona = stdout
        .lines()
        .find(|l| l.contains("local-persona (chat-persona)"))
        .unwrap();
    assert!(persona.starts_with("persona"), "{persona}");
    assert!(
        persona.contains("0.1.0") && persona.contains("memory 64 MiB"),
        "{persona}"
    );
    assert!(persona.contains("ok ("), "{persona}");
    let billing = stdout
        .lines()
        .find(|l| l.contains("dev-billing (billing-provider)"))
        .unwrap();
    assert!(billing.contains("net: http://localhost:8080"), "{billing}");
    assert!(billing.contains("secrets: webhook_secret"), "{billing}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("spare") && l.ends_with("disabled")),
        "{stdout}"
    );
    assert!(stdout.contains("all plugins valid"), "{stdout}");
}

#[test]
fn plugins_check_fails_and_names_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
        [plugins.persona]
        use = "future"
        [plugin.future]
        path = "{plugins}/future-contract.wasm"
        [plugin.stripe-like]
        path = "{plugins}/dev-billing.wasm"
        config = { webhook_secret = { env = "AVA_TEST_UNSET_SECRET" } }
    "#;
    let out = ava(dir.path(), config, &["plugins", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("ERROR: plugin `future`: it was built against contract ava:plugin@0.3.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AVA_TEST_UNSET_SECRET is not set"),
        "{stdout}"
    );
    assert!(stdout.contains("2 problem(s)"), "{stdout}");
}

/// `--upstream` asks each plugin to verify itself (`check`, contract 0.2.0): a plugin that
/// checks nothing passes, a 0.1.0 plugin is reported as not checked, and one whose upstream
/// cannot be reached fails the run. No request leaves this machine.
#[test]
fn plugin_check_upstream_asks_each_plugin_to_verify_itself() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = format!(
        r#"
        [plugins.persona]
        use = "contract-v0-1"
        [plugins.images]
        use = "local-images"

        [plugin.contract-v0-1]
        path = "{{plugins}}/contract-v0-1.wasm"
        [plugin.local-images]
        path = "{{plugins}}/local-images.wasm"
        [plugin.openai-images]
        path = "{{plugins}}/openai-images.wasm"
        allow_hosts = ["http://127.0.0.1:{port}"]
        config = {{ base_url = "http://127.0.0.1:{port}" }}
        "#
    );
    let out = ava(dir.path(), &config, &["plugin", "check", "--upstream"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("{name} (")))
            .unwrap_or_else(|| panic!("no row for {name}: {stdout}"))
            .to_string()
    };
    assert!(
        row("local-images").contains("ok, checked upstream"),
        "{stdout}"
    );
    assert!(
        row("contract-v0-1").contains("not checked: contract 0.1.0"),
        "{stdout}"
    );
    let failed = row("openai-images");
    assert!(failed.contains("CHECK FAILED"), "{failed}");
    assert!(stdout.contains("1 problem(s)"), "{stdout}");

    // Without the flag nothing is asked, and the same configuration loads.
    let out = ava(dir.path(), &config, &["plugin", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn plugins_list_shows_the_configuration_without_loading() {
    let dir = tempfile::tempdir().unwrap();
    let out = ava(dir.path(), GOOD, &["plugin", "list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("local-persona"))
        .unwrap();
    assert!(
        line.contains("true") && line.contains("persona") && line.contains("0.2.0"),
        "{line}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("spare") && l.contains("false")),
        "{stdout}"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serve_answers_health_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ava.toml");
    std::fs::write(&path, render(GOOD)).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ava"))
        .arg("serve")
        .env("AVA_ADDR", format!("127.0.0.1:{port}"))
        .env("AVA_CONFIG", &path)
        .env("AVA_DATA_DIR", dir.path().join("data"))
        .env("AVA_OPERATOR_TOKEN", "op-token-123")
        .env("AVA_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    ava_host::tls::install_crypto_provider();
    let client = reqwest::Client::new();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await {
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
            break;
        }
        assert!(Instant::now() < deadline, "ava serve did not come up");
        assert!(
            child.try_wait().unwrap().is_none(),
            "ava serve exited early"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let ready: serde_json::Value = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    let loaded = ready["checks"]["plugins"]["loaded"].as_array().unwrap();
    assert_eq!(loaded.len(), 2, "{ready}");

    let anonymous = client
        .get(format!("{base}/admin/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["detail"], "Operator token required");
    let admin: serde_json::Value = client
        .get(format!("{base}/admin/plugins"))
        .bearer_auth("op-token-123")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["generation"], 1);
    assert_eq!(admin["disabled"][0]["name"], "spare");
    let names: Vec<&str> = admin["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev-billing", "local-persona"]);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "ava serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

/// `ava plugins check` on a config file of the repository, with `env` set.
fn check_shipped(file: &str, env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(common::shared_cache_dir()).unwrap();
    std::os::unix::fs::symlink(common::shared_cache_dir(), data.join("plugin-cache")).unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let out = Command::new(env!("CARGO_BIN_EXE_ava"))
        .args(["plugins", "check"])
        .env("AVA_CONFIG", &config)
        .env("AVA_DATA_DIR", &data)
        .env("AVA_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{file}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all plugins valid"), "{stdout}");
    stdout
}

#[test]
fn the_shipped_configs_are_valid() {
    let embedded = check_shipped("ava.toml", &[]);
    assert!(
        embedded
            .lines()
            .any(|l| l.starts_with("billing") && l.contains("dev-billing")),
        "{embedded}"
    );
    let production = check_shipped(
        "ava.production.toml",
        &[
            ("STRIPE_PRICE_ID", "price_1SXjzpLkdIwHu7ixMonthly"),
            ("STRIPE_SECRET_KEY", "sk_test_not_a_real_key"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_not_a_real_secret"),
            ("OPENAI_API_KEY", "sk-not-a-real-key"),
            ("REPLICATE_API_TOKEN", "r8_not_a_real_token"),
        ],
    );
    let billing = production
        .lines()
        .find(|l| l.starts_with("billing"))
        .unwrap();
    assert!(billing.contains("stripe (billing-provider)"), "{billing}");
    assert!(billing.contains("net: https://api.stripe.com"), "{billing}");
    assert!(
        production
            .lines()
            .any(|l| l.starts_with("persona") && l.contains("openai-persona")),
        "{production}"
    );
    let images = production
        .lines()
        .find(|l| l.starts_with("images"))
        .unwrap();
    assert!(images.contains("replicate (image-provider)"), "{images}");
    assert!(
        images.contains("https://api.replicate.com") && images.contains("replicate.delivery"),
        "{images}"
    );
}
