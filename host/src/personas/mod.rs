//! Personas: the characters users chat with. Validation, the default persona, and the
//! Character Card import/export (`cards`).

pub mod cards;

use rand::Rng;

use crate::accounts::validate::Invalid;
use crate::db::personas::{Persona, PersonaData};
use crate::db::{DbResult, new_id, now_ms};

/// Longest free-text field, in characters.
const MAX_TEXT: usize = 20_000;
/// Longest name, in characters.
const MAX_NAME: usize = 80;
/// Most tags and alternate greetings.
const MAX_LIST: usize = 64;
/// Personas one user may have.
pub const MAX_PER_USER: i64 = 100;

/// What every new account starts with.
pub fn default_persona() -> PersonaData {
    PersonaData {
        name: "Ava".into(),
        style: "warm".into(),
        description: "Ava is a warm, quick-witted companion in her late twenties who loves \
                      good conversation, old films and walks by the sea."
            .into(),
        personality: "attentive, playful, curious, kind, a little teasing".into(),
        scenario: "Ava and the user talk every day; she remembers what matters to them.".into(),
        greeting: "Hey, it's Ava. I was hoping you'd stop by. How's your day going?".into(),
        example_dialogue: String::new(),
        system_prompt: String::new(),
        post_history_instructions: String::new(),
        appearance: "a woman in her late twenties with shoulder-length wavy auburn hair, green \
                     eyes, light freckles and a warm smile"
            .into(),
        alternate_greetings: Vec::new(),
        tags: vec!["companion".into()],
        creator: "Ava".into(),
        creator_notes: String::new(),
    }
}

/// Trims `data` and checks it against the limits; the failure names its field.
pub fn validate(mut data: PersonaData) -> Result<PersonaData, Invalid> {
    data.name = data.name.trim().to_string();
    if data.name.is_empty() {
        return Err(Invalid::new("name", "is required"));
    }
    if data.name.chars().count() > MAX_NAME {
        return Err(Invalid::new(
            "name",
            format!("must be at most {MAX_NAME} characters"),
        ));
    }
    if data.style.trim().is_empty() {
        data.style = "warm".into();
    }
    let texts: [(&'static str, &str); 12] = [
        ("style", &data.style),
        ("description", &data.description),
        ("personality", &data.personality),
        ("scenario", &data.scenario),
        ("greeting", &data.greeting),
        ("example_dialogue", &data.example_dialogue),
        ("system_prompt", &data.system_prompt),
        ("post_history_instructions", &data.post_history_instructions),
        ("appearance", &data.appearance),
        ("creator", &data.creator),
        ("creator_notes", &data.creator_notes),
        ("name", &data.name),
    ];
    for (field, text) in texts {
        if text.chars().count() > MAX_TEXT {
            return Err(Invalid::new(
                field,
                format!("must be at most {MAX_TEXT} characters"),
            ));
        }
    }
    for (field, list) in [
        ("alternate_greetings", &data.alternate_greetings),
        ("tags", &data.tags),
    ] {
        if list.len() > MAX_LIST {
            return Err(Invalid::new(
                field,
                format!("must have at most {MAX_LIST} entries"),
            ));
        }
        if list.iter().any(|s| s.chars().count() > MAX_TEXT) {
            return Err(Invalid::new(
                field,
                format!("entries must be at most {MAX_TEXT} characters"),
            ));
        }
    }
    data.tags.retain(|t| !t.trim().is_empty());
    Ok(data)
}

/// A new persona of `user_id`, with a fresh photo seed.
pub fn new_persona(user_id: &str, data: PersonaData) -> Persona {
    let now = now_ms();
    Persona {
        id: new_id(),
        user_id: user_id.to_string(),
        data,
        // Positive and within JavaScript's safe integers, so the SPA shows it exactly.
        photo_seed: rand::rng().random_range(1..(1i64 << 52)),
        created_at: now,
        updated_at: now,
    }
}

/// Whether `user_id` may add another persona.
pub async fn has_room<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
) -> DbResult<bool> {
    Ok(crate::db::personas::count(e, user_id).await? < MAX_PER_USER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_persona_is_valid() {
        let d = validate(default_persona()).unwrap();
        assert_eq!(d.name, "Ava");
        assert!(!d.appearance.is_empty());
    }

    #[test]
    fn a_name_is_required_and_trimmed() {
        let mut d = default_persona();
        d.name = "   ".into();
        assert_eq!(validate(d).unwrap_err().field, "name");
        let mut d = default_persona();
        d.name = "  Mia ".into();
        assert_eq!(validate(d).unwrap().name, "Mia");
    }

    #[test]
    fn oversized_fields_are_refused_by_name() {
        let mut d = default_persona();
        d.scenario = "x".repeat(MAX_TEXT + 1);
        assert_eq!(validate(d).unwrap_err().field, "scenario");
        let mut d = default_persona();
        d.tags = vec!["t".into(); MAX_LIST + 1];
        assert_eq!(validate(d).unwrap_err().field, "tags");
    }

    #[test]
    fn seeds_are_positive_and_differ() {
        let a = new_persona("u", default_persona());
        let b = new_persona("u", default_persona());
        assert!(a.photo_seed > 0 && a.photo_seed < 1 << 52);
        assert_ne!(a.photo_seed, b.photo_seed);
        assert_ne!(a.id, b.id);
    }
}
