//! Rolling memory.

use ava_sdk::chat::{ChatMode, ChatPersona, Role, SummaryRequest};
use ava_sdk::testing::MockResponse;
use openai_persona::OpenAiPersona;

use super::*;

fn summary_request() -> SummaryRequest {
    SummaryRequest {
        persona: persona(),
        mode: ChatMode::Intimate,
        previous: Some("Sam is training for a half marathon in May.".into()),
        turns: vec![
            message(Role::User, "I ran 15 km today!"),
            message(Role::Assistant, "That's amazing, I'm so proud of you."),
        ],
    }
}

#[test]
fn the_summary_request_holds_the_previous_memory_and_the_turns() {
    let host = host().on_http(|_| completion("Sam ran 15 km."));
    host.run(|| OpenAiPersona::summarize(summary_request()))
        .unwrap();
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0].json();
    assert!(body.get("tools").is_none());
    let system = system_prompt(&body);
    assert!(system.contains("third person"), "{system}");
    assert!(system.contains("250 words"), "{system}");
    let task = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        task.contains("Sam is training for a half marathon in May."),
        "{task}"
    );
    let run = task
        .find("User: I ran 15 km today!")
        .expect("the user turn");
    let answer = task
        .find("Mira: That's amazing, I'm so proud of you.")
        .expect("the persona turn");
    assert!(run < answer, "turns in order: {task}");
}

#[test]
fn the_summary_is_the_model_text_trimmed() {
    let host = host().on_http(|_| completion("\n  Sam ran 15 km and Mira is proud of him.  \n"));
    let memory = host
        .run(|| OpenAiPersona::summarize(summary_request()))
        .unwrap();
    assert_eq!(memory, "Sam ran 15 km and Mira is proud of him.");
}

#[test]
fn a_summary_fails_like_a_reply() {
    let host = host().on_http(|_| MockResponse::new(429, "").header("Retry-After", "3"));
    let err = host
        .run(|| OpenAiPersona::summarize(summary_request()))
        .unwrap_err();
    assert!(
        matches!(&err, ava_sdk::PluginError::Unavailable(u) if u.retry_after_ms == Some(3_000)),
        "{err:?}"
    );
}

#[test]
fn no_new_turns_keep_the_memory_without_a_request() {
    let host = host().on_http(|_| completion("should not be asked"));
    let mut req = summary_request();
    req.turns.clear();
    let memory = host.run(|| OpenAiPersona::summarize(req)).unwrap();
    assert_eq!(memory, "Sam is training for a half marathon in May.");
    assert!(host.requests().is_empty());
}
