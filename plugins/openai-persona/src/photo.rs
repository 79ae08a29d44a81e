//! Photos: the `send_photo` tool offered to the model, the classify request for servers
//! without tools, and the `PhotoRequest` built from what the model chose.
//!
//! Whether the user wants a photo is the model's call, never string matching: it reads
//! "can I see you at the beach?" in any language and tells it from "I saw a photo".

use ava_sdk::chat::{ChatRequest, PhotoRequest, Role};
use serde_json::{Value, json};

use crate::completion::Message;

/// The function the model calls to send a photo.
pub const TOOL_NAME: &str = "send_photo";

/// What the model is told after calling the tool, so it can write the words around the photo.
pub const TOOL_RESULT: &str = "The photo is being taken and will appear in the chat shortly.";

/// What no photo of the persona should show.
const NEGATIVE_PROMPT: &str = "blurry, distorted, deformed, extra limbs, text, watermark";

/// How many recent messages the classifier sees: enough for "yes, show me!" after an offer.
const CLASSIFY_CONTEXT: usize = 4;

/// What happens about photos in one turn.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoPlan {
    /// The user does not accept photos in this turn.
    Unavailable,
    /// The `send_photo` tool is offered; the model decides.
    Offer,
    /// The classifier decided a photo goes with the reply.
    Chosen(PhotoIdea),
    /// The classifier decided no photo goes with the reply.
    NotChosen,
}

/// The photo the model has in mind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhotoIdea {
    /// What the photo shows: setting, pose, outfit, mood.
    pub scene: String,
    /// A short caption in the persona's voice.
    pub caption: String,
}

/// The `send_photo` function tool, in the Chat Completions `tools` format.
pub fn tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Send the user a photo of yourself. Use it only when the user asks \
                for a photo, selfie or picture of you, or clearly would want one (for example \
                right after you offered one and they said yes). Do not use it for photos of \
                anything else.",
            "parameters": {
                "type": "object",
                "properties": {
                    "scene": {
                        "type": "string",
                        "description": "What the photo shows, in English, as a comma-separated \
                            image description: setting, pose, outfit, mood. Tasteful: never \
                            nude or sexually explicit."
                    },
                    "caption": {
                        "type": "string",
                        "description": "A short caption for the photo, in your own voice and in \
                            the user's language."
                    }
                },
                "required": ["scene"]
            }
        }
    })
}

/// The idea in a tool call's arguments. Lenient: a model that called the tool wants a photo,
/// even when its JSON is off, so anything unreadable becomes an empty scene.
pub fn from_arguments(arguments: &str) -> PhotoIdea {
    let value = first_json_object(arguments).unwrap_or(Value::Null);
    PhotoIdea {
        scene: string_field(&value, "scene"),
        caption: string_field(&value, "caption"),
    }
}

/// The request the host hands to the image plugin: the persona's look, then the scene.
pub fn build(appearance: &str, idea: &PhotoIdea) -> PhotoRequest {
    let clean = |s: &str| {
        s.trim()
            .trim_end_matches(|c: char| c == '.' || c == ',' || c == ';' || c.is_whitespace())
            .to_string()
    };
    let parts: Vec<String> = [clean(appearance), clean(&idea.scene)]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    let prompt = if parts.is_empty() {
        // Neither a look nor a scene: still a photo of someone, rather than none at all.
        "a candid selfie, natural light".to_string()
    } else {
        parts.join(", ")
    };
    let caption = idea.caption.trim();
    PhotoRequest {
        prompt,
        negative_prompt: Some(NEGATIVE_PROMPT.to_string()),
        caption: (!caption.is_empty()).then(|| caption.to_string()),
    }
}

