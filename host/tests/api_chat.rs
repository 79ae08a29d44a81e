//! `/chat`, `/chat/stream`, `/messages`: the paywall, storage, order, failures, streaming and
//! the rolling memory, on SQLite and on PostgreSQL.

mod common;

use std::time::Duration;

use common::app::{Backend, PLUGINS, TestApp};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_databases!(
    chat_without_a_subscription_is_402,
    chat_with_a_subscription_stores_the_message_and_the_reply,
    a_canceled_subscription_is_402_again,
    the_paywall_can_be_turned_off,
    concurrent_messages_keep_their_order,
    two_replicas_share_one_conversation_in_order,
    a_streamed_turn_follows_another_replicas_turn,
    a_failing_plugin_stores_nothing,
    the_last_reply_can_be_regenerated,
    editing_a_message_continues_from_it,
    messages_come_in_pages_with_a_cursor,
    a_streamed_reply_arrives_in_pieces_and_is_stored,
    a_streamed_reply_is_stored_even_if_the_client_leaves,
    old_turns_are_folded_into_a_memory_sent_with_later_turns,
    readiness_checks_the_database,
);

const MISBEHAVING_PERSONA: &str = r#"
[plugins.persona]
use = "misbehave"

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
limits = { timeout_ms = 1500 }
"#;

/// A tiny window, so a few turns are enough to fold.
const FORGETFUL_PERSONA: &str = r#"
[app]
history_window = 4
summarize_batch = 2

[plugins.persona]
use = "misbehave"

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
limits = { timeout_ms = 1500 }
"#;

async fn history(t: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = t.get("/messages?limit=200", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["messages"].as_array().unwrap().clone()
}

/// Each replica caches the conversation between turns; a turn on one after a turn on the
/// other must still come after it (the stale replica notices, reloads and answers again).
async fn two_replicas_share_one_conversation_in_order(backend: Backend) {
    let a = TestApp::start(backend).await;
    let b = a.replica().await;
    let (token, _) = a.subscriber("two@example.com").await;
    for (replica, text) in [(&a, "one"), (&b, "two"), (&a, "three"), (&b, "four")] {
        let (status, body) = replica
            .post("/chat", &token, json!({ "message": text }))
            .await;
        assert_eq!(status, StatusCode::OK, "{text}: {body}");
        assert_eq!(body["message"]["content"], text);
    }
    let messages = history(&b, &token).await;
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7, 8], "{messages:?}");
    let users: Vec<&str> = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["one", "two", "three", "four"]);
}

/// A user on two devices can be routed to two replicas. A streamed turn on a replica whose
/// cache is behind must see the other's turn before the persona answers: once the reply has
/// been streamed it can no longer be answered again.
async fn a_streamed_turn_follows_another_replicas_turn(backend: Backend) {
    let a = TestApp::start(backend).await;
    let b = a.replica().await;
    let (token, _) = a.subscriber("devices@example.com").await;
    for (replica, text) in [(&b, "on the phone"), (&a, "on the laptop")] {
        let (status, body) = replica
            .post("/chat", &token, json!({ "message": text }))
            .await;
        assert_eq!(status, StatusCode::OK, "{text}: {body}");
    }
    let response = open_stream(&b, &token, "back on the phone").await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(response).await;
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    assert_eq!(done["message"]["seq"], 5, "{done}");
    assert_eq!(done["reply"]["seq"], 6, "{done}");
    let users: Vec<String> = history(&a, &token)
        .await
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        users,
        ["on the phone", "on the laptop", "back on the phone"]
    );
}

async fn chat_without_a_subscription_is_402(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("free@example.com").await;
    let (status, body) = t.post("/chat", &token, json!({ "message": "hello" })).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(body, json!({ "detail": "Subscription required" }));
    let stream = open_stream(&t, &token, "hello").await;
    assert_eq!(stream.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        stream.json::<Value>().await.unwrap()["detail"],
        "Subscription required"
    );
    assert!(history(&t, &token).await.is_empty());
}

