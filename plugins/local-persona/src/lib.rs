//! The offline persona: answers from the persona card alone, with no model and no network.
//!
//! Replies are deterministic (every choice comes from a hash of the turn), follow the mode's
//! register (`secretary`: professional and helpful; `intimate`: warm and flirty, never
//! explicit), and answer photo requests with a prompt built from the persona's appearance.

mod compose;
mod intent;
mod photo_prompt;
mod photo_request;
mod restate;
mod seed;
mod stream;
mod summary;
mod templates;
mod words;

use ava_sdk::chat::{self, ChatPersona, ChatReply, ChatRequest, SummaryRequest};
use ava_sdk::{PluginError, PluginInfo};

/// Words per streamed piece: small enough to look like typing, large enough to be few calls.
const WORDS_PER_CHUNK: usize = 4;

/// The plugin.
pub struct LocalPersona;

impl ChatPersona for LocalPersona {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!(
            "Offline persona: deterministic, mode-aware replies from the persona card"
        )
    }

    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        Ok(compose::reply(&request))
    }

    fn stream_reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        let reply = compose::reply(&request);
        for piece in stream::chunks(&reply.text, WORDS_PER_CHUNK) {
            chat::push(piece);
        }
        Ok(reply)
    }

    fn summarize(request: SummaryRequest) -> Result<String, PluginError> {
        Ok(summary::summarize(&request))
    }
}

ava_sdk::export_chat_persona!(LocalPersona);

#[cfg(test)]
mod tests {
    use ava_sdk::chat::{ChatMessage, ChatMode, Persona, Role};
    use ava_sdk::testing::TestHost;

    use super::*;

    fn persona() -> Persona {
        Persona {
            id: "persona-1".into(),
            name: "Ava".into(),
            style: "warm".into(),
            description: "Ava is a thoughtful companion who loves books and long walks.".into(),
            personality: "Warm, witty, a little teasing".into(),
            scenario: String::new(),
            greeting: "Hi {{user}}, I'm {{char}}. I've been waiting for you.".into(),
            example_dialogue: String::new(),
            system_prompt: String::new(),
            post_history_instructions: String::new(),
            appearance: "young woman with wavy auburn hair and green eyes".into(),
        }
    }

