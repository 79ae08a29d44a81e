//! What the portrait shows: read from the prompt's keywords where it names something (hair
//! colour, eyes, setting…), drawn from the seed everywhere else.
//!
//! Every seeded value is drawn in a fixed order before any keyword applies, so a keyword
//! changes only its own feature: the same seed keeps the same face whatever the scene.

use crate::color::Rgb;
use crate::rng::Rng;

/// Where the portrait is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    Beach,
    Sunset,
    Snow,
    Nature,
    City,
    Cafe,
    Office,
    Cosy,
    /// No setting named: a seeded pastel backdrop.
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HairLength {
    Short,
    Bob,
    Long,
    Ponytail,
    Bun,
}

/// The edge of the hair over the forehead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fringe {
    Bangs,
    /// Swept to one side: -1 left, 1 right.
    Side(f32),
    Middle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Neckline {
    Round,
    V,
}

/// Everything the painter needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    pub scene: Scene,
    pub night: bool,
    pub backdrop: (Rgb, Rgb),
    pub skin: Rgb,
    pub hair: Rgb,
    pub hair_length: HairLength,
    pub fringe: Fringe,
    pub hair_volume: f32,
    pub eyes: Rgb,
    pub lips: Rgb,
    pub clothing: Rgb,
    pub formal: bool,
    pub neckline: Neckline,
    pub earrings: Option<Rgb>,
    pub freckles: bool,
    pub beard: bool,
    pub blush: f32,
    pub face_rx: f32,
    pub face_ry: f32,
    pub taper: f32,
    pub eye_spacing: f32,
    pub eye_drop: f32,
    pub eye_w: f32,
    pub eye_h: f32,
    pub brow_tilt: f32,
    pub mouth_w: f32,
    pub smile: f32,
    pub lip_h: f32,
    pub open_smile: bool,
    /// Scatters stars, bokeh and freckles.
    pub detail_seed: u64,
}

const SKIN_TONES: [Rgb; 6] = [
    Rgb::hex(0xF6DCCB),
    Rgb::hex(0xEEC6A8),
    Rgb::hex(0xE0AC88),
    Rgb::hex(0xC68E65),
    Rgb::hex(0x9C6644),
    Rgb::hex(0x6B4430),
];

const NATURAL_HAIR: [Rgb; 6] = [
    Rgb::hex(0xE6C46E),
    Rgb::hex(0x6B4226),
    Rgb::hex(0x1C1A1E),
    Rgb::hex(0xA8421C),
    Rgb::hex(0x3E2A1E),
    Rgb::hex(0x9A7048),
];

/// Hair colours by keyword, the first keyword naming the colour.
const HAIR_COLOURS: &[(&[&str], Rgb)] = &[
    (
        &["blonde", "blond", "golden", "platinum"],
        Rgb::hex(0xE6C46E),
    ),
    (&["brown", "brunette", "chestnut"], Rgb::hex(0x6B4226)),
    (&["black", "raven", "jet", "dark"], Rgb::hex(0x1C1A1E)),
    (
        &["red", "ginger", "auburn", "copper", "redhead"],
        Rgb::hex(0xA8421C),
    ),
    (&["silver", "grey", "gray", "white"], Rgb::hex(0xC8C8D0)),
    (&["pink"], Rgb::hex(0xF08CBE)),
    (&["blue"], Rgb::hex(0x3C6EE6)),
    (&["purple", "violet", "lavender"], Rgb::hex(0x8C5AC8)),
    (&["green"], Rgb::hex(0x3CA064)),
];

/// Words that name a hair colour on their own: "a blonde woman".
const HAIR_ALONE: &[&str] = &["blonde", "blond", "brunette", "redhead", "ginger", "auburn"];
const HAIR_NOUNS: &[&str] = &[
    "hair", "haired", "locks", "curls", "ponytail", "bob", "braid", "braids", "bun",
];

const EYE_COLOURS: &[(&[&str], Rgb)] = &[
    (&["blue"], Rgb::hex(0x3F7FD9)),
    (&["green", "emerald"], Rgb::hex(0x3E9A58)),
    (&["brown", "dark"], Rgb::hex(0x6A4020)),
    (&["hazel", "amber"], Rgb::hex(0x9A7A35)),
    (&["grey", "gray", "silver"], Rgb::hex(0x8A96A2)),
];
const EYE_NOUNS: &[&str] = &["eyes", "eyed", "eye"];

