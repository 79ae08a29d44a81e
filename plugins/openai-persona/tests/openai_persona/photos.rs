//! Replies, and photos decided by the model: the `send_photo` tool and classify mode.

use ava_sdk::PluginError;
use ava_sdk::chat::{ChatMode, ChatPersona, PhotoRequest, TokenUsage};
use openai_persona::OpenAiPersona;
use serde_json::json;

use super::*;

const NEGATIVE: &str = "blurry, distorted, deformed, extra limbs, text, watermark";

fn beach_photo(caption: Option<&str>) -> PhotoRequest {
    PhotoRequest {
        prompt: "woman in her late twenties with short black hair and freckles, \
                 on a windy beach at sunset, smiling, denim jacket"
            .into(),
        negative_prompt: Some(NEGATIVE.into()),
        caption: caption.map(Into::into),
    }
}

#[test]
fn a_reply_carries_the_text_the_model_and_the_usage() {
    let host = host().on_http(|_| completion("  Hello Sam! How was the run?  "));
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "hey")))
        .unwrap();
    assert_eq!(reply.text, "Hello Sam! How was the run?");
    assert_eq!(reply.model.as_deref(), Some("gpt-test-2026-01-01"));
    assert_eq!(
        reply.usage,
        Some(TokenUsage {
            prompt_tokens: 120,
            completion_tokens: 30
        })
    );
    assert_eq!(reply.photo, None);
}

#[test]
fn the_photo_tool_is_offered_when_photos_are_allowed() {
    let host = host().on_http(|_| completion("Hi!"));
    host.run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "hey")))
        .unwrap();
    let body = host.requests()[0].json();
    assert_eq!(body["tool_choice"], "auto");
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    let function = &tools[0]["function"];
    assert_eq!(tools[0]["type"], "function");
    assert_eq!(function["name"], "send_photo");
    assert_eq!(function["parameters"]["required"], json!(["scene"]));
    assert_eq!(
        function["parameters"]["properties"]["scene"]["type"],
        "string"
    );
    assert_eq!(
        function["parameters"]["properties"]["caption"]["type"],
        "string"
    );
}

#[test]
fn no_tool_is_offered_when_photos_are_not_allowed() {
    let host = host().on_http(|_| completion("Hi!"));
    let mut req = request(ChatMode::Intimate, "send me a selfie");
    req.photos_allowed = false;
    host.run(|| OpenAiPersona::reply(req)).unwrap();
    let body = host.requests()[0].json();
    assert!(body.get("tools").is_none(), "{body}");
    assert!(body.get("tool_choice").is_none(), "{body}");
    assert!(system_prompt(&body).contains("cannot send photos right now"));
}

#[test]
fn a_photo_tool_call_with_words_becomes_a_photo_request() {
    let host = host().on_http(|_| {
        photo_call(
            json!("Here you go, fresh from the beach!"),
            &json!({"scene": "on a windy beach at sunset, smiling, denim jacket", "caption": "Wish you were here"}),
        )
    });
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "can I see you?")))
        .unwrap();
    assert_eq!(reply.text, "Here you go, fresh from the beach!");
    assert_eq!(reply.photo, Some(beach_photo(Some("Wish you were here"))));
    assert_eq!(
        host.requests().len(),
        1,
        "no follow-up when there are words"
    );
}

#[test]
fn a_wordless_photo_tool_call_is_followed_up_with_the_tool_result() {
    let host = in_order(
        host(),
        vec![
            photo_call(
                json!(null),
                &json!({"scene": "on a windy beach at sunset, smiling, denim jacket", "caption": "Wish you were here"}),
            ),
            completion("Just took this for you!"),
        ],
    );
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "selfie?")))
        .unwrap();
    assert_eq!(reply.text, "Just took this for you!");
    assert_eq!(reply.photo, Some(beach_photo(Some("Wish you were here"))));

    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    let first = messages(&requests[0].json());
    let follow_up = requests[1].json();
    let after = messages(&follow_up);
    assert_eq!(after[..first.len()], first[..], "the same messages first");
    assert_eq!(after.len(), first.len() + 2);
    let call = &after[first.len()];
    assert_eq!(call["role"], "assistant");
    assert_eq!(call["tool_calls"][0]["id"], "call_abc");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "send_photo");
    assert_eq!(
        after[first.len() + 1],
        json!({
            "role": "tool",
            "tool_call_id": "call_abc",
            "content": "The photo is being taken and will appear in the chat shortly."
        })
    );
    assert!(follow_up.get("tools").is_none(), "{follow_up}");
}

#[test]
fn the_follow_up_adds_to_the_token_usage() {
    let host = in_order(
        host(),
        vec![
            photo_call(json!(""), &json!({"scene": "at the gym"})),
            completion("Post-workout glow!"),
        ],
    );
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "pic?")))
        .unwrap();
    assert_eq!(
        reply.usage,
        Some(TokenUsage {
            prompt_tokens: 220,
            completion_tokens: 50
        })
    );
}