/// The classify request's messages: instructions, then the recent conversation and the last
/// user message as data to judge.
pub fn classify_messages(request: &ChatRequest) -> Vec<Message> {
    let name = match request.persona.name.trim() {
        "" => "the persona",
        name => name,
    };
    let instructions = format!(
        "You decide whether {name}, a character in a chat, should send the user a photo of \
         themself with the next reply. Answer with one JSON object and nothing else: \
         {{\"photo\": true or false, \"scene\": string, \"caption\": string}}.\n\
         - \"photo\" is true only when the user's last message asks for a photo, selfie or \
         picture of {name}, or clearly wants to see {name} (for example accepting an offered \
         photo). Mentioning photos is not asking for one.\n\
         - \"scene\": what the photo shows, in English, as a comma-separated image description \
         (setting, pose, outfit, mood), tasteful, never nude or explicit; empty when \"photo\" \
         is false.\n\
         - \"caption\": a short caption in {name}'s voice and the user's language; empty when \
         \"photo\" is false."
    );
    let start = request.history.len().saturating_sub(CLASSIFY_CONTEXT);
    let recent: Vec<String> = request.history[start..]
        .iter()
        .map(|m| {
            let who = match m.role {
                Role::User => "User",
                Role::Assistant => name,
            };
            format!("{who}: {}", m.content.trim())
        })
        .collect();
    let mut judged = String::new();
    if !recent.is_empty() {
        judged.push_str("Recent conversation:\n");
        judged.push_str(&recent.join("\n"));
        judged.push_str("\n\n");
    }
    judged.push_str("The user's last message:\n");
    judged.push_str(request.message.trim());
    vec![Message::system(instructions), Message::user(judged)]
}

/// What the classifier answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Photo(PhotoIdea),
    NoPhoto,
    /// No JSON object with a `photo` field: treated as no photo.
    Unreadable,
}

/// Reads the classifier's answer. Models wrap JSON in prose or code fences, so the first
/// `{...}` object is read.
pub fn parse_classification(answer: &str) -> Verdict {
    let Some(value) = first_json_object(answer) else {
        return Verdict::Unreadable;
    };
    let wants = match value.get("photo") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        Some(_) => false,
        None => return Verdict::Unreadable,
    };
    if !wants {
        return Verdict::NoPhoto;
    }
    Verdict::Photo(PhotoIdea {
        scene: string_field(&value, "scene"),
        caption: string_field(&value, "caption"),
    })
}

fn string_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The first JSON object in `text`: each `{` is tried in turn, so a stray brace in the prose
/// before the object does not hide it.
fn first_json_object(text: &str) -> Option<Value> {
    text.match_indices('{')
        .filter_map(|(start, _)| balanced(&text[start..]))
        .find_map(|candidate| {
            serde_json::from_str::<Value>(candidate)
                .ok()
                .filter(Value::is_object)
        })
}

/// The balanced `{...}` that `text` starts with, braces inside JSON strings ignored.
fn balanced(text: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[..=i]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_object_is_found_inside_prose_and_fences() {
        let text = "Sure!\n```json\n{\"a\": \"}{\", \"b\": {\"c\": 1}}\n```\nand {\"d\": 2}";
        assert_eq!(
            first_json_object(text),
            Some(serde_json::json!({"a": "}{", "b": {"c": 1}}))
        );
    }

    #[test]
    fn a_stray_brace_before_the_object_is_skipped() {
        assert_eq!(
            first_json_object("I think {maybe} so: {\"photo\": false}"),
            Some(serde_json::json!({"photo": false}))
        );
    }

    #[test]
    fn an_unclosed_object_is_not_an_object() {
        assert_eq!(first_json_object("{\"photo\": true"), None);
    }

    #[test]
    fn the_prompt_joins_appearance_and_scene_cleanly() {
        let photo = build(
            " young woman with auburn hair. ",
            &PhotoIdea {
                scene: "at the beach, sunset,".into(),
                caption: "  ".into(),
            },
        );
        assert_eq!(
            photo.prompt,
            "young woman with auburn hair, at the beach, sunset"
        );
        assert_eq!(photo.caption, None);
    }

    #[test]
    fn a_missing_appearance_leaves_the_scene_alone() {
        let photo = build(
            "",
            &PhotoIdea {
                scene: "reading in a cafe".into(),
                caption: "hi".into(),
            },
        );
        assert_eq!(photo.prompt, "reading in a cafe");
    }

    #[test]
    fn broken_tool_arguments_still_mean_a_photo() {
        assert_eq!(from_arguments("{not json"), PhotoIdea::default());
    }

    #[test]
    fn a_string_true_counts_as_a_photo() {
        assert!(matches!(
            parse_classification(r#"{"photo": "true", "scene": "x"}"#),
            Verdict::Photo(_)
        ));
        assert_eq!(
            parse_classification(r#"{"scene": "x"}"#),
            Verdict::Unreadable
        );
    }
}
