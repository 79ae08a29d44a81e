//! The image prompt of a photo: the persona's appearance first (it anchors the look), then
//! the scene the persona asked for, without repeating what the appearance already says.

/// The longest prompt sent to the image plugin, in characters; image models ignore the rest.
const MAX_CHARS: usize = 1_500;

/// `appearance` and `scene` as one comma-separated prompt: fragments trimmed, blanks and
/// repeats (compared case-insensitively) dropped, appearance first.
pub fn compose(appearance: &str, scene: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut len = 0;
    for fragment in fragments(appearance).chain(fragments(scene)) {
        let key = fragment.to_lowercase();
        if seen.contains(&key) {
            continue;
        }
        let added = fragment.chars().count() + if out.is_empty() { 0 } else { 2 };
        if len + added > MAX_CHARS {
            break;
        }
        len += added;
        seen.push(key);
        out.push(fragment);
    }
    out.join(", ")
}

/// The comma-, semicolon- or line-separated parts of `text`, whitespace collapsed and
/// trailing full stops removed.
fn fragments(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split([',', ';', '\n'])
        .map(|f| f.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|f| f.trim_end_matches('.').trim().to_string())
        .filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appearance_comes_first_then_the_scene() {
        assert_eq!(
            compose("red hair, green eyes", "at the beach, smiling"),
            "red hair, green eyes, at the beach, smiling"
        );
    }

    #[test]
    fn what_the_appearance_says_is_not_repeated() {
        assert_eq!(
            compose(
                "Red hair, green eyes.",
                "red hair,  green eyes, at the beach"
            ),
            "Red hair, green eyes, at the beach"
        );
    }

    #[test]
    fn blanks_and_whitespace_are_trimmed() {
        assert_eq!(
            compose("  tall ,, \n slim. ", " ; in the   office ,"),
            "tall, slim, in the office"
        );
    }

    #[test]
    fn an_empty_appearance_leaves_the_scene() {
        assert_eq!(compose("", "a portrait"), "a portrait");
    }

    #[test]
    fn overlong_prompts_are_cut_between_fragments() {
        let long = vec!["word word word word"; 200]
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{w} {i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let out = compose("appearance", &long);
        assert!(out.chars().count() <= MAX_CHARS);
        assert!(out.starts_with("appearance, word word word word 0"));
        assert!(out.ends_with(|c: char| c.is_ascii_digit()));
    }
}
