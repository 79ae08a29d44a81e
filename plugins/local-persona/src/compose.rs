//! Putting a reply together: the greeting on the first turn, the answer to what the user
//! said (or to a photo request), in the mode's register and the persona's voice.

use std::borrow::Cow;

use ava_sdk::chat::{ChatMode, ChatReply, ChatRequest, Persona};
use ava_sdk::text::fill_card_macros;

use crate::intent::{self, Intent, Tone};
use crate::photo_prompt;
use crate::photo_request;
use crate::restate::restate;
use crate::seed::Dice;
use crate::templates::{PET_NAMES, Situation, style_openers, wordings};
use crate::words::is_stopword;

/// The persona's answer to `request`. Pure: the same request gives the same reply.
pub fn reply(request: &ChatRequest) -> ChatReply {
    let dice = Dice::for_turn(&request.persona.id, &request.message, request.history.len());
    let voice = Voice::new(request, dice);
    let (body, photo, intent) = match photo_request::detect(&request.message) {
        Some(m) if request.photos_allowed => {
            let scene = photo_request::scene(&request.message, m);
            let photo = photo_prompt::build(&request.persona, request.mode, scene.as_deref(), dice);
            let where_ = scene.unwrap_or_else(|| default_scene_words(request.mode).to_string());
            let text = voice.say(
                Situation::PhotoComing,
                &Fill {
                    scene: &where_,
                    ..Fill::default()
                },
            );
            (text, Some(photo), None)
        }
        Some(_) => (voice.say(Situation::PhotoOff, &Fill::default()), None, None),
        None => {
            let intent = intent::classify(&request.message);
            (answer(&voice, request, &intent), None, Some(intent))
        }
    };

    // The card's greeting only opens a conversation: later turns skip filling it in.
    let greeting = if request.history.is_empty() {
        voice.card(&request.persona.greeting)
    } else {
        String::new()
    };
    let text = if !greeting.is_empty() {
        // The card's first message opens the conversation; a plain "hi" needs nothing more.
        if intent == Some(Intent::Greeting) {
            greeting
        } else {
            format!("{greeting}\n\n{body}")
        }
    } else {
        // A playful "Ha!" suits small talk, not sympathy, a task or a goodbye.
        let light = matches!(
            intent,
            Some(
                Intent::Greeting
                    | Intent::SmallTalk
                    | Intent::Question
                    | Intent::Affection
                    | Intent::HowAreYou
                    | Intent::Thanks
            )
        );
        let openers = style_openers(&request.persona.style);
        match light && !openers.is_empty() && dice.one_in("style-opener", 3) {
            true => format!("{}{body}", dice.pick("style-opener-word", openers)),
            false => body,
        }
    };
    ChatReply {
        text,
        photo,
        model: Some("local-persona".to_string()),
        usage: None,
    }
}

/// Where the persona says it is when the user named no scene; matches the photo prompt's
/// default scene.
fn default_scene_words(mode: ChatMode) -> &'static str {
    match mode {
        ChatMode::Secretary => "from my desk",
        ChatMode::Intimate => "from my sofa",
    }
}

fn answer(voice: &Voice, request: &ChatRequest, intent: &Intent) -> String {
    let echo = restate(&request.message, &request.persona.name, 14);
    let fill = Fill {
        echo: &echo.text,
        ..Fill::default()
    };
    match intent {
        Intent::Greeting => voice.say(Situation::Greeting, &fill),
        Intent::Goodbye => voice.say(Situation::Goodbye, &fill),
        Intent::Thanks => voice.say(Situation::Thanks, &fill),
        Intent::Affection => voice.say(Situation::Affection, &fill),
        Intent::HowAreYou => voice.say(Situation::HowAreYou, &fill),
        Intent::WhoAreYou => voice.introduce(&request.persona),
        Intent::Feelings { word, tone } => {
            let situation = match tone {
                Tone::Up => Situation::FeelingsUp,
                Tone::Down => Situation::FeelingsDown,
            };
            voice.say(
                situation,
                &Fill {
                    feeling: word,
                    ..fill
                },
            )
        }
        Intent::Task if !echo.text.is_empty() => {
            let situation = if echo.action {
                Situation::TaskAction
            } else {
                Situation::TaskNote
            };
            voice.say(situation, &fill)
        }
        Intent::Question if !echo.text.is_empty() => voice.say(Situation::Question, &fill),
        _ => match topic(&request.message) {
            Some(topic) => voice.say(
                Situation::SmallTalkTopic,
                &Fill {
                    topic: &topic,
                    ..fill
                },
            ),
            None => voice.say(Situation::SmallTalk, &fill),
        },
    }
}

/// The most telling word of the message: the longest word that is not a stopword, with its
/// article or possessive ("the mountains", "your sister").
fn topic(message: &str) -> Option<String> {
    let tokens: Vec<&str> = message
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    let meaningful = |t: &&str| {
        t.chars().count() >= 4
            && t.chars().all(char::is_alphabetic)
            && !is_stopword(&t.to_lowercase())
    };
    let mut best: Option<usize> = None;
    for (i, t) in tokens.iter().enumerate() {
        if meaningful(t) && best.is_none_or(|b| tokens[b].chars().count() < t.chars().count()) {
            best = Some(i);
        }
    }
    let i = best?;
    let determiner = i
        .checked_sub(1)
        .and_then(|j| match tokens[j].to_lowercase().as_str() {
            "the" => Some("the"),
            "my" => Some("your"),
            "our" => Some("our"),
            "his" => Some("his"),
            "her" => Some("her"),
            "their" => Some("their"),
            _ => None,
        });
    Some(match determiner {
        Some(d) => format!("{d} {}", tokens[i]),
        None => tokens[i].to_string(),
    })
}