const CLOTHING_COLOURS: &[(&[&str], Rgb)] = &[
    (&["red", "scarlet"], Rgb::hex(0xC0392B)),
    (&["navy"], Rgb::hex(0x1F2F55)),
    (&["blue"], Rgb::hex(0x2E6FD0)),
    (&["black"], Rgb::hex(0x1E1E24)),
    (&["white"], Rgb::hex(0xF2F2F2)),
    (&["green"], Rgb::hex(0x2E8B57)),
    (&["yellow"], Rgb::hex(0xF1C40F)),
    (&["pink"], Rgb::hex(0xE88AAE)),
    (&["purple", "violet"], Rgb::hex(0x7D4CC0)),
    (&["grey", "gray"], Rgb::hex(0x7F8C8D)),
    (&["beige", "cream"], Rgb::hex(0xE3D5B8)),
    (&["brown"], Rgb::hex(0x7B4A2A)),
    (&["orange"], Rgb::hex(0xE67E22)),
    (&["teal", "turquoise"], Rgb::hex(0x1F9E9A)),
    (&["burgundy", "maroon", "wine"], Rgb::hex(0x7A1F35)),
];
const GARMENTS: &[&str] = &[
    "dress", "shirt", "top", "blouse", "suit", "sweater", "jumper", "jacket", "hoodie", "blazer",
    "tshirt", "tee", "coat", "cardigan", "uniform", "gown", "outfit",
];

const SEEDED_CLOTHES: [Rgb; 8] = [
    Rgb::hex(0xC0392B),
    Rgb::hex(0x2E6FD0),
    Rgb::hex(0x1E1E24),
    Rgb::hex(0x2E8B57),
    Rgb::hex(0xE88AAE),
    Rgb::hex(0x7D4CC0),
    Rgb::hex(0xE3D5B8),
    Rgb::hex(0x1F9E9A),
];

const BACKDROPS: [(u32, u32); 6] = [
    (0xFAD0C4, 0xFFD1FF),
    (0xA1C4FD, 0xC2E9FB),
    (0xD4FC79, 0x96E6A1),
    (0xFBC2EB, 0xA6C1EE),
    (0xFDDB92, 0xD1FDFF),
    (0xE0C3FC, 0x8EC5FC),
];

/// Scenes by keyword, most specific first: "at the beach, cosy mood" is a beach.
const SCENES: &[(Scene, &[&str])] = &[
    (
        Scene::Beach,
        &[
            "beach", "sea", "ocean", "seaside", "shore", "coast", "sand", "waves", "tropical",
        ],
    ),
    (Scene::Sunset, &["sunset", "sunrise", "dusk", "dawn"]),
    (Scene::Snow, &["snow", "snowy", "winter", "ski", "skiing"]),
    (
        Scene::Nature,
        &[
            "forest",
            "park",
            "garden",
            "woods",
            "trees",
            "nature",
            "meadow",
            "hiking",
            "field",
            "mountains",
            "lake",
        ],
    ),
    (
        Scene::City,
        &["city", "street", "downtown", "urban", "rooftop", "skyline"],
    ),
    (
        Scene::Cafe,
        &[
            "cafe",
            "café",
            "coffee",
            "restaurant",
            "bar",
            "bistro",
            "diner",
        ],
    ),
    (
        Scene::Office,
        &[
            "office",
            "desk",
            "work",
            "workplace",
            "meeting",
            "conference",
            "boardroom",
        ],
    ),
    (
        Scene::Cosy,
        &[
            "home",
            "sofa",
            "couch",
            "cosy",
            "cozy",
            "bedroom",
            "bed",
            "fireplace",
            "living",
            "candle",
            "candlelight",
        ],
    ),
];
const NIGHT: &[&str] = &[
    "night",
    "midnight",
    "moon",
    "moonlight",
    "stars",
    "starry",
    "nighttime",
];
const FORMAL: &[&str] = &[
    "suit",
    "blazer",
    "business",
    "professional",
    "formal",
    "corporate",
];
const MALE: &[&str] = &[
    "man",
    "male",
    "guy",
    "boy",
    "gentleman",
    "he",
    "his",
    "husband",
    "boyfriend",
];

