//! The plugin's behaviour through `TestHost`: what it sends to the API, and what it makes of
//! each answer.

mod check;
mod errors;
mod photos;
mod request;
mod streaming;
mod summarize;

use std::cell::RefCell;
use std::collections::VecDeque;

use ava_sdk::chat::{ChatMessage, ChatMode, ChatRequest, Persona, Role};
use ava_sdk::testing::{MockResponse, TestHost};
use serde_json::{Value, json};

pub const ENDPOINT: &str = "https://api.example.test/v1/chat/completions";

pub fn persona() -> Persona {
    Persona {
        id: "persona-1".into(),
        name: "Mira".into(),
        style: "playful".into(),
        description: "A marine biologist who runs a tiny bookshop on weekends.".into(),
        personality: "Curious, warm, quick to laugh".into(),
        scenario: "Chatting in the evening after work".into(),
        greeting: "Hi {{user}}!".into(),
        example_dialogue: String::new(),
        system_prompt: String::new(),
        post_history_instructions: String::new(),
        appearance: "woman in her late twenties with short black hair and freckles".into(),
    }
}

pub fn message(role: Role, content: &str) -> ChatMessage {
    ChatMessage {
        role,
        content: content.into(),
        sent_at_ms: 0,
    }
}

pub fn request(mode: ChatMode, text: &str) -> ChatRequest {
    ChatRequest {
        persona: persona(),
        mode,
        user_name: Some("Sam".into()),
        memory: Some("Sam is training for a half marathon in May.".into()),
        history: vec![
            message(Role::User, "first question"),
            message(Role::Assistant, "first answer"),
            message(Role::User, "second question"),
            message(Role::Assistant, "second answer"),
        ],
        message: text.into(),
        photos_allowed: true,
    }
}

/// A host configured for the example API, without a key.
pub fn host() -> TestHost {
    TestHost::new()
        .config("base_url", "https://api.example.test/v1/")
        .config("model", "gpt-test")
}

/// A whole completion answering `text`.
pub fn completion(text: &str) -> MockResponse {
    MockResponse::json(
        200,
        &json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-test-2026-01-01",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
        }),
    )
}

/// A whole completion that calls `send_photo` with `arguments`, with `content` beside it.
pub fn photo_call(content: Value, arguments: &Value) -> MockResponse {
    MockResponse::json(
        200,
        &json!({
            "model": "gpt-test-2026-01-01",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "tool_calls": [{
                        "id": "call_abc",
                        "type": "function",
                        "function": {"name": "send_photo", "arguments": arguments.to_string()}
                    }]
                },
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20}
        }),
    )
}

/// Server-sent events, one `data:` line per chunk, each in its own network chunk.
pub fn sse(chunks: &[Value], done: bool) -> MockResponse {
    let mut events: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        events.push("data: [DONE]\n\n".into());
    }
    MockResponse::chunked(200, events).header("content-type", "text/event-stream")
}

/// A stream chunk carrying `text`.
pub fn delta(text: &str) -> Value {
    json!({
        "model": "gpt-test-2026-01-01",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]
    })
}

/// Answers the requests in order with `responses`, then fails the test.
pub fn in_order(host: TestHost, responses: Vec<MockResponse>) -> TestHost {
    let queue = RefCell::new(VecDeque::from(responses));
    host.on_http(move |_| {
        queue
            .borrow_mut()
            .pop_front()
            .expect("the plugin sent more requests than expected")
    })
}

/// The messages of a recorded request.
pub fn messages(body: &Value) -> Vec<Value> {
    body["messages"].as_array().expect("messages").clone()
}

/// The system prompt of a recorded request.
pub fn system_prompt(body: &Value) -> String {
    let first = &body["messages"][0];
    assert_eq!(first["role"], "system");
    first["content"]
        .as_str()
        .expect("system content")
        .to_string()
}