/// The values a wording's placeholders take.
#[derive(Default)]
struct Fill<'a> {
    echo: &'a str,
    topic: &'a str,
    feeling: &'a str,
    scene: &'a str,
}

/// How the persona speaks in this turn: its mode, its name, how it addresses the user.
struct Voice {
    mode: ChatMode,
    dice: Dice,
    name: String,
    user: Option<String>,
    /// ", Sam", ", darling" or nothing.
    address: String,
}

impl Voice {
    fn new(request: &ChatRequest, dice: Dice) -> Self {
        let user = request
            .user_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        // Not every sentence names the user: that would sound like a form letter.
        let address = match (&user, request.mode) {
            (Some(name), _) if !dice.one_in("address", 3) => format!(", {name}"),
            (None, ChatMode::Intimate) if dice.one_in("pet-name", 2) => {
                format!(", {}", dice.pick("pet-name-word", PET_NAMES))
            }
            _ => String::new(),
        };
        let name = request.persona.name.trim();
        Self {
            mode: request.mode,
            dice,
            name: if name.is_empty() {
                "your companion".into()
            } else {
                name.into()
            },
            user,
            address,
        }
    }

    /// One wording of `situation`, filled in.
    fn say(&self, situation: Situation, fill: &Fill) -> String {
        let salt = format!("wording-{situation:?}");
        let template = self.dice.pick(&salt, wordings(self.mode, situation));
        fill_in(template, WORDING_SLOTS, |slot| match slot {
            "{u}" => Cow::Borrowed(self.address.as_str()),
            "{name}" => Cow::Borrowed(self.name.as_str()),
            "{Echo}" => Cow::Owned(capitalize(fill.echo)),
            "{echo}" => Cow::Borrowed(fill.echo),
            "{Topic}" => Cow::Owned(capitalize(fill.topic)),
            "{topic}" => Cow::Borrowed(fill.topic),
            "{feeling}" => Cow::Borrowed(fill.feeling),
            _ => Cow::Borrowed(fill.scene),
        })
    }

    /// A card field with the Character Card macros (`{{char}}`, `{{user}}`, …) filled in.
    fn card(&self, text: &str) -> String {
        fill_card_macros(
            text.trim(),
            &self.name,
            self.user.as_deref().unwrap_or("you"),
        )
    }

    /// "Who are you?", answered from the card's name, description and personality.
    fn introduce(&self, persona: &Persona) -> String {
        let mut out = match self.mode {
            ChatMode::Secretary => format!("I'm {}, your assistant.", self.name),
            ChatMode::Intimate => format!("I'm {}.", self.name),
        };
        let description = self.card(&persona.description);
        if let Some(sentence) = first_sentence(&description) {
            out.push(' ');
            out.push_str(&sentence);
        }
        let personality = self.card(&persona.personality);
        let personality = personality.trim_end_matches(['.', '!']).trim();
        if !personality.is_empty() && personality.chars().count() <= 100 {
            out.push_str(&format!(
                " People say I'm {}.",
                lowercase_first(personality)
            ));
        }
        out.push_str(match self.mode {
            ChatMode::Secretary => " How can I help today?",
            ChatMode::Intimate => " And right now, I'm all yours.",
        });
        out
    }
}

fn first_sentence(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let end = text
        .char_indices()
        .find(|(i, c)| {
            matches!(c, '.' | '!' | '?') && text[i + 1..].starts_with(char::is_whitespace)
        })
        .map_or(text.len(), |(i, _)| i + 1);
    let sentence = text[..end].trim();
    Some(if sentence.ends_with(['.', '!', '?']) {
        sentence.to_string()
    } else {
        format!("{sentence}.")
    })
}

/// The slots a wording template may hold.
const WORDING_SLOTS: &[&str] = &[
    "{u}",
    "{name}",
    "{Echo}",
    "{echo}",
    "{Topic}",
    "{topic}",
    "{feeling}",
    "{scene}",
];

/// `template` with every one of `slots` replaced by `value(slot)`, in one pass: what a
/// value brings in is not searched again, and nothing is copied more than once.
fn fill_in<'v>(template: &str, slots: &[&str], value: impl Fn(&str) -> Cow<'v, str>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match slots.iter().find(|slot| rest.starts_with(**slot)) {
            Some(slot) => {
                out.push_str(&value(slot));
                rest = &rest[slot.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_is_the_longest_meaningful_word() {
        assert_eq!(
            topic("I went hiking in the mountains today").as_deref(),
            Some("the mountains")
        );
        assert_eq!(topic("My sister called").as_deref(), Some("your sister"));
        assert_eq!(topic("ok so what"), None);
    }

    #[test]
    fn first_sentence_stops_at_the_first_full_stop() {
        assert_eq!(
            first_sentence("Ava is kind. She likes tea.").as_deref(),
            Some("Ava is kind.")
        );
        assert_eq!(
            first_sentence("A 3.5 star chef").as_deref(),
            Some("A 3.5 star chef.")
        );
    }

    #[test]
    fn fill_in_replaces_slots_once_and_keeps_other_braces() {
        let out = fill_in(
            "{Echo}, {u}! {unknown} {{char}} {u}",
            &["{u}", "{Echo}", "{{char}}"],
            |slot| match slot {
                "{u}" => Cow::Borrowed("{Echo}"),
                "{Echo}" => Cow::Owned(capitalize("coffee")),
                _ => Cow::Borrowed("Ava"),
            },
        );
        assert_eq!(out, "Coffee, {Echo}! {unknown} Ava {Echo}");
        assert_eq!(
            fill_in("no slots", &["{u}"], |_| Cow::Borrowed("x")),
            "no slots"
        );
        assert_eq!(
            fill_in("ends with {", &["{u}"], |_| Cow::Borrowed("x")),
            "ends with {"
        );
    }
}
