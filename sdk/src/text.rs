//! Text helpers: what plugins pass on from upstreams, and persona card text.

/// `text` cut to at most `max` bytes, on a character boundary: upstream messages can reach
/// users and logs, and some are very long.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` with the Character Card macros filled in: `{{char}}` and the older `<BOT>`
/// become `char`, `{{user}}` and `<USER>` become `user`, in any case (cards vary). One pass:
/// a name that itself contains a macro is not filled again.
pub fn fill_card_macros(text: &str, char: &str, user: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['{', '<']) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let found = [
            ("{{char}}", char),
            ("{{user}}", user),
            ("<bot>", char),
            ("<user>", user),
        ]
        .into_iter()
        .find(|(token, _)| {
            rest.get(..token.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(token))
        });
        match found {
            Some((token, name)) => {
                out.push_str(name);
                rest = &rest[token.len()..];
            }
            // `{` and `<` are one byte: the scan goes on after it.
            None => {
                out.push_str(&rest[..1]);
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{fill_card_macros, truncate};

    #[test]
    fn card_macros_are_filled_in_any_case() {
        assert_eq!(
            fill_card_macros(
                "{{char}} greets {{User}}. <BOT> smiles at <user>.",
                "Ava",
                "Sam"
            ),
            "Ava greets Sam. Ava smiles at Sam."
        );
        assert_eq!(
            fill_card_macros(
                "{{char}} likes {{User}}; <BOT> and <user>. {not} <b>",
                "Ava",
                "Sam"
            ),
            "Ava likes Sam; Ava and Sam. {not} <b>"
        );
        assert_eq!(
            fill_card_macros("no placeholders {x} <y>", "A", "B"),
            "no placeholders {x} <y>"
        );
        assert_eq!(
            fill_card_macros("héllo {{char}}", "Ava", "Sam"),
            "héllo Ava"
        );
        // A name is not searched again, and a text ending in a bracket keeps it.
        assert_eq!(
            fill_card_macros("{{user}} <", "{{char}}", "<bot>"),
            "<bot> <"
        );
    }

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("abcdef", 3), "abc");
        // "é" is two bytes: a cut inside it steps back before it.
        assert_eq!(truncate("aé", 2), "a");
    }
}
