//! What a reply request sends.

use ava_sdk::chat::{ChatMode, ChatPersona};
use openai_persona::OpenAiPersona;
use serde_json::{Value, json};

use super::*;

/// The body of the one request a reply sends with `host`.
fn sent(host: TestHost, request: ChatRequest) -> (Value, ava_sdk::testing::RecordedRequest) {
    let host = host.on_http(|_| completion("Hi!"));
    host.run(|| OpenAiPersona::reply(request)).unwrap();
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    (requests[0].json(), requests[0].clone())
}

#[test]
fn the_request_goes_to_chat_completions_under_the_base_url() {
    let (_, recorded) = sent(host(), request(ChatMode::Secretary, "hello"));
    assert_eq!(recorded.url, ENDPOINT);
    assert_eq!(recorded.method, ava_sdk::HttpMethod::Post);
    assert_eq!(recorded.header("content-type"), Some("application/json"));
}

#[test]
fn the_configured_model_and_sampling_are_sent() {
    let host = host()
        .config("temperature", "0.3")
        .config("max_tokens", "250");
    let (body, _) = sent(host, request(ChatMode::Secretary, "hello"));
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["temperature"], 0.3);
    assert_eq!(body["max_tokens"], 250);
}

#[test]
fn default_sampling_is_sent_when_not_configured() {
    let (body, _) = sent(host(), request(ChatMode::Secretary, "hello"));
    assert_eq!(body["temperature"], 0.8);
    assert_eq!(body["max_tokens"], 400);
    assert!(body.get("stream").is_none());
}

#[test]
fn the_system_prompt_describes_the_persona() {
    let (body, _) = sent(host(), request(ChatMode::Secretary, "hello"));
    let system = system_prompt(&body);
    assert!(system.contains("You are Mira"), "{system}");
    assert!(system.contains("marine biologist"), "{system}");
    assert!(system.contains("Curious, warm"), "{system}");
    assert!(system.contains("short black hair and freckles"), "{system}");
}

#[test]
fn the_system_prompt_follows_the_mode() {
    let (secretary, _) = sent(host(), request(ChatMode::Secretary, "hello"));
    let (intimate, _) = sent(host(), request(ChatMode::Intimate, "hello"));
    let secretary = system_prompt(&secretary);
    let intimate = system_prompt(&intimate);
    assert!(secretary.contains("personal assistant"), "{secretary}");
    assert!(!secretary.contains("flirtatious"), "{secretary}");
    assert!(intimate.contains("flirtatious companion"), "{intimate}");
    assert!(
        intimate.contains("Never write sexually explicit"),
        "{intimate}"
    );
}

#[test]
fn the_system_prompt_names_the_user_and_holds_the_memory() {
    let (body, _) = sent(host(), request(ChatMode::Intimate, "hello"));
    let system = system_prompt(&body);
    assert!(system.contains("The user's name is Sam."), "{system}");
    assert!(
        system.contains(
            "What you remember from earlier: Sam is training for a half marathon in May."
        ),
        "{system}"
    );
}

#[test]
fn the_system_prompt_keeps_the_persona_in_character_and_language() {
    let (body, _) = sent(host(), request(ChatMode::Secretary, "hello"));
    let system = system_prompt(&body);
    assert!(system.contains("Stay in character as Mira"), "{system}");
    assert!(system.contains("Never mention being an AI"), "{system}");
    assert!(system.contains("language the user writes in"), "{system}");
}

#[test]
fn an_unnamed_user_is_the_user() {
    let mut req = request(ChatMode::Secretary, "hello");
    req.user_name = None;
    req.persona.description = "{{char}} works for {{user}}.".into();
    let (body, _) = sent(host(), req);
    let system = system_prompt(&body);
    assert!(system.contains("Mira works for the user."), "{system}");
    assert!(!system.contains("{{"), "{system}");
}

#[test]
fn example_dialogue_is_given_as_style_examples() {
    let mut req = request(ChatMode::Secretary, "hello");
    req.persona.example_dialogue =
        "<START>\n{{user}}: hi\n{{char}}: Oh hey, you!\n<START>\n{{user}}: bye\n{{char}}: Already?"
            .into();
    let (body, _) = sent(host(), req);
    let system = system_prompt(&body);
    assert!(system.contains("Sam: hi\nMira: Oh hey, you!"), "{system}");
    assert!(system.contains("Sam: bye\nMira: Already?"), "{system}");
    assert!(!system.contains("<START>"), "{system}");
}