#[test]
fn a_tool_call_is_ignored_when_photos_are_not_allowed() {
    // The tool was not offered; a model that calls it anyway sends no photo.
    let host = host().on_http(|_| photo_call(json!("Sorry, not now."), &json!({"scene": "x"})));
    let mut req = request(ChatMode::Intimate, "pic?");
    req.photos_allowed = false;
    let reply = host.run(|| OpenAiPersona::reply(req)).unwrap();
    assert_eq!(reply.photo, None);
    assert_eq!(reply.text, "Sorry, not now.");
}

fn classify_host(verdict: &str) -> TestHost {
    in_order(
        host().config("photo_intent", "classify"),
        vec![completion(verdict), completion("Here I am!")],
    )
}

#[test]
fn classify_mode_sends_a_photo_when_the_model_says_so() {
    let host = classify_host(
        r#"{"photo": true, "scene": "on a windy beach at sunset, smiling, denim jacket", "caption": "Wish you were here"}"#,
    );
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "show me where you are")))
        .unwrap();
    assert_eq!(reply.photo, Some(beach_photo(Some("Wish you were here"))));
    assert_eq!(reply.text, "Here I am!");

    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    let classify = requests[0].json();
    assert_eq!(classify["response_format"], json!({"type": "json_object"}));
    assert!(
        classify["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("show me where you are")
    );
    let reply_body = requests[1].json();
    assert!(reply_body.get("tools").is_none(), "{reply_body}");
    assert!(reply_body.get("response_format").is_none(), "{reply_body}");
    assert!(system_prompt(&reply_body).contains("A photo of you is being sent"));
}

#[test]
fn classify_mode_counts_the_classify_tokens_in_the_usage() {
    let host = classify_host(r#"{"photo": false}"#);
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "hi")))
        .unwrap();
    assert_eq!(
        reply.usage,
        Some(TokenUsage {
            prompt_tokens: 240,
            completion_tokens: 60
        })
    );
}

#[test]
fn classify_mode_sends_no_photo_when_the_model_says_no() {
    let host = classify_host(r#"{"photo": false, "scene": "", "caption": ""}"#);
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "I saw a photo of a whale")))
        .unwrap();
    assert_eq!(reply.photo, None);
    assert_eq!(reply.text, "Here I am!");
    assert_eq!(host.requests().len(), 2);
}

#[test]
fn classify_mode_reads_json_wrapped_in_prose() {
    let host = classify_host(
        "Sure! Here is my answer:\n```json\n{\"photo\": true, \"scene\": \"on a windy beach at sunset, smiling, denim jacket\"}\n```\nHope that helps.",
    );
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "selfie pls")))
        .unwrap();
    assert_eq!(reply.photo, Some(beach_photo(None)));
}

#[test]
fn classify_mode_treats_garbage_as_no_photo() {
    let host = classify_host("yes, definitely send a photo!!");
    let reply = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "selfie pls")))
        .unwrap();
    assert_eq!(reply.photo, None);
    assert_eq!(reply.text, "Here I am!");
}

#[test]
fn classify_mode_asks_nothing_when_photos_are_not_allowed() {
    let host = host()
        .config("photo_intent", "classify")
        .on_http(|_| completion("Hi!"));
    let mut req = request(ChatMode::Intimate, "selfie pls");
    req.photos_allowed = false;
    host.run(|| OpenAiPersona::reply(req)).unwrap();
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn an_empty_reply_without_a_photo_is_an_upstream_error() {
    let host = host().on_http(|_| completion("   "));
    let err = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Secretary, "hello")))
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(u) if u.message.contains("empty reply")),
        "{err:?}"
    );
}

#[test]
fn the_log_names_model_tokens_and_photo_but_never_the_conversation() {
    let host = host().on_http(|_| {
        photo_call(
            json!("Here you go, my secret beach"),
            &json!({"scene": "on a hidden beach", "caption": "our place"}),
        )
    });
    host.run(|| OpenAiPersona::reply(request(ChatMode::Intimate, "my private question")))
        .unwrap();
    let logs: Vec<String> = host.logs().into_iter().map(|(_, line)| line).collect();
    let all = logs.join("\n");
    assert!(all.contains("gpt-test-2026-01-01"), "{all}");
    assert!(all.contains("100 prompt + 20 completion tokens"), "{all}");
    assert!(all.contains("photo requested: true"), "{all}");
    for secret in [
        "private question",
        "secret beach",
        "hidden beach",
        "our place",
        "Mira",
        "Sam",
    ] {
        assert!(!all.contains(secret), "{secret} leaked into: {all}");
    }
}
