//! Recognising "send me a photo" in its many spellings, without firing on a mere mention
//! ("I saw a photo yesterday"), and reading the scene the user asked for ("at the beach").

use crate::words::{find_phrase, words};

const NOUNS: &[&str] = &[
    "photo",
    "photos",
    "pic",
    "pics",
    "picture",
    "pictures",
    "selfie",
    "selfies",
    "image",
    "images",
    "snap",
    "snapshot",
    "photograph",
    "pix",
    "foto",
];

/// Verbs by which the persona would produce the photo: "send me", "take", "show me".
const OUTGOING: &[&str] = &[
    "send", "take", "snap", "share", "show", "shoot", "post", "drop", "give", "gimme",
];

/// Verbs by which the user would receive it: "can I get", "I want", "I'd love".
const RECEIVING: &[&str] = &[
    "get", "have", "want", "wanna", "need", "like", "love", "see",
];

/// Whole phrases that ask to see the persona.
const SEE_YOU: &[&str] = &[
    "can i see you",
    "could i see you",
    "may i see you",
    "let me see you",
    "wanna see you",
    "want to see you",
    "show me you",
    "show me yourself",
    "show yourself",
    "show me what you look like",
    "what do you look like",
    "let me see what you look like",
    "show me your face",
    "see your face",
    "i want to see you",
];

const POLITE: &[&str] = &["please", "pls", "plz", "pleeease", "pleease"];

/// Words that may surround a bare noun in a one-word request: "another pic?", "selfie pls".
const BARE_FILLERS: &[&str] = &[
    "a", "an", "another", "one", "more", "quick", "new", "cute", "your", "me", "for", "now",
    "pretty", "just", "ok", "okay", "babe", "baby", "hun", "honey",
];

/// Where a recognised request starts, so the scene is read after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub at: usize,
}

/// Words that turn a request around: "please don't send pics", "no photos please".
const NEGATIONS: &[&str] = &["dont", "no", "not", "never", "stop", "without", "didnt"];

/// Whether `message` asks the persona for a photo of itself.
pub fn detect(message: &str) -> Option<Match> {
    let w = words(message);
    let found = find(&w)?;
    let negated = w[found.at.saturating_sub(3)..found.at]
        .iter()
        .any(|x| NEGATIONS.contains(&x.as_str()));
    (!negated).then_some(found)
}

fn find(w: &[String]) -> Option<Match> {
    if let Some(at) = SEE_YOU.iter().filter_map(|p| find_phrase(w, p)).min() {
        return Some(Match { at });
    }
    for (i, word) in w.iter().enumerate() {
        let Some(noun_at) = noun_within(w, i + 1, 5) else {
            continue;
        };
        if OUTGOING.contains(&word.as_str()) && persona_does_it(w, i) {
            return Some(Match { at: i });
        }
        // "I want you to send me a pic" is decided by "send", "I'd like to show you a
        // picture" by "show": the verb nearest the noun speaks.
        let handed_on = w[i + 1..noun_at]
            .iter()
            .any(|x| OUTGOING.contains(&x.as_str()));
        if RECEIVING.contains(&word.as_str()) && !handed_on && user_asks(w, i, noun_at) {
            return Some(Match { at: i });
        }
    }
    let nouns: Vec<usize> = (0..w.len())
        .filter(|&i| NOUNS.contains(&w[i].as_str()))
        .collect();
    let &first_noun = nouns.first()?;
    if w.iter().any(|x| POLITE.contains(&x.as_str())) {
        return Some(Match { at: first_noun });
    }
    let bare = w
        .iter()
        .all(|x| NOUNS.contains(&x.as_str()) || BARE_FILLERS.contains(&x.as_str()));
    bare.then_some(Match { at: first_noun })
}

fn noun_within(w: &[String], from: usize, span: usize) -> Option<usize> {
    (from..w.len().min(from + span)).find(|&j| NOUNS.contains(&w[j].as_str()))
}

/// "send me a pic" and "could you take a selfie" ask the persona; "I'll send you a photo" and
/// "I want to show you a picture" are the user's own doing.
fn persona_does_it(w: &[String], verb: usize) -> bool {
    let next = w.get(verb + 1).map(String::as_str);
    if matches!(next, Some("you" | "u" | "ya")) {
        return false;
    }
    let before = &w[verb.saturating_sub(2)..verb];
    let asked = before
        .iter()
        .any(|x| ["can", "could", "would", "will", "pls", "please"].contains(&x.as_str()));
    let user_subject = before
        .iter()
        .any(|x| ["i", "ill", "id", "im", "we", "lets"].contains(&x.as_str()));
    asked || !user_subject
}

/// "can I get a pic", "I'd love a picture of you", "I want a selfie" ask for one;
/// "I have a photo of my dog" does not.
fn user_asks(w: &[String], verb: usize, noun: usize) -> bool {
    let before = &w[verb.saturating_sub(2)..verb];
    let modal_question = before
        .iter()
        .any(|x| ["can", "could", "may", "let"].contains(&x.as_str()));
    let of_you = matches!(
        (
            w.get(noun + 1).map(String::as_str),
            w.get(noun + 2).map(String::as_str)
        ),
        (Some("of" | "from"), Some("you" | "yourself" | "u"))
    );
    match w[verb].as_str() {
        "want" | "wanna" | "need" => true,
        "like" | "love" => before.iter().any(|x| ["id", "would"].contains(&x.as_str())) || of_you,
        _ => modal_question || of_you,
    }
}