    fn message(role: Role, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
            sent_at_ms: 0,
        }
    }

    /// A request in the middle of a conversation (no first-turn greeting).
    fn request(mode: ChatMode, text: &str) -> ChatRequest {
        ChatRequest {
            persona: persona(),
            mode,
            user_name: Some("Sam".into()),
            memory: None,
            history: vec![
                message(Role::User, "hello"),
                message(Role::Assistant, "Hi!"),
            ],
            message: text.into(),
            photos_allowed: true,
        }
    }

    fn reply(request: ChatRequest) -> ChatReply {
        LocalPersona::reply(request).unwrap()
    }

    #[test]
    fn the_same_request_gives_the_same_reply() {
        let a = reply(request(ChatMode::Intimate, "I had a long day at work"));
        let b = reply(request(ChatMode::Intimate, "I had a long day at work"));
        assert_eq!(a, b);
    }

    #[test]
    fn the_first_turn_opens_with_the_card_greeting() {
        let mut req = request(ChatMode::Secretary, "Can you remind me to call the bank?");
        req.history.clear();
        let text = reply(req).text;
        assert!(
            text.starts_with("Hi Sam, I'm Ava. I've been waiting for you.\n\n"),
            "{text}"
        );
        assert!(text.contains("remind you to call the bank"), "{text}");
    }

    #[test]
    fn later_turns_do_not_repeat_the_greeting() {
        let text = reply(request(
            ChatMode::Secretary,
            "Can you remind me to call the bank?",
        ))
        .text;
        assert!(!text.contains("I've been waiting for you"), "{text}");
    }

    #[test]
    fn the_two_modes_answer_differently() {
        for text in [
            "hello",
            "I'm so tired today",
            "Can you book a table for two?",
            "thanks!",
            "bye",
        ] {
            let secretary = reply(request(ChatMode::Secretary, text)).text;
            let intimate = reply(request(ChatMode::Intimate, text)).text;
            assert_ne!(secretary, intimate, "{text}");
        }
    }

    #[test]
    fn a_task_is_acknowledged_with_the_users_words() {
        let text = reply(request(
            ChatMode::Secretary,
            "Please schedule a meeting with Tom on Monday",
        ))
        .text;
        assert!(
            text.contains("schedule a meeting with Tom on Monday"),
            "{text}"
        );
    }

    #[test]
    fn who_are_you_is_answered_from_the_card() {
        let text = reply(request(ChatMode::Secretary, "who are you?")).text;
        assert!(text.contains("I'm Ava"), "{text}");
        assert!(text.contains("loves books"), "{text}");
    }

    #[test]
    fn every_photo_phrasing_brings_a_photo() {
        for text in [
            "send me a photo",
            "send a pic",
            "can I see you?",
            "show me what you look like",
            "take a selfie",
            "selfie please",
            "send me a picture of you at the beach",
            "SEND ME A PIC!!!",
        ] {
            assert!(
                reply(request(ChatMode::Intimate, text)).photo.is_some(),
                "{text}"
            );
        }
    }

    #[test]
    fn mentioning_photos_brings_no_photo() {
        for text in ["I saw a photo yesterday", "my photos are on my phone"] {
            assert!(
                reply(request(ChatMode::Intimate, text)).photo.is_none(),
                "{text}"
            );
        }
    }

    #[test]
    fn the_photo_prompt_holds_the_appearance_and_the_named_scene() {
        let out = reply(request(
            ChatMode::Intimate,
            "send me a picture of you at the beach",
        ));
        let photo = out.photo.unwrap();
        assert!(
            photo.prompt.contains("wavy auburn hair and green eyes"),
            "{}",
            photo.prompt
        );
        assert!(photo.prompt.contains("at the beach"), "{}", photo.prompt);
        assert!(photo.negative_prompt.unwrap().contains("watermark"));
        assert!(photo.caption.is_some());
        assert!(out.text.contains("at the beach"), "{}", out.text);
    }

    #[test]
    fn the_photo_prompt_follows_the_mode() {
        let work = reply(request(ChatMode::Secretary, "send me a photo"))
            .photo
            .unwrap();
        let home = reply(request(ChatMode::Intimate, "send me a photo"))
            .photo
            .unwrap();
        assert!(
            work.prompt.contains("professional attire"),
            "{}",
            work.prompt
        );
        assert!(home.prompt.contains("romantic"), "{}", home.prompt);
    }

    #[test]
    fn photos_turned_off_bring_an_explanation_and_no_photo() {
        let mut req = request(ChatMode::Intimate, "send me a photo");
        req.photos_allowed = false;
        let out = reply(req);
        assert!(out.photo.is_none());
        assert!(
            out.text.contains("photos are turned off in your settings"),
            "{}",
            out.text
        );
    }

    #[test]
    fn streamed_pieces_concatenate_to_the_reply() {
        let host = TestHost::new();
        let out = host.run(|| {
            LocalPersona::stream_reply(request(
                ChatMode::Secretary,
                "Can you remind me to call the bank tomorrow?",
            ))
        });
        let pushed = host.pushed();
        assert!(pushed.len() > 1, "{pushed:?}");
        assert_eq!(pushed.concat(), out.unwrap().text);
    }

    fn summary_request(previous: Option<&str>, turns: Vec<ChatMessage>) -> SummaryRequest {
        SummaryRequest {
            persona: persona(),
            mode: ChatMode::Secretary,
            previous: previous.map(str::to_string),
            turns,
        }
    }

    #[test]
    fn summary_keeps_the_previous_memory_and_adds_the_new_turns() {
        let request = summary_request(
            Some("- User: My sister Lena lives in Lisbon."),
            vec![
                message(
                    Role::User,
                    "I'm starting a new job at the museum on Monday.",
                ),
                message(
                    Role::Assistant,
                    "Congratulations! I'll remind you on Sunday evening.",
                ),
            ],
        );
        let memory = LocalPersona::summarize(request).unwrap();
        assert!(
            memory.contains("My sister Lena lives in Lisbon."),
            "{memory}"
        );
        assert!(memory.contains("new job at the museum"), "{memory}");
        assert!(
            memory.contains("Ava: I'll remind you on Sunday evening."),
            "{memory}"
        );
        assert!(memory.contains("Topics: "), "{memory}");
    }

    #[test]
    fn summary_respects_the_cap_and_keeps_the_newest() {
        let turns = (0..60)
            .map(|i| {
                message(
                    Role::User,
                    &format!("Fact number {i}: I collected {i} shiny stamps this week."),
                )
            })
            .collect();
        let memory =
            LocalPersona::summarize(summary_request(Some(&"old memory. ".repeat(40)), turns))
                .unwrap();
        assert!(
            memory.chars().count() <= summary::CAP,
            "{}",
            memory.chars().count()
        );
        assert!(memory.contains("Fact number 59"), "{memory}");
        assert!(!memory.contains("Fact number 0:"), "{memory}");
    }

    #[test]
    fn summary_is_deterministic() {
        let make = || {
            summary_request(
                None,
                vec![message(Role::User, "I love hiking in the Alps with my dog")],
            )
        };
        assert_eq!(
            LocalPersona::summarize(make()),
            LocalPersona::summarize(make())
        );
    }
}
