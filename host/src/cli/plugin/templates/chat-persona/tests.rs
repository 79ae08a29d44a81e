//! {{name}} through the SDK's stand-in host: what it answers, and what it streams.

use ava_sdk::PluginError;
use ava_sdk::chat::{ChatPersona, ChatRequest, Persona};
use ava_sdk::testing::TestHost;
use {{crate}}::{{type}};

fn request(message: &str) -> ChatRequest {
    let persona = Persona {
        style: "warm".into(),
        personality: "Curious".into(),
        ..Persona::named("Mira")
    };
    ChatRequest::new(persona, message).with_user_name("Sam")
}

#[test]
fn the_reply_comes_from_the_persona_card() {
    let reply = TestHost::new()
        .run(|| {{type}}::reply(request("hello")))
        .unwrap();
    assert_eq!(
        reply.text,
        "Hi Sam, Mira here. Noted: \"hello\". (Feeling curious today.)"
    );
}

#[test]
fn the_configured_greeting_and_sign_off_are_used() {
    let host = TestHost::new()
        .config("greeting", "Hello")
        .config("sign_off", "Bye!");
    let reply = host.run(|| {{type}}::reply(request("hello"))).unwrap();
    assert!(reply.text.starts_with("Hello Sam"), "{}", reply.text);
    assert!(reply.text.ends_with(" Bye!"), "{}", reply.text);
}

#[test]
fn stream_reply_pushes_the_whole_reply_in_pieces() {
    let host = TestHost::new();
    let reply = host.run(|| {{type}}::stream_reply(request("hello")));
    let reply = reply.unwrap();
    let pushed = host.pushed();
    assert!(pushed.len() > 1, "{pushed:?}");
    assert_eq!(pushed.concat(), reply.text);
}

#[test]
fn an_empty_message_is_invalid_input() {
    let err = TestHost::new()
        .run(|| {{type}}::reply(request("  ")))
        .unwrap_err();
    assert!(matches!(err, PluginError::InvalidInput(_)), "{err:?}");
}
