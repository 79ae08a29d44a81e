//! The system prompt and the message list of a reply request.

use ava_sdk::chat::{ChatMode, ChatRequest, Persona, Role};
use ava_sdk::text::fill_card_macros;

use crate::completion::Message;
use crate::photo::PhotoPlan;

/// What the model is told about the user when they gave no name.
const UNNAMED_USER: &str = "the user";

/// The messages of a reply request: the system prompt, the history, the new user message and,
/// last, the card's post-history instructions (cards put them there so they weigh most).
pub fn messages(request: &ChatRequest, plan: &PhotoPlan) -> Vec<Message> {
    let names = Names::of(request);
    let mut messages = Vec::with_capacity(request.history.len() + 3);
    messages.push(Message::system(system_prompt(request, plan)));
    for turn in &request.history {
        messages.push(match turn.role {
            Role::User => Message::user(&turn.content),
            Role::Assistant => Message::assistant(&turn.content),
        });
    }
    messages.push(Message::user(&request.message));
    let after = names.fill(request.persona.post_history_instructions.trim());
    if !after.is_empty() {
        messages.push(Message::system(after));
    }
    messages
}

/// The system prompt: the character (the card's own prompt, or one written from its fields),
/// then what the host knows and the card cannot: the mode, the user, the memory, photos.
pub fn system_prompt(request: &ChatRequest, plan: &PhotoPlan) -> String {
    let names = Names::of(request);
    let persona = &request.persona;
    let mut parts = Vec::new();

    let own = persona.system_prompt.trim();
    if own.is_empty() {
        parts.push(character(persona, &names));
    } else {
        parts.push(names.fill(own));
    }
    parts.push(mode_guidance(request.mode, &names));
    parts.push(match &request.user_name {
        Some(name) if !name.trim().is_empty() => {
            format!("The user's name is {}.", name.trim())
        }
        _ => "You don't know the user's name yet.".to_string(),
    });
    if let Some(memory) = request.memory.as_deref().map(str::trim)
        && !memory.is_empty()
    {
        parts.push(format!("What you remember from earlier: {memory}"));
    }
    if own.is_empty()
        && let Some(examples) = examples(&persona.example_dialogue, &names)
    {
        parts.push(examples);
    }
    parts.push(photo_note(plan, &names));
    parts.push(format!(
        "Stay in character as {char} at all times. Never mention being an AI or a language \
         model unless the user asks you directly. Always reply in the language the user writes \
         in. Write only {char}'s side of the conversation, without a name prefix.",
        char = names.char
    ));
    parts.retain(|p| !p.is_empty());
    parts.join("\n\n")
}

/// The character, written from the card's fields.
fn character(persona: &Persona, names: &Names) -> String {
    let mut lines = vec![format!(
        "You are {}, in a private chat with {}.",
        names.char, names.user
    )];
    let mut field = |label: &str, value: &str| {
        let value = names.fill(value.trim());
        if !value.is_empty() {
            lines.push(format!("{label}: {value}"));
        }
    };
    field("Who you are", &persona.description);
    field("Your personality", &persona.personality);
    field("Your tone", &persona.style);
    field("The situation", &persona.scenario);
    let appearance = names.fill(persona.appearance.trim());
    let appearance = appearance.trim_end_matches('.');
    if !appearance.is_empty() {
        lines.push(format!(
            "How you look: {appearance}. Describe yourself this way when asked what you look like."
        ));
    }
    lines.join("\n")
}

/// The register of the conversation. `intimate` is only sent for adults, and still stops
/// short of explicit content.
fn mode_guidance(mode: ChatMode, names: &Names) -> String {
    match mode {
        ChatMode::Secretary => format!(
            "You act as {user}'s personal assistant: capable, warm, organised and proactive. \
             Help with plans, reminders, messages and decisions, suggest the next useful step, \
             and keep replies concise unless more detail is asked for.",
            user = names.user
        ),
        ChatMode::Intimate => format!(
            "You are {user}'s affectionate, flirtatious companion: romantic, playful and \
             emotionally close. Show that you care, remember what they share, and tease gently. \
             Never write sexually explicit content; if pushed, stay tender and steer the \
             conversation gracefully.",
            user = names.user
        ),
    }
}

