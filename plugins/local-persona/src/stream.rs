//! Cutting a reply into the pieces pushed while "typing".

/// `text` cut after every `words_per_chunk` words. Each piece keeps the whitespace that
/// follows its last word, so the pieces concatenate to exactly `text`.
pub fn chunks(text: &str, words_per_chunk: usize) -> Vec<&str> {
    let per = words_per_chunk.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut words = 0;
    let mut previous_was_space = true;
    for (i, c) in text.char_indices() {
        let is_space = c.is_whitespace();
        if !is_space && previous_was_space {
            // A word starts here: cut before it when the current piece is full.
            if words == per {
                out.push(&text[start..i]);
                start = i;
                words = 0;
            }
            words += 1;
        }
        previous_was_space = is_space;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_concatenate_to_the_text() {
        let text = "Hello there,  Sam!\n\nHow is   your day going so far?";
        assert_eq!(chunks(text, 3).concat(), text);
    }

    #[test]
    fn each_piece_holds_the_given_number_of_words() {
        assert_eq!(chunks("a b c d e", 2), ["a b ", "c d ", "e"]);
    }

    #[test]
    fn empty_text_gives_no_pieces() {
        assert!(chunks("", 4).is_empty());
    }
}
