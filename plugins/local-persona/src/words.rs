//! Reading the user's text the way a person skims it: case-insensitive, punctuation-blind.

/// The lowercase words of `text`. Apostrophes are dropped inside words (`I'll` → `ill`,
/// `what’s` → `whats`) so contractions match one spelling; every other non-alphanumeric
/// character separates words.
pub fn words(text: &str) -> Vec<String> {
    // A word is a run of letters, digits and apostrophes, the apostrophes then dropped.
    // Most runs are plain ASCII: those are copied and lowercased with one allocation.
    let apostrophe = |c: char| c == '\'' || c == '’';
    text.split(|c: char| !c.is_alphanumeric() && !apostrophe(c))
        .filter_map(|run| {
            let word = if run.bytes().all(|b| b.is_ascii_alphanumeric()) {
                run.to_ascii_lowercase()
            } else {
                run.chars()
                    .filter(|&c| !apostrophe(c))
                    .flat_map(char::to_lowercase)
                    .collect()
            };
            (!word.is_empty()).then_some(word)
        })
        .collect()
}

/// Whether `phrase` (space-separated lowercase words) occurs in `words` as consecutive words.
pub fn has_phrase(words: &[String], phrase: &str) -> bool {
    find_phrase(words, phrase).is_some()
}

/// The index of the first word of the first occurrence of `phrase` in `words`.
///
/// Called for every phrase of every intent list on each message, so it allocates nothing:
/// it looks for the phrase's first word, then compares the rest in place.
pub fn find_phrase(words: &[String], phrase: &str) -> Option<usize> {
    let mut needle = phrase.split_ascii_whitespace();
    let first = needle.next()?;
    (0..words.len()).find(|&i| {
        words[i] == first && {
            let mut rest = words[i + 1..].iter();
            needle.clone().all(|n| rest.next().is_some_and(|w| w == n))
        }
    })
}

/// Whether any word of `words` is one of `set`.
pub fn any_of(words: &[String], set: &[&str]) -> bool {
    words.iter().any(|w| set.contains(&w.as_str()))
}

/// Words that carry no topic: pronouns, articles, auxiliaries, fillers.
pub const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "cant",
    "could",
    "couldnt",
    "did",
    "didnt",
    "do",
    "does",
    "doesnt",
    "dont",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "id",
    "if",
    "ill",
    "im",
    "in",
    "into",
    "is",
    "isnt",
    "it",
    "its",
    "ive",
    "just",
    "like",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "not",
    "now",
    "of",
    "off",
    "oh",
    "ok",
    "okay",
    "on",
    "or",
    "our",
    "out",
    "over",
    "please",
    "really",
    "she",
    "should",
    "so",
    "some",
    "still",
    "such",
    "than",
    "that",
    "thats",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "to",
    "today",
    "too",
    "um",
    "up",
    "very",
    "was",
    "wasnt",
    "we",
    "well",
    "were",
    "what",
    "whats",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "wouldnt",
    "yeah",
    "yes",
    "you",
    "youre",
    "your",
    "yours",
    "going",
    "gonna",
    "wanna",
    "want",
    "need",
    "know",
    "maybe",
    "much",
    "many",
    "only",
    "been",
    "there",
    "theyre",
    "something",
    "anything",
    "everything",
    "lot",
    "kind",
    "sort",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_separates_and_case_folds() {
        assert_eq!(words("Send.ME a PIC!!!"), ["send", "me", "a", "pic"]);
    }

    #[test]
    fn apostrophes_join_contractions() {
        assert_eq!(words("I'll see what’s up"), ["ill", "see", "whats", "up"]);
        assert_eq!(words("rock 'n' roll ''"), ["rock", "n", "roll"]);
    }

    #[test]
    fn letters_beyond_ascii_are_words_too() {
        assert_eq!(words("ÇA va? L’ÉTÉ, 2026"), ["ça", "va", "lété", "2026"]);
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let w = words("can I see you?");
        assert_eq!(find_phrase(&w, "i see you"), Some(1));
        assert!(!has_phrase(&words("can I seek you"), "i see you"));
    }
}