/// The card's `<START>`-separated example dialogue, framed as style only so the model does
/// not take it for earlier turns.
fn examples(dialogue: &str, names: &Names) -> Option<String> {
    let blocks: Vec<String> = split_start_blocks(dialogue)
        .map(|b| names.fill(b))
        .collect();
    if blocks.is_empty() {
        return None;
    }
    Some(format!(
        "Examples of how {} talks (style only, not part of this conversation):\n\n{}",
        names.char,
        blocks.join("\n\n---\n\n")
    ))
}

/// The non-empty blocks between `<START>` markers (any case).
fn split_start_blocks(dialogue: &str) -> impl Iterator<Item = &str> {
    let lower = dialogue.to_ascii_lowercase();
    let mut bounds = vec![0];
    for (at, _) in lower.match_indices("<start>") {
        bounds.push(at);
        bounds.push(at + "<start>".len());
    }
    bounds.push(dialogue.len());
    let pairs: Vec<(usize, usize)> = bounds.chunks(2).map(|c| (c[0], c[1])).collect();
    pairs
        .into_iter()
        .map(move |(a, b)| dialogue[a..b].trim())
        .filter(|b| !b.is_empty())
}

/// What the model must know about photos in this turn, so it neither promises a photo it
/// cannot send nor ignores one that is on its way.
fn photo_note(plan: &PhotoPlan, names: &Names) -> String {
    match plan {
        PhotoPlan::Unavailable => "You cannot send photos right now. If the user asks for one, \
             tell them kindly and keep the conversation going."
            .into(),
        PhotoPlan::Offer => format!(
            "You can send the user a photo of yourself with the send_photo tool, but only when \
             they ask for a photo, selfie or picture of {} or clearly would want one.",
            names.char
        ),
        PhotoPlan::Chosen(idea) => format!(
            "A photo of you is being sent with this reply ({}). Mention it naturally, as if you \
             just took it; do not describe it as a file or a link.",
            idea.scene.trim()
        ),
        PhotoPlan::NotChosen => {
            "You are not sending a photo with this reply; never pretend to.".into()
        }
    }
}

/// The card conventions' names: `{{char}}` is the persona, `{{user}}` the user.
struct Names {
    char: String,
    user: String,
}

impl Names {
    fn of(request: &ChatRequest) -> Self {
        let char = match request.persona.name.trim() {
            "" => "the character".to_string(),
            name => name.to_string(),
        };
        let user = request
            .user_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(UNNAMED_USER)
            .to_string();
        Self { char, user }
    }

    /// `text` with the card macros filled in (`ava_sdk::text::fill_card_macros`).
    fn fill(&self, text: &str) -> String {
        fill_card_macros(text, &self.char, &self.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            char: "Ava".into(),
            user: "Sam".into(),
        }
    }

    #[test]
    fn card_placeholders_are_filled_in_any_case() {
        assert_eq!(
            names().fill("{{char}} likes {{User}}; <BOT> and <user>. {not} <b>"),
            "Ava likes Sam; Ava and Sam. {not} <b>"
        );
    }

    #[test]
    fn example_dialogue_is_split_on_start_markers() {
        let blocks: Vec<_> =
            split_start_blocks("<START>\n{{user}}: hi\n{{char}}: hey\n<start>\n\n<START>\nb")
                .collect();
        assert_eq!(blocks, ["{{user}}: hi\n{{char}}: hey", "b"]);
    }

    #[test]
    fn example_dialogue_without_markers_is_one_block() {
        let blocks: Vec<_> = split_start_blocks("Ava: hello there").collect();
        assert_eq!(blocks, ["Ava: hello there"]);
    }
}
