//! The plugin author's commands as a real `ava` process: `ava plugin new`, `build`, `call`.
//!
//! The generated crates are built outside the workspace, like an author's, and share one
//! cargo target folder, so the SDK and serde are compiled once for all four.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use common::LocalServer;
use common::app::{Backend, TestApp};

/// The bytes a PNG file starts with: all the templates and the host look at.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-test-image";

fn ava() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ava"));
    command.env_remove("AVA_LOG");
    command
}

/// The target folder the generated crates share: a folder of its own, since the `cargo test`
/// running this holds the lock of the workspace's.
fn crates_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-crates")
}

fn cargo() -> Command {
    let mut command = Command::new("cargo");
    command.env("CARGO_TARGET_DIR", crates_target_dir());
    command
}

/// Runs `command` off the async runtime, so the local servers keep answering.
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[track_caller]
fn assert_success(what: &str, output: &Output) -> String {
    let (stdout, stderr) = text(output);
    assert!(
        output.status.success(),
        "{what} failed ({:?}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

/// `ava plugin new NAME --kind KIND` in `dir`, its tests, and `ava plugin build`: the
/// component's path.
async fn create_test_and_build(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let mut new = ava();
    new.args(["plugin", "new", name, "--kind", kind, "--path"])
        .arg(dir)
        .env("CARGO_TARGET_DIR", crates_target_dir());
    let stdout = assert_success("ava plugin new", &run(new).await);
    assert!(stdout.contains(&format!("[plugin.{name}]")), "{stdout}");
    let crate_dir = dir.join(name);
    for file in ["Cargo.toml", "src/lib.rs", "tests/plugin.rs", "README.md"] {
        assert!(crate_dir.join(file).is_file(), "{file} missing");
    }
    let readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    assert!(readme.contains(&format!("[plugin.{name}]")), "{readme}");

    let mut test = cargo();
    test.args(["test", "--quiet"]).current_dir(&crate_dir);
    assert_success(
        &format!("cargo test of the {kind} template"),
        &run(test).await,
    );

    let mut build = ava();
    build
        .args(["plugin", "build"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", crates_target_dir());
    let stdout = assert_success("ava plugin build", &run(build).await);
    assert!(
        stdout.contains(&format!("{name} 0.1.0 ({kind}), contract ava:plugin@")),
        "{stdout}"
    );
    let built = stdout
        .lines()
        .find_map(|l| l.strip_prefix("built "))
        .and_then(|l| l.rsplit_once(" ("))
        .map(|(path, _)| PathBuf::from(path))
        .unwrap_or_else(|| panic!("no path in {stdout}"));
    assert!(built.is_file(), "{}", built.display());
    assert_eq!(built.extension().unwrap(), "wasm");
    built
}

fn hmac_hex(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_is_created_tested_built_and_called() {
    let dir = tempfile::tempdir().unwrap();

    // A chat persona: answers from the card and its config, streaming.
    let wasm = create_test_and_build(dir.path(), "my-persona", "chat-persona").await;
    let mut call = ava();
    call.args(["plugin", "call"]).arg(&wasm).args([
        "--method",
        "stream-reply",
        "--input",
        r#"{"message": "hello", "persona": {"name": "Mira"}}"#,
        "--set",
        "sign_off=Bye.",
    ]);
    let stdout = assert_success("calling the persona", &run(call).await);
    assert!(
        stdout.contains(r#""text": "Hi there, Mira here. Noted: \"hello\". Bye.""#),
        "{stdout}"
    );
    assert!(stdout.contains("config sign_off: set"), "{stdout}");
    assert!(stdout.contains(r#"push " Mira""#), "{stdout}");
    assert!(stdout.contains("peak, of 64.0 MiB allowed"), "{stdout}");

    // And a server with it in the persona slot answers a user's turn with it.
    let config = format!(
        "[plugins.persona]\nuse = \"my-persona\"\n\n[plugin.my-persona]\npath = \"{}\"\n\
         config = {{ sign_off = \"Bye.\" }}\n",
        wasm.display()
    );
    let app = TestApp::with_config(Backend::Sqlite, &config).await;
    let (token, _) = app.subscriber("author@example.com").await;
    let (status, turn) = app
        .post("/chat", &token, serde_json::json!({ "message": "hello" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let reply = turn["reply"]["content"].as_str().unwrap();
    // The user's default persona, through the template's logic and the configured sign-off.
    assert!(
        reply.starts_with("Hi there, Ava here. Noted: \"hello\".") && reply.ends_with(" Bye."),
        "{reply}"
    );
    drop(app);

    // An image provider: one HTTP call to its base URL, on its allowlist.
    let upstream = LocalServer::start(Router::new().route(
        "/seed/{seed}/{width}/{height}",
        get(|| async { PNG.to_vec() }),
    ))
    .await;
    let base = upstream.url("");
    let wasm = create_test_and_build(dir.path(), "my-images", "image-provider").await;
    let out = dir.path().join("image.png");
    let mut call = ava();
    call.args(["plugin", "call"]).arg(&wasm).args([
        "--input",
        r#"{"prompt": "a lighthouse", "seed": 7}"#,
        "--set",
        &format!("base_url={base}"),
        "--allow-host",
        &base,
        "--out",
    ]);
    call.arg(&out);
    let stdout = assert_success("calling the image provider", &run(call).await);
    assert!(
        stdout.contains(&format!("http GET {base}/seed/7/768/1024 -> 200")),
        "{stdout}"
    );
    assert!(
        stdout.contains("has-secret api_token: not granted"),
        "{stdout}"
    );
    assert!(stdout.contains("image     image/png"), "{stdout}");
    assert_eq!(std::fs::read(&out).unwrap(), PNG);

    // A job handler: stores the note in its key-value store.
    let wasm = create_test_and_build(dir.path(), "my-jobs", "job-handler").await;
    let mut call = ava();
    call.args(["plugin", "call"])
        .arg(&wasm)
        .args(["--input", r#"{"payload": {"note": "buy milk"}}"#]);
    let stdout = assert_success("calling the job handler", &run(call).await);
    assert!(stdout.contains(r#""outcome": "done""#), "{stdout}");
    assert!(
        stdout.contains(r#"kv add "note:job-1": 8 bytes stored"#),
        "{stdout}"
    );
    assert!(
        stdout.contains("log info: job job-1: note saved"),
        "{stdout}"
    );

    // A billing provider: checkout through the provider's API with the key filled in by the
    // host, and a webhook verified by an HMAC the host computes.
    let provider = LocalServer::start(Router::new().route(
        "/checkout/sessions",
        post(|headers: HeaderMap| async move {
            if headers.get("authorization").and_then(|v| v.to_str().ok())
                != Some("Bearer sk_test_cli_1")
            {
                return Err(StatusCode::UNAUTHORIZED);
            }
            Ok(axum::Json(
                serde_json::json!({"id": "cs_1", "url": "https://pay.example.test/cs_1"}),
            ))
        }),
    ))
    .await;
    let api = provider.url("");
    let wasm = create_test_and_build(dir.path(), "my-billing", "billing-provider").await;
    let billing_call = |method: &str, input: &str| {
        let mut call = ava();
        call.args(["plugin", "call"]).arg(&wasm).args([
            "--method",
            method,
            "--input",
            input,
            "--set",
            &format!("api_base={api}"),
            "--allow-host",
            &api,
            "--secret",
            "api_key=AVA_TEST_CLI_API_KEY",
            "--secret",
            "webhook_secret=AVA_TEST_CLI_WEBHOOK_SECRET",
        ]);
        call.env("AVA_TEST_CLI_API_KEY", "sk_test_cli_1")
            .env("AVA_TEST_CLI_WEBHOOK_SECRET", "whsec_cli_1");
        call
    };
    let stdout = assert_success(
        "creating a checkout",
        &run(billing_call(
            "create-checkout",
            r#"{"email": "a@example.com"}"#,
        ))
        .await,
    );
    assert!(
        stdout.contains(r#""url": "https://pay.example.test/cs_1""#),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("http POST {api}/checkout/sessions -> 200")),
        "{stdout}"
    );
    let body = r#"{"id": "evt_1", "type": "payment.succeeded", "user_id": "user-1"}"#;
    let input = serde_json::json!({
        "headers": {"x-signature": hmac_hex("whsec_cli_1", body)},
        "body": body,
    });
    let output = run(billing_call("handle-webhook", &input.to_string())).await;
    let stdout = assert_success("verifying a webhook", &output);
    assert!(
        stdout.contains(r#""kind": "payment-succeeded""#),
        "{stdout}"
    );
    assert!(
        stdout.contains("hmac-sha256 with secret webhook_secret"),
        "{stdout}"
    );
    let (_, stderr) = text(&output);
    for secret in ["sk_test_cli_1", "whsec_cli_1"] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}

#[test]
fn new_refuses_bad_requests_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let new = |name: &str, kind: &str| {
        ava()
            .args(["plugin", "new", name, "--kind", kind, "--path"])
            .arg(dir.path())
            .output()
            .unwrap()
    };

    let bad_name = new("My_Plugin", "chat-persona");
    assert_eq!(bad_name.status.code(), Some(2));
    let (_, stderr) = text(&bad_name);
    assert!(stderr.contains("is not a plugin name"), "{stderr}");

    let unknown_kind = new("my-plugin", "chat-bot");
    assert_eq!(unknown_kind.status.code(), Some(2));
    let (_, stderr) = text(&unknown_kind);
    assert!(stderr.contains("possible values"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let existing = new("taken", "job-handler");
    assert_eq!(existing.status.code(), Some(1));
    let (_, stderr) = text(&existing);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_dir(dir.path().join("taken")).unwrap().count(),
        0
    );
}

#[test]
fn call_names_the_field_of_a_bad_input() {
    let output = ava()
        .args(["plugin", "call"])
        .arg(common::plugin_path("misbehave"))
        .args(["--input", r#"{"message": "hi", "persona": {"name": 7}}"#])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let (_, stderr) = text(&output);
    assert!(
        stderr.contains("bad --input for reply: field `persona.name`: invalid type"),
        "{stderr}"
    );

    let output = ava()
        .args(["plugin", "call"])
        .arg(common::plugin_path("misbehave"))
        .args(["--input", "{not json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("--input is not valid JSON"));
}

#[test]
fn call_reports_a_trap_as_the_host_would() {
    let output = ava()
        .args(["plugin", "call"])
        .arg(common::plugin_path("misbehave"))
        .args(["--input", r#"{"message": "panic"}"#])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let (stdout, stderr) = text(&output);
    assert!(
        stderr.contains("error: plugin `misbehave` panicked: panicked at")
            && stderr.contains("misbehave panicked on purpose"),
        "{stderr}"
    );
    assert!(stdout.contains("host calls (0)"), "{stdout}");

    let output = ava()
        .args(["plugin", "call"])
        .arg(common::plugin_path("misbehave"))
        .args(["--input", r#"{"message": "loop"}"#, "--timeout-ms", "100"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let (_, stderr) = text(&output);
    assert!(
        stderr.contains("did not finish within its 100 ms limit"),
        "{stderr}"
    );
}

#[test]
fn call_records_host_calls_in_order_and_refuses_what_is_not_allowed() {
    let output = ava()
        .args(["plugin", "call"])
        .arg(common::plugin_path("misbehave"))
        .args(["--input", r#"{"message": "fetch:http://[100::1]/x"}"#])
        .output()
        .unwrap();
    let stdout = assert_success("a refused fetch", &output);
    assert!(
        stdout.contains("1. http GET http://[100::1]/x -> error: request denied"),
        "{stdout}"
    );
}
