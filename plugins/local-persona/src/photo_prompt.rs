//! The photo the persona sends: an image prompt from its appearance, the scene the user asked
//! for and the mood of the conversation, plus a caption in the persona's voice.

use ava_sdk::chat::{ChatMode, Persona, PhotoRequest};

use crate::seed::Dice;

/// What the image must never show: common failure modes of image models, and anything
/// explicit (the intimate mode is affectionate, never explicit).
pub const NEGATIVE_PROMPT: &str = "blurry, distorted, deformed, bad anatomy, extra limbs, \
    extra fingers, text, watermark, logo, lowres, nsfw, nudity";

/// The scene when the user named none: where the persona would plausibly be.
pub fn default_scene(mode: ChatMode) -> &'static str {
    match mode {
        ChatMode::Secretary => "at a desk in a bright modern office",
        ChatMode::Intimate => "curled up on a cosy sofa at home",
    }
}

/// The mode as the picture shows it: attire and setting at work, mood and light in private.
fn mode_look(mode: ChatMode) -> &'static str {
    match mode {
        ChatMode::Secretary => {
            "wearing smart professional attire, confident friendly smile, professional setting"
        }
        ChatMode::Intimate => {
            "cosy romantic mood, warm soft lighting, affectionate smile, tasteful casual outfit"
        }
    }
}

/// The photo request for `persona` in `scene` (the user's, or the mode's default).
pub fn build(persona: &Persona, mode: ChatMode, scene: Option<&str>, dice: Dice) -> PhotoRequest {
    let appearance = persona
        .appearance
        .trim()
        .trim_end_matches(['.', ',', ';'])
        .trim();
    let subject = if appearance.is_empty() {
        // No appearance on the card: a neutral portrait still works with any image model.
        "portrait of a friendly young adult".to_string()
    } else {
        appearance.to_string()
    };
    let shot = dice.pick(
        "photo-shot",
        &[
            "candid selfie",
            "natural portrait photo",
            "close-up portrait",
        ],
    );
    let prompt = [
        subject.as_str(),
        scene.unwrap_or(default_scene(mode)),
        mode_look(mode),
        shot,
        "photorealistic, natural light, sharp focus",
    ]
    .join(", ");
    PhotoRequest {
        prompt,
        negative_prompt: Some(NEGATIVE_PROMPT.to_string()),
        caption: Some(caption(mode, scene, dice)),
    }
}

fn caption(mode: ChatMode, scene: Option<&str>, dice: Dice) -> String {
    let template = match (mode, scene.is_some()) {
        (ChatMode::Secretary, true) => {
            *dice.pick("caption", &["Me {scene}", "A quick one {scene}"])
        }
        (ChatMode::Secretary, false) => *dice.pick("caption", &["At my desk", "Back at work"]),
        (ChatMode::Intimate, true) => *dice.pick(
            "caption",
            &["Me {scene}, just for you", "Thinking of you {scene}"],
        ),
        (ChatMode::Intimate, false) => *dice.pick("caption", &["Just for you", "Thinking of you"]),
    };
    template.replace("{scene}", scene.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persona(appearance: &str) -> Persona {
        Persona {
            id: "p".into(),
            name: "Ava".into(),
            style: String::new(),
            description: String::new(),
            personality: String::new(),
            scenario: String::new(),
            greeting: String::new(),
            example_dialogue: String::new(),
            system_prompt: String::new(),
            post_history_instructions: String::new(),
            appearance: appearance.into(),
        }
    }

    #[test]
    fn prompt_starts_with_the_appearance_and_holds_the_scene() {
        let p = build(
            &persona("red hair, green eyes."),
            ChatMode::Intimate,
            Some("at the beach"),
            Dice::for_turn("p", "m", 0),
        );
        assert!(
            p.prompt.starts_with("red hair, green eyes, at the beach"),
            "{}",
            p.prompt
        );
    }

    #[test]
    fn secretary_photos_show_professional_attire_and_a_default_office() {
        let p = build(
            &persona("short black hair"),
            ChatMode::Secretary,
            None,
            Dice::for_turn("p", "m", 0),
        );
        assert!(p.prompt.contains("professional attire"));
        assert!(p.prompt.contains("office"));
    }

    #[test]
    fn intimate_photos_have_a_cosy_romantic_mood() {
        let p = build(
            &persona("short black hair"),
            ChatMode::Intimate,
            None,
            Dice::for_turn("p", "m", 0),
        );
        assert!(p.prompt.contains("cosy romantic mood"));
    }

    #[test]
    fn explicit_content_is_always_negative() {
        let p = build(
            &persona(""),
            ChatMode::Intimate,
            None,
            Dice::for_turn("p", "m", 0),
        );
        assert!(p.negative_prompt.unwrap().contains("nsfw"));
    }

    #[test]
    fn caption_names_the_scene() {
        let p = build(
            &persona(""),
            ChatMode::Secretary,
            Some("in the park"),
            Dice::for_turn("p", "m", 0),
        );
        assert!(p.caption.unwrap().contains("in the park"));
    }
}
