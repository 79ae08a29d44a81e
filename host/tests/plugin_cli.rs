//! The plugin author's commands as a real `ava` process: `ava plugin new`, `build`, `call`;
//! then each generated plugin in a real server's config, used as its users would use it.
//!
//! The generated crates are built outside the workspace, like an author's, and share one
//! cargo target folder, so the SDK and serde are compiled once for all four.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ava_host::jobs::NewJob;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
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

/// One request a local server standing in for a provider received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    /// The JSON body; `Null` when there is none.
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a local server received, in order.
type Inbox = Arc<Mutex<Vec<Received>>>;

fn keep(inbox: &Inbox, uri: &Uri, headers: HeaderMap, body: &[u8]) {
    inbox.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    });
}

/// A local server standing in for a provider, and what it received.
struct Upstream {
    server: LocalServer,
    received: Inbox,
}

impl Upstream {
    async fn start(routes: Router<Inbox>) -> Self {
        let received = Inbox::default();
        let server = LocalServer::start(routes.with_state(received.clone())).await;
        Self { server, received }
    }

    /// Its base URL, which is also the entry plugins put in `allow_hosts`.
    fn base(&self) -> String {
        self.server.url("")
    }

    /// The requests received since the last call.
    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

/// Stands in for picsum.photos, which the image template fetches from: every picture is
/// [`PNG`].
async fn picture_server() -> Upstream {
    async fn picture(State(inbox): State<Inbox>, uri: Uri, headers: HeaderMap) -> Vec<u8> {
        keep(&inbox, &uri, headers, b"");
        PNG.to_vec()
    }
    Upstream::start(Router::new().route("/seed/{seed}/{width}/{height}", get(picture))).await
}

/// Stands in for the payment provider's API the billing template speaks.
async fn payment_provider() -> Upstream {
    async fn checkout(
        State(inbox): State<Inbox>,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::Json<Value> {
        keep(&inbox, &uri, headers, &body);
        axum::Json(json!({
            "id": "cs_1",
            "url": "https://pay.example.test/cs_1",
            "customer_id": "cus_1",
        }))
    }
    async fn portal(
        State(inbox): State<Inbox>,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::Json<Value> {
        keep(&inbox, &uri, headers, &body);
        axum::Json(json!({"url": "https://pay.example.test/portal/cus_1"}))
    }
    Upstream::start(
        Router::new()
            .route("/checkout/sessions", post(checkout))
            .route("/portal/sessions", post(portal)),
    )
    .await
}

/// Each kind is generated, tested and built once (the slow part), then called with
/// `ava plugin call` and served by a real server with it in its config.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_is_created_tested_built_called_and_served() {
    let dir = tempfile::tempdir().unwrap();

    let wasm = create_test_and_build(dir.path(), "my-persona", "chat-persona").await;
    a_persona_is_called(&wasm).await;
    a_persona_answers_a_users_turn(&wasm).await;

    let pictures = picture_server().await;
    let wasm = create_test_and_build(dir.path(), "my-images", "image-provider").await;
    an_image_provider_is_called(&wasm, &pictures, dir.path()).await;
    an_image_provider_draws_the_photo_a_user_asks_for(&wasm, &pictures).await;

    let wasm = create_test_and_build(dir.path(), "my-jobs", "job-handler").await;
    a_job_handler_is_called(&wasm).await;
    a_job_handler_runs_queued_jobs_of_its_kind(&wasm).await;

    let provider = payment_provider().await;
    let wasm = create_test_and_build(dir.path(), "my-billing", "billing-provider").await;
    a_billing_provider_is_called(&wasm, &provider).await;
    a_billing_provider_takes_a_user_from_checkout_to_cancellation(&wasm, &provider).await;
}

/// A chat persona: answers from the card and its config, streaming.
async fn a_persona_is_called(wasm: &Path) {
    let mut call = ava();
    call.args(["plugin", "call"]).arg(wasm).args([
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
}

/// A server with the persona in its persona slot answers a subscriber's turn with it.
async fn a_persona_answers_a_users_turn(wasm: &Path) {
    let config = format!(
        "[plugins.persona]\nuse = \"my-persona\"\n\n[plugin.my-persona]\npath = \"{}\"\n\
         config = {{ sign_off = \"Bye.\" }}\n",
        wasm.display()
    );
    let app = TestApp::with_config(Backend::Sqlite, &config).await;
    let (token, _) = app.subscriber("author@example.com").await;
    let (status, turn) = app
        .post("/chat", &token, json!({ "message": "hello" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let reply = turn["reply"]["content"].as_str().unwrap();
    // The user's default persona, through the template's logic and the configured sign-off.
    assert!(
        reply.starts_with("Hi there, Ava here. Noted: \"hello\".") && reply.ends_with(" Bye."),
        "{reply}"
    );
}

/// An image provider: one HTTP call to its base URL, on its allowlist.
async fn an_image_provider_is_called(wasm: &Path, pictures: &Upstream, dir: &Path) {
    let base = pictures.base();
    let out = dir.join("image.png");
    let mut call = ava();
    call.args(["plugin", "call"]).arg(wasm).args([
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
    let received = pictures.take();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].header("authorization"), None);
}

/// A server with the image provider in its images slot and `photo-job` among its job
/// handlers: a subscriber with photos on asks for a selfie, the in-process worker draws it
/// with the provider, and the picture it fetched is the photo served.
async fn an_image_provider_draws_the_photo_a_user_asks_for(wasm: &Path, pictures: &Upstream) {
    let base = pictures.base();
    let config = format!(
        r#"
[plugins.persona]
use = "local-persona"

[plugins.images]
use = "my-images"

[plugins.jobs]
use = ["photo-job"]

[plugin.local-persona]
path = "{{plugins}}/local-persona.wasm"

[plugin.photo-job]
path = "{{plugins}}/photo-job.wasm"
limits = {{ timeout_ms = 30000 }}

[plugin.my-images]
path = "{wasm}"
allow_hosts = ["{base}"]
config = {{ base_url = "{base}" }}
"#,
        wasm = wasm.display()
    );
    let app = TestApp::with_config(Backend::Sqlite, &config).await;
    let (token, _) = app.subscriber("photos@example.com").await;
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            "/preferences",
            Some(&token),
            Some(json!({ "photos_enabled": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, turn) = app
        .post(
            "/chat",
            &token,
            json!({ "message": "send me a selfie please" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["reply"]["photo"]["status"], "pending", "{turn}");
    let id = turn["reply"]["photo"]["id"].as_str().unwrap().to_string();

    let photo = settled_photo(&app, &token, &id).await;
    assert_eq!(photo["status"], "ready", "{photo}");
    assert_eq!(photo["provider"], "my-images", "{photo}");
    assert_eq!(photo["content_type"], "image/png", "{photo}");
    assert_eq!(photo["byte_size"].as_u64(), Some(PNG.len() as u64));
    // One picture fetched, by the persona's seed and the photo's size.
    let seed: i64 = sqlx::query_scalar("SELECT seed FROM photos WHERE id = $1")
        .bind(&id)
        .fetch_one(app.app.state.db.pool())
        .await
        .unwrap();
    let paths: Vec<String> = pictures.take().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [format!(
            "/seed/{seed}/{}/{}",
            photo["width"], photo["height"]
        )]
    );

    let image = app
        .client
        .get(app.url(&format!("/photos/{id}/image")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap(), PNG);
}

/// The photo `id` once it is no longer pending.
async fn settled_photo(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..300 {
        let (status, photo) = app.get(&format!("/photos/{id}"), token).await;
        assert_eq!(status, StatusCode::OK, "{photo}");
        if photo["status"] != "pending" {
            return photo;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("photo {id} is still pending after 30 s");
}

/// A job handler: stores the note in its key-value store.
async fn a_job_handler_is_called(wasm: &Path) {
    let mut call = ava();
    call.args(["plugin", "call"])
        .arg(wasm)
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
}

/// A server with the job handler among its job handlers runs the jobs of its kind put on
/// its queue with its in-process worker: a note is stored under the job's id and the job
/// is acknowledged; an empty note fails for good and reaches the operator's dead letters.
async fn a_job_handler_runs_queued_jobs_of_its_kind(wasm: &Path) {
    let config = format!(
        "[plugins.jobs]\nuse = [\"my-jobs\"]\n\n[plugin.my-jobs]\npath = \"{}\"\n",
        wasm.display()
    );
    let app = TestApp::with_config(Backend::Sqlite, &config).await;
    let queue = &app.app.state.queue;
    let note = NewJob::new("note.save", json!({ "note": "buy milk" }).to_string());
    let empty = NewJob::new("note.save", json!({ "note": " " }).to_string());
    queue.enqueue(&[note.clone(), empty.clone()]).await.unwrap();

    // Settled: acknowledged (and so gone) or dead, neither waiting nor in flight.
    let mut waiting = u64::MAX;
    for _ in 0..300 {
        waiting = queue.depth().await.unwrap();
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 0, "jobs still queued after 30 s");

    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT value FROM plugin_kv WHERE plugin = $1 AND key = $2")
            .bind("my-jobs")
            .bind(format!("note:{}", note.id))
            .fetch_optional(app.app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some(&b"buy milk"[..]));
    let (status, dead) = app
        .call(
            reqwest::Method::GET,
            "/admin/jobs/dead",
            Some("test-operator"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    let dead = dead["jobs"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["id"], empty.id.as_str());
    assert_eq!(dead[0]["attempts"], 1);
    assert_eq!(dead[0]["reason"], "the note is empty");
}

/// A billing provider: checkout through the provider's API with the key filled in by the
/// host, and a webhook verified by an HMAC the host computes.
async fn a_billing_provider_is_called(wasm: &Path, provider: &Upstream) {
    let api = provider.base();
    let billing_call = |method: &str, input: &str| {
        let mut call = ava();
        call.args(["plugin", "call"]).arg(wasm).args([
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
    let received = provider.take();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].header("authorization"),
        Some("Bearer sk_test_cli_1")
    );
    let body = r#"{"id": "evt_1", "type": "payment.succeeded", "user_id": "user-1"}"#;
    let input = json!({
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

/// A server with the billing provider in its billing slot, through the API: the checkout
/// URL is the provider's, a signed webhook makes the subscription active (a forged one
/// changes nothing), the portal opens for the customer the checkout named, and a
/// cancellation ends the subscription.
async fn a_billing_provider_takes_a_user_from_checkout_to_cancellation(
    wasm: &Path,
    provider: &Upstream,
) {
    let api = provider.base();
    // Both secrets generated by the host: no environment to set in a test process.
    let config = format!(
        "[plugins.billing]\nuse = \"my-billing\"\n\n[plugin.my-billing]\npath = \"{}\"\n\
         allow_hosts = [\"{api}\"]\n\
         config = {{ api_base = \"{api}\", api_key = {{ generate = true }}, \
         webhook_secret = {{ generate = true }} }}\n",
        wasm.display()
    );
    let app = TestApp::with_config(Backend::Sqlite, &config).await;
    let secret = |key: &str| {
        let path = app
            .app
            .state
            .settings
            .secrets_dir()
            .join(format!("my-billing.{key}"));
        std::fs::read_to_string(path).unwrap().trim().to_string()
    };
    let bearer = format!("Bearer {}", secret("api_key"));
    let webhook_secret = secret("webhook_secret");
    let (token, user) = app.register("payer@example.com").await;
    let status = billing_status(&app, &token).await;
    assert_eq!(
        (&status["status"], &status["active"]),
        (&json!("none"), &json!(false))
    );

    let response = app
        .client
        .post(app.url("/billing/checkout"))
        .bearer_auth(&token)
        .header("idempotency-key", "attempt-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["checkout_url"], "https://pay.example.test/cs_1");
    let received = provider.take();
    assert_eq!(received.len(), 1, "{received:?}");
    let sent = &received[0];
    assert_eq!(sent.path, "/checkout/sessions");
    assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
    assert_eq!(
        sent.header("idempotency-key"),
        Some(format!("ava-checkout-{user}-attempt-1").as_str())
    );
    assert_eq!(sent.body["user_id"], user.as_str());
    assert_eq!(sent.body["email"], "payer@example.com");
    let success_url = sent.body["success_url"].as_str().unwrap();
    assert!(success_url.starts_with(&app.url("/chat?")), "{success_url}");

    let paid = json!({
        "id": "evt_1",
        "type": "checkout.completed",
        "user_id": user,
        "customer_id": "cus_1",
        "subscription_id": "sub_1",
    })
    .to_string();
    let (status, refused) = deliver(&app, &paid, &hmac_hex("not the secret", &paid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(billing_status(&app, &token).await["status"], "none");
    let (status, receipt) = deliver(&app, &paid, &hmac_hex(&webhook_secret, &paid)).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["outcome"], "applied", "{receipt}");
    let status = billing_status(&app, &token).await;
    assert_eq!(status["status"], "active", "{status}");
    assert_eq!(status["active"], true, "{status}");
    assert_eq!(status["can_manage"], true, "{status}");

    let (status, portal) = app.post("/billing/portal", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{portal}");
    assert_eq!(
        portal["portal_url"],
        "https://pay.example.test/portal/cus_1"
    );
    let received = provider.take();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].path, "/portal/sessions");
    assert_eq!(received[0].header("authorization"), Some(bearer.as_str()));
    assert_eq!(received[0].body["customer_id"], "cus_1");

    let canceled = json!({
        "id": "evt_2",
        "type": "subscription.canceled",
        "user_id": user,
        "subscription_id": "sub_1",
    })
    .to_string();
    let (status, receipt) = deliver(&app, &canceled, &hmac_hex(&webhook_secret, &canceled)).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["outcome"], "applied", "{receipt}");
    let status = billing_status(&app, &token).await;
    assert_eq!(status["status"], "canceled", "{status}");
    assert_eq!(status["active"], false, "{status}");
}

/// `GET /billing/status` for the user of `token`.
async fn billing_status(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get("/billing/status", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Posts `body` to the active provider's webhook route, signed as the template expects.
async fn deliver(app: &TestApp, body: &str, signature: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/billing/webhook"))
        .header("x-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
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