async fn chat_with_a_subscription_stores_the_message_and_the_reply(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.subscriber("paid@example.com").await;
    let (status, turn) = t
        .post("/chat", &token, json!({ "message": "  Good morning!  " }))
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["message"]["role"], "user");
    assert_eq!(turn["message"]["content"], "Good morning!");
    assert_eq!(turn["reply"]["role"], "assistant");
    assert!(!turn["reply"]["content"].as_str().unwrap().is_empty());
    let stored = history(&t, &token).await;
    assert_eq!(stored, vec![turn["message"].clone(), turn["reply"].clone()]);

    let (status, body) = t.post("/chat", &token, json!({ "message": "   " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "message");
}

async fn a_canceled_subscription_is_402_again(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, id) = t.subscriber("leaver@example.com").await;
    assert_eq!(
        t.post("/chat", &token, json!({ "message": "hi" })).await.0,
        StatusCode::OK
    );
    t.set_subscription(&id, "past_due").await;
    assert_eq!(
        t.post("/chat", &token, json!({ "message": "hi" })).await.0,
        StatusCode::OK
    );
    t.set_subscription(&id, "canceled").await;
    assert_eq!(
        t.post("/chat", &token, json!({ "message": "hi" })).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
}

async fn the_paywall_can_be_turned_off(backend: Backend) {
    let t = TestApp::with_config(backend, &format!("[app]\npaywall = false\n{PLUGINS}")).await;
    let (token, _) = t.register("selfhost@example.com").await;
    let (status, body) = t.post("/chat", &token, json!({ "message": "hello" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn concurrent_messages_keep_their_order(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.subscriber("busy@example.com").await;
    let sends = (0..10).map(|i| {
        let (t, token) = (&t, token.clone());
        async move {
            t.post(
                "/chat",
                &token,
                json!({ "message": format!("message {i}") }),
            )
            .await
        }
    });
    for (status, body) in futures::future::join_all(sends).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let stored = history(&t, &token).await;
    assert_eq!(stored.len(), 20);
    for (i, pair) in stored.chunks(2).enumerate() {
        assert_eq!(pair[0]["role"], "user", "{stored:#?}");
        assert_eq!(pair[1]["role"], "assistant", "{stored:#?}");
        assert_eq!(pair[0]["seq"].as_i64().unwrap(), 2 * i as i64 + 1);
        assert_eq!(pair[1]["seq"].as_i64().unwrap(), 2 * i as i64 + 2);
    }
    let mut sent: Vec<&str> = stored
        .iter()
        .step_by(2)
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        (0..10).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
}

async fn a_failing_plugin_stores_nothing(backend: Backend) {
    let t = TestApp::with_config(backend, MISBEHAVING_PERSONA).await;
    let (token, _) = t.subscriber("unlucky@example.com").await;
    assert_eq!(
        t.post("/chat", &token, json!({ "message": "hello" }))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = t.post("/chat", &token, json!({ "message": "panic" })).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["detail"], "The plugin failed");
    let (status, body) = t.post("/chat", &token, json!({ "message": "loop" })).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["detail"], "The plugin took too long");
    assert_eq!(
        history(&t, &token).await.len(),
        2,
        "a failed turn left messages behind"
    );
}

async fn the_last_reply_can_be_regenerated(backend: Backend) {
    let t = TestApp::with_config(backend, MISBEHAVING_PERSONA).await;
    let (token, _) = t.subscriber("again@example.com").await;
    t.post("/chat", &token, json!({ "message": "first" })).await;
    t.post("/chat", &token, json!({ "message": "count" })).await;
    let before = history(&t, &token).await;
    let (status, turn) = t
        .call(Method::POST, "/chat/regenerate", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let after = history(&t, &token).await;
    assert_eq!(after.len(), before.len());
    assert_eq!(after[..3], before[..3], "only the last reply changes");
    assert_eq!(after[3]["seq"], before[3]["seq"]);
    assert_ne!(after[3]["id"], before[3]["id"]);
    assert_eq!(after[3], turn["reply"]);

    let (t2, _) = (TestApp::with_config(backend, MISBEHAVING_PERSONA).await, ());
    let (fresh, _) = t2.subscriber("empty@example.com").await;
    let (status, body) = t2
        .call(Method::POST, "/chat/regenerate", Some(&fresh), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

async fn editing_a_message_continues_from_it(backend: Backend) {
    let t = TestApp::with_config(backend, MISBEHAVING_PERSONA).await;
    let (token, _) = t.subscriber("editor@example.com").await;
    for m in ["one", "two", "three"] {
        t.post("/chat", &token, json!({ "message": m })).await;
    }
    let before = history(&t, &token).await;
    let second = before[2]["id"].as_str().unwrap();
    let (status, turn) = t
        .call(
            Method::PUT,
            &format!("/messages/{second}"),
            Some(&token),
            Some(json!({ "content": "inspect" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let after = history(&t, &token).await;
    assert_eq!(after.len(), 4, "the turns after the edit are gone");
    assert_eq!(after[2]["id"], before[2]["id"]);
    assert_eq!(after[2]["content"], "inspect");
    // The new reply was written from the history before the edited message.
    let seen: Value = serde_json::from_str(after[3]["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        seen["history"],
        json!(["user: one", "assistant: misbehave: one"])
    );

    let reply = after[3]["id"].as_str().unwrap();
    let (status, _) = t
        .call(
            Method::PUT,
            &format!("/messages/{reply}"),
            Some(&token),
            Some(json!({ "content": "x" })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a reply is not the user's to edit"
    );
}

async fn messages_come_in_pages_with_a_cursor(backend: Backend) {
    let t = TestApp::with_config(backend, MISBEHAVING_PERSONA).await;
    let (token, _) = t.subscriber("pager@example.com").await;
    for i in 0..5 {
        t.post("/chat", &token, json!({ "message": format!("m{i}") }))
            .await;
    }
    let (_, page1) = t.get("/messages?limit=4", &token).await;
    let seqs = |page: &Value| -> Vec<i64> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&page1), vec![7, 8, 9, 10]);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = t
        .get(&format!("/messages?limit=4&before={cursor}"), &token)
        .await;
    assert_eq!(seqs(&page2), vec![3, 4, 5, 6]);
    let cursor = page2["next_cursor"].as_str().unwrap();
    let (_, page3) = t
        .get(&format!("/messages?limit=4&before={cursor}"), &token)
        .await;
    assert_eq!(seqs(&page3), vec![1, 2]);
    assert!(page3["next_cursor"].is_null());
    let (status, bad) = t.get("/messages?before=abc", &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["field"], "before");
}

/// `POST /chat/stream` with `message`; the response as it starts.
async fn open_stream(t: &TestApp, token: &str, message: &str) -> reqwest::Response {
    t.client
        .post(t.url("/chat/stream"))
        .bearer_auth(token)
        .json(&json!({ "message": message }))
        .send()
        .await
        .unwrap()
}

/// The events of a server-sent event stream, as `(event, data)`.
async fn read_events(response: reqwest::Response) -> Vec<(String, Value)> {
    let body = response.text().await.unwrap();
    let mut parser = ava_sdk::sse::SseParser::default();
    parser.feed(body.as_bytes());
    let mut events = Vec::new();
    while let Some(e) = parser.next_event() {
        events.push((e.event, serde_json::from_str(&e.data).unwrap()));
    }
    events.extend(
        parser
            .finish()
            .map(|e| (e.event, serde_json::from_str(&e.data).unwrap())),
    );
    events
}

async fn a_streamed_reply_arrives_in_pieces_and_is_stored(backend: Backend) {
    let t = TestApp::with_config(backend, MISBEHAVING_PERSONA).await;
    let (token, _) = t.subscriber("streamer@example.com").await;
    let response = open_stream(&t, &token, "slow-stream:4:10").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = read_events(response).await;
    let deltas: Vec<&str> = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["word0 ", "word1 ", "word2 ", "word3 "]);
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done");
    assert_eq!(done["reply"]["content"], "word0 word1 word2 word3 ");
    assert_eq!(history(&t, &token).await[1], done["reply"]);

    // A plugin failure mid-stream ends with an error event and stores nothing.
    let response = open_stream(&t, &token, "panic").await;
    let events = read_events(response).await;
    let (last, error) = events.last().unwrap();
    assert_eq!(last, "error");
    assert_eq!(error["status"], 502);
    assert_eq!(history(&t, &token).await.len(), 2);
}

async fn a_streamed_reply_is_stored_even_if_the_client_leaves(backend: Backend) {
    let t = TestApp::with_config(backend, MISBEHAVING_PERSONA).await;
    let (token, _) = t.subscriber("quitter@example.com").await;
    let response = open_stream(&t, &token, "slow-stream:10:60").await;
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("word0"));
    drop(body);

    // The turn finishes on the server: 10 pieces, 60 ms apart.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = history(&t, &token).await;
        if stored.len() == 2 {
            let full: String = (0..10).map(|i| format!("word{i} ")).collect();
            assert_eq!(stored[1]["content"], full);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reply was never stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn old_turns_are_folded_into_a_memory_sent_with_later_turns(backend: Backend) {
    // Window 4, batch 2: after 3 turns (6 messages) the oldest 2 are folded.
    let t = TestApp::with_config(backend, FORGETFUL_PERSONA).await;
    let (token, _) = t.subscriber("remember@example.com").await;
    for m in ["alpha", "beta", "gamma"] {
        t.post("/chat", &token, json!({ "message": m })).await;
    }
    // Folding runs after the turn; wait for it to land.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let (_, turn) = t
            .post("/chat", &token, json!({ "message": "inspect" }))
            .await;
        let seen: Value = serde_json::from_str(turn["reply"]["content"].as_str().unwrap()).unwrap();
        if !seen["memory"].is_null() {
            break seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no memory was ever sent: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        seen["memory"].as_str().unwrap().starts_with("memory("),
        "{seen}"
    );
    let history = seen["history"].as_array().unwrap();
    assert!(history.len() <= 4, "{seen}");
    assert!(
        !history
            .iter()
            .any(|m| m.as_str().unwrap().ends_with("alpha")),
        "folded messages are not sent again: {seen}"
    );
}

/// The calls `/admin/plugins` has counted for `plugin`.
async fn plugin_calls(t: &TestApp, plugin: &str) -> u64 {
    let stats = t.plugin_stats().await;
    let of = stats
        .get(plugin)
        .unwrap_or_else(|| panic!("{plugin} is not loaded: {stats:?}"));
    of["calls"].as_u64().unwrap()
}

/// A persona without `summarize` (the SDK's default answers `unsupported`) is asked once,
/// not again on every turn once the conversation is past the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persona_that_does_not_summarize_is_asked_once() {
    let config = FORGETFUL_PERSONA
        .replace("use = \"misbehave\"", "use = \"hostile\"")
        .replace(
            "[plugin.misbehave]\npath = \"{plugins}/misbehave.wasm\"",
            "[plugin.hostile]\npath = \"{plugins}/hostile.wasm\"",
        );
    let t = TestApp::with_config(Backend::Sqlite, &config).await;
    let (token, _) = t.subscriber("nosummary@example.com").await;
    let turn = async |i: usize| {
        let (status, body) = t
            .post("/chat", &token, json!({ "message": format!("turn {i}") }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    };
    // Window 4, batch 2: the fourth turn finds the conversation due and asks.
    for i in 0..4 {
        turn(i).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = plugin_calls(&t, "hostile").await;
    for i in 4..12 {
        turn(i).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        plugin_calls(&t, "hostile").await,
        asked + 8,
        "summarize was asked again"
    );
}

async fn readiness_checks_the_database(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (status, body) = t.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"]["ok"], true);
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["checks"]["database"]["backend"], expected);
    assert_eq!(body["checks"]["queue"]["ok"], true);
    assert_eq!(body["checks"]["queue"]["backend"], "embedded");
    assert_eq!(body["checks"]["queue"]["depth"], 0);
    assert_eq!(
        body["checks"]["plugins"]["loaded"][0]["name"],
        "local-persona"
    );
}