/// Words that start a scene: "at the beach", "in the office", "while cooking".
const SCENE_STARTS: &[&str] = &[
    "at", "in", "on", "by", "near", "under", "inside", "outside", "while", "wearing", "during",
    "from", "with",
];

/// Words that end a scene: "at the beach please", "in the office for me".
const SCENE_ENDS: &[&str] = &[
    "please", "pls", "plz", "now", "for", "so", "because", "babe", "baby", "honey", "hun",
    "sweetie", "love", "darling", "then", "if", "and", "but",
];

/// Scenes that are not places: "in a minute", "on my phone".
const NOT_SCENES: &[&str] = &[
    "in a minute",
    "in a second",
    "in a bit",
    "in a while",
    "on my phone",
    "on your phone",
    "at me",
    "with me",
    "from you",
    "in private",
    "on here",
    "in here",
];

/// The scene the user asked for after the request at `m`, rewritten to describe the photo:
/// "at your desk" → "at the desk", "while you're cooking" → "while cooking".
pub fn scene(message: &str, m: Match) -> Option<String> {
    // Scenes stop at punctuation, so read the message clause by clause with word indices.
    let mut index = 0;
    for clause in message.split(['.', ',', '!', '?', ';', ':', '\n']) {
        let w = words(clause);
        let start = index;
        index += w.len();
        if index <= m.at {
            continue;
        }
        let from = m.at.saturating_sub(start);
        if let Some(found) = scene_in(&w, from) {
            return Some(found);
        }
    }
    None
}

fn scene_in(w: &[String], from: usize) -> Option<String> {
    for i in from..w.len() {
        if !SCENE_STARTS.contains(&w[i].as_str()) {
            continue;
        }
        let mut out: Vec<&str> = vec![w[i].as_str()];
        for word in &w[i + 1..] {
            if SCENE_ENDS.contains(&word.as_str()) || out.len() >= 7 {
                break;
            }
            match word.as_str() {
                "your" | "my" | "ur" => out.push("the"),
                "you" | "youre" | "yourself" | "u" | "me" | "are" => {}
                other => out.push(other),
            }
        }
        let text = out.join(" ");
        let filler = out.len() < 2 || out[1..].iter().all(|x| ["the", "a", "an"].contains(x));
        if !filler && !NOT_SCENES.iter().any(|n| text.starts_with(n)) {
            return Some(text);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(message: &str) -> bool {
        detect(message).is_some()
    }

    #[test]
    fn every_usual_phrasing_asks_for_a_photo() {
        for message in [
            "send me a photo",
            "Send a pic!",
            "can I see you?",
            "show me what you look like",
            "take a selfie",
            "selfie please",
            "send me a picture of you at the beach",
            "Could you SEND me a pic... please??",
            "can i get a pic",
            "I want a selfie",
            "I'd love a picture of you",
            "another pic?",
            "I want you to send me a pic",
        ] {
            assert!(asks(message), "{message:?} should ask for a photo");
        }
    }

    #[test]
    fn mere_mentions_do_not_ask() {
        for message in [
            "I saw a photo yesterday",
            "my photos are on my phone",
            "I'll send you a photo of my cat",
            "I took a picture of the sunset",
            "I have a photo of my dog",
            "I want to show you a picture",
            "did you see the photo I posted?",
            "I'd like to send you a pic",
        ] {
            assert!(!asks(message), "{message:?} should not ask for a photo");
        }
    }

    #[test]
    fn negated_requests_do_not_ask() {
        for message in [
            "please don't send pics",
            "no pics please",
            "don't send me a photo",
        ] {
            assert!(!asks(message), "{message:?} should not ask for a photo");
        }
    }

    #[test]
    fn the_scene_after_the_request_is_read() {
        let message = "send me a picture of you at the beach please";
        let m = detect(message).unwrap();
        assert_eq!(scene(message, m).as_deref(), Some("at the beach"));
    }

    #[test]
    fn the_scene_is_rewritten_to_describe_the_photo() {
        let message = "Take a selfie at your desk, please";
        assert_eq!(
            scene(message, detect(message).unwrap()).as_deref(),
            Some("at the desk")
        );
        let message = "send a pic while you're cooking";
        assert_eq!(
            scene(message, detect(message).unwrap()).as_deref(),
            Some("while cooking")
        );
    }

    #[test]
    fn time_phrases_are_not_scenes() {
        let message = "send me a pic in a minute";
        assert_eq!(scene(message, detect(message).unwrap()), None);
    }

    #[test]
    fn words_before_the_request_are_not_the_scene() {
        let message = "in the morning I asked: can you send me a photo?";
        assert_eq!(scene(message, detect(message).unwrap()), None);
    }
}
