//! Cutting text to a length, where a plugin's words are kept within a bound (a stored
//! reply, a photo's caption, an error's message).

use std::borrow::Cow;

/// What is appended where text was cut, so a reader sees that it was.
const ELLIPSIS: char = '…';

/// `text` cut to at most `max` characters (the ellipsis included), at the last word break
/// of its final stretch when there is one, so a cut reply does not end mid-word.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    // Cheap common case: a byte length within the limit is a char count within it too.
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let Some((end, _)) = text.char_indices().nth(max) else {
        return Cow::Borrowed(text);
    };
    let keep = max.saturating_sub(1);
    let hard = text.char_indices().nth(keep).map_or(end, |(i, _)| i);
    let head = &text[..hard];
    // A word break in the last 10% (at most 200 characters) of what is kept.
    let lookback = (keep / 10).min(200);
    let soft = head
        .char_indices()
        .rev()
        .take(lookback)
        .find(|(_, c)| c.is_whitespace())
        .map_or(hard, |(i, _)| i);
    let mut out = String::with_capacity(soft + ELLIPSIS.len_utf8());
    out.push_str(head[..soft].trim_end());
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// Cuts `text` as [`cut`] does, in place; true when it was cut.
pub fn cut_in_place(text: &mut String, max: usize) -> bool {
    match cut(text, max) {
        Cow::Borrowed(_) => false,
        Cow::Owned(cut) => {
            *text = cut;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_the_limit_is_not_copied() {
        assert!(matches!(cut("short enough", 12), Cow::Borrowed(_)));
        // 5 characters, 10 bytes: within a limit of 5 characters.
        assert!(matches!(cut("ééééé", 5), Cow::Borrowed(_)));
    }

    #[test]
    fn a_cut_keeps_at_most_max_characters_and_ends_on_a_word() {
        let text = "the quick brown fox jumps over the lazy dog ".repeat(100);
        let out = cut(&text, 1_000);
        assert!(out.chars().count() <= 1_000, "{}", out.chars().count());
        assert!(out.chars().count() > 900);
        assert!(out.ends_with('…'));
        let before = out.trim_end_matches('…');
        assert!(text.starts_with(before));
        assert!(
            text[before.len()..].starts_with(' '),
            "cut mid-word: {before:?}"
        );
    }

    #[test]
    fn a_cut_without_spaces_is_on_a_character_boundary() {
        let text = "é".repeat(50);
        let out = cut(&text, 10);
        assert_eq!(out, format!("{}…", "é".repeat(9)));
    }
}