impl Look {
    /// The look for `prompt` with `seed`.
    pub fn new(prompt: &str, seed: u64) -> Self {
        let words = words(prompt);
        let mut rng = Rng::new(seed);

        // 1. Seeded defaults, always drawn in this order.
        let skin = rng.pick(&SKIN_TONES);
        let hair = rng.pick(&NATURAL_HAIR);
        let length_pick = rng.unit();
        let fringe = rng.pick(&[
            Fringe::Bangs,
            Fringe::Side(-1.0),
            Fringe::Side(1.0),
            Fringe::Middle,
        ]);
        let hair_volume = rng.range(0.0, 0.025);
        let eyes = rng.pick(&[
            EYE_COLOURS[0].1,
            EYE_COLOURS[1].1,
            EYE_COLOURS[2].1,
            EYE_COLOURS[2].1,
            EYE_COLOURS[3].1,
        ]);
        let lipstick = rng.pick(&[
            Rgb::hex(0xC0485A),
            Rgb::hex(0xB5656B),
            Rgb::hex(0xD9707E),
            Rgb::hex(0x9E3344),
        ]);
        let lipstick_amount = rng.range(0.35, 0.7);
        let seeded_clothing = rng.pick(&SEEDED_CLOTHES);
        let neckline = rng.pick(&[Neckline::Round, Neckline::V]);
        let earrings = rng
            .chance(0.35)
            .then(|| rng.pick(&[Rgb::hex(0xE8C15A), Rgb::hex(0xD8DCE2)]));
        let blush = rng.range(0.08, 0.22);
        let face_rx = rng.range(0.150, 0.170);
        let face_ry = face_rx * rng.range(1.24, 1.36);
        let taper = rng.range(0.12, 0.24);
        let eye_spacing = face_rx * rng.range(0.40, 0.46);
        let eye_drop = rng.range(0.0, 0.08);
        let eye_w = rng.range(0.028, 0.034);
        let eye_h = eye_w * rng.range(0.55, 0.66);
        let brow_tilt = rng.range(-0.006, 0.002);
        let mouth_w = face_rx * rng.range(0.26, 0.36);
        let smile = rng.range(0.006, 0.016);
        let lip_h = rng.range(0.008, 0.012);
        let open_smile = rng.chance(0.33);
        let backdrop_pick = rng.pick(&BACKDROPS);
        let detail_seed = rng.next_u64();

        // 2. Keywords.
        let male = words.iter().any(|w| MALE.contains(&w.as_str()));
        let hair = colour_before(&words, HAIR_COLOURS, HAIR_NOUNS, 2)
            .or_else(|| alone(&words, HAIR_ALONE, HAIR_COLOURS))
            .unwrap_or(hair);
        let eyes = colour_before(&words, EYE_COLOURS, EYE_NOUNS, 2).unwrap_or(eyes);
        let skin = skin_keyword(&words).unwrap_or(skin);
        let clothing = colour_before(&words, CLOTHING_COLOURS, GARMENTS, 2);
        let formal = words.iter().any(|w| FORMAL.contains(&w.as_str()));
        let clothing = match (clothing, formal) {
            (Some(c), _) => c,
            (None, true) => Rgb::hex(0x2B3245),
            (None, false) => seeded_clothing,
        };
        let hair_length = length_keyword(&words).unwrap_or_else(|| {
            let choices: &[HairLength] = if male {
                &[HairLength::Short, HairLength::Short, HairLength::Bob]
            } else {
                &[
                    HairLength::Long,
                    HairLength::Long,
                    HairLength::Bob,
                    HairLength::Ponytail,
                    HairLength::Bun,
                    HairLength::Short,
                ]
            };
            choices[(length_pick * choices.len() as f32) as usize % choices.len()]
        });
        let fringe = match (hair_length, fringe) {
            (HairLength::Short, Fringe::Middle) => Fringe::Side(1.0),
            (_, f) => f,
        };
        let scene = SCENES
            .iter()
            .find(|(_, keys)| words.iter().any(|w| keys.contains(&w.as_str())))
            .map_or(Scene::Plain, |(scene, _)| *scene);
        let night = words.iter().any(|w| NIGHT.contains(&w.as_str()));
        let lips = if male {
            skin.mix(Rgb::hex(0xB0605A), 0.35)
        } else {
            skin.mix(lipstick, lipstick_amount)
        };

        Self {
            scene,
            night,
            backdrop: (Rgb::hex(backdrop_pick.0), Rgb::hex(backdrop_pick.1)),
            skin,
            hair,
            hair_length,
            fringe,
            hair_volume,
            eyes,
            lips,
            clothing,
            formal,
            neckline,
            earrings: if male { None } else { earrings },
            freckles: words.iter().any(|w| w.starts_with("freckle")),
            beard: words
                .iter()
                .any(|w| ["beard", "bearded", "stubble"].contains(&w.as_str())),
            blush: if male { blush * 0.4 } else { blush },
            face_rx,
            face_ry,
            taper,
            eye_spacing,
            eye_drop,
            eye_w,
            eye_h,
            brow_tilt,
            mouth_w,
            smile,
            lip_h,
            open_smile,
            detail_seed,
        }
    }
}

