//! A persona cannot poison a user's history: a 15 MB reply is stored cut to
//! `app.max_reply_chars`, every turn sends the persona at most `app.max_history_bytes` of
//! history whatever the database holds (rows written before the bound existed included),
//! and the next persona, with its small memory limit, answers that user as any other.
//! Nor can its error messages flood a user's screen or the log: they are cut too.
//! The attacker is `plugins/hostile`, on both databases.

mod common;

use common::app::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_databases!(
    a_huge_reply_is_cut_and_the_history_stays_usable,
    a_huge_error_message_is_cut_in_the_answer_and_the_stream
);

const CONFIG: &str = r#"
[plugins.persona]
use = "hostile"

[plugin.hostile]
path = "{plugins}/hostile.wasm"
limits = { memory_mib = 128, timeout_ms = 20000 }

# As in ava.toml: the persona a user of the poisoned history is handed to next.
[plugin.local-persona]
path = "{plugins}/local-persona.wasm"
limits = { memory_mib = 32, timeout_ms = 5000 }
"#;

/// 15 MB: under the plugin's 16 MiB output limit, so the host takes the reply.
const HUGE: usize = 15_000_000;
/// The defaults in `[app]`.
const MAX_REPLY_CHARS: usize = 16_000;
const MAX_HISTORY_BYTES: usize = 256 << 10;

async fn chat(t: &TestApp, token: &str, message: &str) -> Value {
    let (status, body) = t.post("/chat", token, json!({ "message": message })).await;
    assert_eq!(status, StatusCode::OK, "{message:.40}: {body:.400}");
    body
}

/// The history the persona said it received: (messages, bytes, memory bytes).
fn received(reply: &Value) -> (usize, usize, usize) {
    let text = reply["reply"]["content"].as_str().unwrap();
    let numbers: Vec<usize> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 3, "{text}");
    (numbers[0], numbers[1], numbers[2])
}

/// The bytes of every message stored for `user_id`.
async fn stored_bytes(t: &TestApp, user_id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(LENGTH(content)), 0) AS BIGINT) FROM messages WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(t.app.state.db.pool())
    .await
    .unwrap()
}

async fn a_huge_reply_is_cut_and_the_history_stays_usable(backend: Backend) {
    let t = TestApp::with_config(backend, CONFIG).await;
    let (victim, victim_id) = t.subscriber("victim@example.com").await;
    let (bystander, _) = t.subscriber("bystander@example.com").await;

    // Two huge replies: each answered, and stored cut at a word, marked as cut.
    for _ in 0..2 {
        let turn = chat(&t, &victim, &format!("reply:{HUGE}")).await;
        let reply = turn["reply"]["content"].as_str().unwrap();
        assert!(reply.chars().count() <= MAX_REPLY_CHARS, "{}", reply.len());
        assert!(reply.chars().count() > MAX_REPLY_CHARS - 200);
        assert!(reply.ends_with("poison…"), "{}", &reply[reply.len() - 40..]);
    }
    let stored = stored_bytes(&t, &victim_id).await;
    assert!(
        stored < 2 * MAX_REPLY_CHARS as i64 + 1_000,
        "{stored} bytes stored"
    );
    let (_, page) = t.get("/messages", &victim).await;
    let longest = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().len())
        .max()
        .unwrap();
    assert!(longest <= MAX_REPLY_CHARS);

    // What the persona is sent next: both cut replies, within the budget.
    let (messages, bytes, _) = received(&chat(&t, &victim, "history").await);
    assert_eq!(messages, 4);
    assert!(bytes <= MAX_HISTORY_BYTES, "{bytes}");

    // Rows written before the bound existed: make the stored replies 15 MB again, as an
    // older Ava would have left them, behind the cache's back.
    let poison = "poison ".repeat(HUGE / 7);
    sqlx::query("UPDATE messages SET content = $1 WHERE user_id = $2 AND role = 'assistant'")
        .bind(&poison)
        .bind(&victim_id)
        .execute(t.app.state.db.pool())
        .await
        .unwrap();
    t.app.state.chat.forget_user(&victim_id);
    let (messages, bytes, _) = received(&chat(&t, &victim, "history").await);
    assert!(bytes <= MAX_HISTORY_BYTES, "{bytes} bytes of history sent");
    assert!(
        messages >= 2,
        "the newest messages are still sent: {messages}"
    );

    // The operator hands the users to local-persona (32 MiB): the poisoned user is
    // answered like everyone else, turn after turn.
    std::fs::write(
        t.dir.path().join("ava.toml"),
        common::render(&CONFIG.replace("use = \"hostile\"", "use = \"local-persona\"")),
    )
    .unwrap();
    let (status, body) = t
        .call(
            Method::POST,
            "/admin/plugins/reload",
            Some("test-operator"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for i in 0..3 {
        let turn = chat(&t, &victim, &format!("are you still there? ({i})")).await;
        assert!(!turn["reply"]["content"].as_str().unwrap().is_empty());
        chat(&t, &bystander, &format!("hello ({i})")).await;
    }
}

/// A 15 MB error message: the user gets the 502 with a short `detail`, in a plain turn and
/// in a stream, and nothing is stored.
async fn a_huge_error_message_is_cut_in_the_answer_and_the_stream(backend: Backend) {
    // The host's bound, `ava_host::plugins::error::MAX_ERROR_MESSAGE_CHARS`.
    const MAX_ERROR_CHARS: usize = 2_000;
    let t = TestApp::with_config(backend, CONFIG).await;
    let (token, user_id) = t.subscriber("flooded@example.com").await;
    let attack = format!("error:{HUGE}");

    let (status, body) = t.post("/chat", &token, json!({ "message": attack })).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body:.400}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.chars().count() <= MAX_ERROR_CHARS,
        "{}",
        detail.len()
    );
    assert!(detail.starts_with("poison"), "{detail:.100}");

    let response = t
        .client
        .request(Method::POST, t.url("/chat/stream"))
        .bearer_auth(&token)
        .json(&json!({ "message": attack }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.len() < 10_000,
        "the stream carried {} bytes",
        text.len()
    );
    assert!(text.contains("event: error"), "{text:.400}");

    assert_eq!(
        stored_bytes(&t, &user_id).await,
        0,
        "a failed turn stores nothing"
    );
    // The user's next turn is answered as usual.
    chat(&t, &token, "hello").await;
}