#[test]
fn the_history_follows_the_system_prompt_in_order_then_the_new_message() {
    let (body, _) = sent(host(), request(ChatMode::Secretary, "third question"));
    let turns: Vec<(String, String)> = messages(&body)[1..]
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "second question"),
        ("assistant", "second answer"),
        ("user", "third question"),
    ]
    .map(|(r, c)| (r.to_string(), c.to_string()));
    assert_eq!(turns, expected);
}

#[test]
fn post_history_instructions_come_last() {
    let mut req = request(ChatMode::Secretary, "third question");
    req.persona.post_history_instructions = "Answer {{user}} in two sentences at most.".into();
    let (body, _) = sent(host(), req);
    let messages = messages(&body);
    assert_eq!(messages.len(), 7);
    assert_eq!(
        messages[6],
        json!({"role": "system", "content": "Answer Sam in two sentences at most."})
    );
    assert_eq!(messages[5]["content"], "third question");
}

#[test]
fn a_card_system_prompt_replaces_the_default_with_names_filled_in() {
    let mut req = request(ChatMode::Secretary, "hello");
    req.persona.system_prompt = "You are {{char}}, {{user}}'s grumpy pirate parrot.".into();
    let (body, _) = sent(host(), req);
    let system = system_prompt(&body);
    assert!(
        system.starts_with("You are Mira, Sam's grumpy pirate parrot."),
        "{system}"
    );
    assert!(!system.contains("marine biologist"), "{system}");
    assert!(!system.contains("{{"), "{system}");
}

#[test]
fn the_api_key_is_sent_as_a_bearer_token() {
    let host = host().secret("api_key", "sk-test-123");
    let (_, recorded) = sent(host, request(ChatMode::Secretary, "hello"));
    assert_eq!(recorded.header("authorization"), Some("Bearer sk-test-123"));
}

#[test]
fn no_authorization_header_is_sent_without_a_key() {
    let (_, recorded) = sent(host(), request(ChatMode::Secretary, "hello"));
    assert_eq!(recorded.header("authorization"), None);
}

#[test]
fn openrouter_headers_are_sent_when_configured() {
    let host = host()
        .config("referer", "https://ava.example")
        .config("title", "Ava");
    let (_, recorded) = sent(host, request(ChatMode::Secretary, "hello"));
    assert_eq!(recorded.header("http-referer"), Some("https://ava.example"));
    assert_eq!(recorded.header("x-title"), Some("Ava"));
}

#[test]
fn openrouter_headers_are_absent_when_not_configured() {
    let (_, recorded) = sent(host(), request(ChatMode::Secretary, "hello"));
    assert_eq!(recorded.header("http-referer"), None);
    assert_eq!(recorded.header("x-title"), None);
}

#[test]
fn metadata_declares_every_configuration_key() {
    let info = OpenAiPersona::metadata();
    assert_eq!(info.name, "openai-persona");
    let keys: Vec<(&str, bool, bool)> = info
        .config
        .iter()
        .map(|k| (k.name.as_str(), k.required, k.secret))
        .collect();
    assert_eq!(
        keys,
        [
            ("base_url", true, false),
            ("model", true, false),
            ("api_key", false, true),
            ("temperature", false, false),
            ("max_tokens", false, false),
            ("timeout_ms", false, false),
            ("photo_intent", false, false),
            ("referer", false, false),
            ("title", false, false),
        ]
    );
}

#[test]
fn a_bad_configuration_value_fails_before_any_request() {
    let host = host()
        .config("timeout_ms", "soon")
        .on_http(|_| completion("Hi!"));
    let err = host
        .run(|| OpenAiPersona::reply(request(ChatMode::Secretary, "hello")))
        .unwrap_err();
    assert!(
        matches!(&err, ava_sdk::PluginError::Internal(m) if m.contains("`timeout_ms`")),
        "{err:?}"
    );
    assert!(host.requests().is_empty());
}