/// Lowercase alphanumeric words; hyphens separate ("blue-eyed" → "blue", "eyed").
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The colour named right before one of `nouns`, within `window` words: the nearest colour
/// word wins, so "dark brown hair" is brown and "long black wavy hair" is black.
fn colour_before(
    words: &[String],
    colours: &[(&[&str], Rgb)],
    nouns: &[&str],
    window: usize,
) -> Option<Rgb> {
    let colour_of = |w: &String| {
        colours
            .iter()
            .find(|(keys, _)| keys.contains(&w.as_str()))
            .map(|(_, c)| *c)
    };
    words
        .iter()
        .enumerate()
        .filter(|(_, w)| nouns.contains(&w.as_str()))
        .find_map(|(i, _)| {
            words[i.saturating_sub(window)..i]
                .iter()
                .rev()
                .find_map(colour_of)
        })
}

fn alone(words: &[String], alone: &[&str], colours: &[(&[&str], Rgb)]) -> Option<Rgb> {
    let w = words.iter().find(|w| alone.contains(&w.as_str()))?;
    colours
        .iter()
        .find(|(keys, _)| keys.contains(&w.as_str()))
        .map(|(_, c)| *c)
}

fn skin_keyword(words: &[String]) -> Option<Rgb> {
    const TONES: &[(&[&str], usize)] = &[
        (&["pale", "fair", "porcelain"], 0),
        (&["light"], 1),
        (&["olive", "tan", "tanned", "sunkissed", "golden"], 3),
        (&["brown"], 4),
        (&["dark", "deep", "ebony", "black"], 5),
    ];
    const SKIN: &[&str] = &["skin", "skinned", "complexion"];
    for (i, w) in words.iter().enumerate() {
        let Some((_, tone)) = TONES.iter().find(|(keys, _)| keys.contains(&w.as_str())) else {
            continue;
        };
        let ahead = &words[i + 1..words.len().min(i + 3)];
        let standalone = ["pale", "porcelain", "tanned", "sunkissed"].contains(&w.as_str());
        if standalone || ahead.iter().any(|a| SKIN.contains(&a.as_str())) {
            return Some(SKIN_TONES[*tone]);
        }
    }
    None
}

fn length_keyword(words: &[String]) -> Option<HairLength> {
    for (i, w) in words.iter().enumerate() {
        let by_itself = match w.as_str() {
            "ponytail" => Some(HairLength::Ponytail),
            "bun" => Some(HairLength::Bun),
            "bob" => Some(HairLength::Bob),
            "pixie" | "buzz" | "buzzcut" | "crewcut" => Some(HairLength::Short),
            _ => None,
        };
        if by_itself.is_some() {
            return by_itself;
        }
        let ahead = &words[i + 1..words.len().min(i + 4)];
        let about_hair = ahead.iter().any(|a| a == "hair" || a == "haired");
        match w.as_str() {
            "long" if about_hair => return Some(HairLength::Long),
            "short" | "cropped" if about_hair => return Some(HairLength::Short),
            "shoulder" | "medium" if about_hair => return Some(HairLength::Bob),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hair_colour_comes_from_the_words_before_hair() {
        let look = Look::new("woman with long wavy auburn hair and blue eyes", 1);
        assert_eq!(look.hair, Rgb::hex(0xA8421C));
        assert_eq!(look.eyes, Rgb::hex(0x3F7FD9));
        assert_eq!(look.hair_length, HairLength::Long);
    }

    #[test]
    fn the_colour_nearest_the_hair_wins() {
        assert_eq!(Look::new("dark brown hair", 1).hair, Rgb::hex(0x6B4226));
        assert_eq!(
            Look::new("long black wavy hair", 1).hair,
            Rgb::hex(0x1C1A1E)
        );
    }

    #[test]
    fn a_colour_of_clothing_is_not_a_hair_colour() {
        let a = Look::new("woman in a black dress", 5);
        let b = Look::new("woman", 5);
        assert_eq!(a.hair, b.hair);
        assert_eq!(a.clothing, Rgb::hex(0x1E1E24));
    }

    #[test]
    fn keywords_leave_the_seeded_face_alone() {
        let a = Look::new("blonde, at the beach", 9);
        let b = Look::new("brunette, in the office", 9);
        assert_eq!(
            (a.face_rx, a.eye_spacing, a.smile),
            (b.face_rx, b.eye_spacing, b.smile)
        );
    }

    #[test]
    fn the_most_specific_scene_wins() {
        assert_eq!(
            Look::new("at the beach, cosy romantic mood", 1).scene,
            Scene::Beach
        );
        assert_eq!(
            Look::new("curled up on a cosy sofa at home", 1).scene,
            Scene::Cosy
        );
        assert_eq!(Look::new("a portrait", 1).scene, Scene::Plain);
    }

    #[test]
    fn night_words_darken_any_scene() {
        let look = Look::new("at the beach at night", 1);
        assert_eq!((look.scene, look.night), (Scene::Beach, true));
    }

    #[test]
    fn professional_attire_is_formal() {
        assert!(Look::new("wearing smart professional attire", 1).formal);
    }
}
