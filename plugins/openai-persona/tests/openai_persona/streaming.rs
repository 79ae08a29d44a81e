//! Streamed replies: text pushed as it arrives, tool calls assembled from fragments.

use ava_sdk::chat::{ChatMode, ChatPersona, ChatReply, TokenUsage};
use ava_sdk::testing::MockResponse;
use ava_sdk::{HttpError, PluginError};
use openai_persona::OpenAiPersona;
use serde_json::{Value, json};

use super::*;

fn tool_fragment(index: usize, id: Option<&str>, name: Option<&str>, arguments: &str) -> Value {
    let mut function = json!({"arguments": arguments});
    if let Some(name) = name {
        function["name"] = json!(name);
    }
    let mut call = json!({"index": index, "function": function});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    json!({
        "model": "gpt-test-2026-01-01",
        "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]
    })
}

fn stream_reply(host: &TestHost, request: ChatRequest) -> Result<ChatReply, PluginError> {
    host.run(|| OpenAiPersona::stream_reply(request))
}

#[test]
fn content_chunks_are_pushed_in_order_and_form_the_reply() {
    let host = host().on_http(|_| {
        sse(
            &[
                delta("Hey"),
                delta(" Sam,"),
                delta(" how was"),
                delta(" the run?"),
            ],
            true,
        )
    });
    let reply = stream_reply(&host, request(ChatMode::Intimate, "hi")).unwrap();
    assert_eq!(host.pushed(), ["Hey", " Sam,", " how was", " the run?"]);
    assert_eq!(reply.text, "Hey Sam, how was the run?");
    assert_eq!(reply.model.as_deref(), Some("gpt-test-2026-01-01"));
}

#[test]
fn the_streamed_request_asks_for_events_and_usage() {
    let host = host().on_http(|_| sse(&[delta("Hi")], true));
    stream_reply(&host, request(ChatMode::Intimate, "hi")).unwrap();
    let body = host.requests()[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[test]
fn usage_from_the_last_chunk_is_reported() {
    let host = host().on_http(|_| {
        sse(
            &[
                delta("Hi"),
                json!({"model": "gpt-test-2026-01-01", "choices": [], "usage": {"prompt_tokens": 80, "completion_tokens": 2}}),
            ],
            true,
        )
    });
    let reply = stream_reply(&host, request(ChatMode::Intimate, "hi")).unwrap();
    assert_eq!(
        reply.usage,
        Some(TokenUsage {
            prompt_tokens: 80,
            completion_tokens: 2
        })
    );
}

#[test]
fn events_split_across_network_chunks_are_reassembled() {
    let host = host().on_http(|_| {
        let body = format!(
            "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            delta("Bonjour"),
            delta(" Sam")
        );
        let bytes = body.into_bytes();
        let pieces: Vec<Vec<u8>> = bytes.chunks(7).map(<[u8]>::to_vec).collect();
        MockResponse::chunked(200, pieces)
    });
    let reply = stream_reply(&host, request(ChatMode::Intimate, "salut")).unwrap();
    assert_eq!(reply.text, "Bonjour Sam");
    assert_eq!(host.pushed(), ["Bonjour", " Sam"]);
}

#[test]
fn a_tool_call_split_across_chunks_becomes_a_photo() {
    let host = in_order(
        host(),
        vec![
            sse(
                &[
                    tool_fragment(0, Some("call_xyz"), Some("send_photo"), ""),
                    tool_fragment(0, None, None, "{\"scene\": \"on a windy beach"),
                    tool_fragment(0, None, None, " at sunset\", \"capt"),
                    tool_fragment(0, None, None, "ion\": \"Miss you\"}"),
                ],
                true,
            ),
            sse(&[delta("Took this"), delta(" just now!")], true),
        ],
    );
    let reply = stream_reply(&host, request(ChatMode::Intimate, "can I see you?")).unwrap();
    let photo = reply.photo.expect("a photo");
    assert_eq!(
        photo.prompt,
        "woman in her late twenties with short black hair and freckles, on a windy beach at sunset"
    );
    assert_eq!(photo.caption.as_deref(), Some("Miss you"));
    assert_eq!(reply.text, "Took this just now!");
    assert_eq!(host.pushed(), ["Took this", " just now!"]);

    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    let follow_up = requests[1].json();
    assert_eq!(follow_up["stream"], true);
    assert!(follow_up.get("tools").is_none());
    let after = messages(&follow_up);
    let call = &after[after.len() - 2];
    assert_eq!(call["tool_calls"][0]["id"], "call_xyz");
    assert_eq!(
        call["tool_calls"][0]["function"]["arguments"],
        "{\"scene\": \"on a windy beach at sunset\", \"caption\": \"Miss you\"}"
    );
    assert_eq!(after[after.len() - 1]["tool_call_id"], "call_xyz");
}

#[test]
fn a_stream_without_done_still_completes() {
    let host = host().on_http(|_| sse(&[delta("All"), delta(" good")], false));
    let reply = stream_reply(&host, request(ChatMode::Secretary, "status?")).unwrap();
    assert_eq!(reply.text, "All good");
}

#[test]
fn an_error_object_in_the_stream_is_an_upstream_error() {
    let host = host().on_http(|_| {
        sse(
            &[
                delta("Hel"),
                json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "code": "server_error"}}),
            ],
            false,
        )
    });
    let err = stream_reply(&host, request(ChatMode::Secretary, "hi")).unwrap_err();
    assert_eq!(
        err,
        PluginError::upstream(
            None,
            Some("server_error".into()),
            "The server had an error while processing your request."
        )
    );
}

#[test]
fn a_rate_limit_before_the_stream_is_unavailable() {
    let host = host().on_http(|_| {
        MockResponse::json(
            429,
            &json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        )
        .header("retry-after-ms", "1500")
    });
    let err = stream_reply(&host, request(ChatMode::Secretary, "hi")).unwrap_err();
    assert!(
        matches!(&err, PluginError::Unavailable(u) if u.retry_after_ms == Some(1_500)),
        "{err:?}"
    );
    assert!(host.pushed().is_empty());
}

#[test]
fn a_stream_that_breaks_midway_is_unavailable() {
    let host = host().on_http(|_| {
        MockResponse::chunked(200, [format!("data: {}\n\n", delta("Hel"))])
            .then_fail(HttpError::Connection("reset".into()))
    });
    let err = stream_reply(&host, request(ChatMode::Secretary, "hi")).unwrap_err();
    assert!(matches!(err, PluginError::Unavailable(_)), "{err:?}");
}

#[test]
fn a_server_that_ignores_stream_is_read_whole() {
    let host = host().on_http(|_| completion("Not streamed, sorry."));
    let reply = stream_reply(&host, request(ChatMode::Secretary, "hi")).unwrap();
    assert_eq!(reply.text, "Not streamed, sorry.");
    assert_eq!(host.pushed(), ["Not streamed, sorry."]);
}
