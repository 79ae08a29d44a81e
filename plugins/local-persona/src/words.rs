//! Reading the user's text the way a person skims it: case-insensitive, punctuation-blind.

/// The lowercase words of `text`. Apostrophes are dropped inside words (`I'll` → `ill`,
/// `what’s` → `whats`) so contractions match one spelling; every other non-alphanumeric
/// character separates words.
pub fn words(text: &str) -> Vec<String> {
    // Most runs are plain ASCII: those are copied and lowercased with one allocation.
    runs(text)
        .filter_map(|run| {
            let word = if run.bytes().all(|b| b.is_ascii_alphanumeric()) {
                run.to_ascii_lowercase()
            } else {
                folded(run).collect()
            };
            (!word.is_empty()).then_some(word)
        })
        .collect()
}

/// Whether one of `targets` (lowercase) is among the [`words`] of `text`, without building
/// them.
pub fn has_any_word(text: &str, targets: &[&str]) -> bool {
    runs(text).any(|run| targets.iter().any(|target| folded(run).eq(target.chars())))
}

/// The runs of letters, digits and apostrophes that words are made of.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric() && !is_apostrophe(c))
}

/// A run's word: its characters lowercased, apostrophes dropped.
fn folded(run: &str) -> impl Iterator<Item = char> + '_ {
    run.chars()
        .filter(|&c| !is_apostrophe(c))
        .flat_map(char::to_lowercase)
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
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

/// Words that carry no topic: pronouns, articles, auxiliaries, fillers. Sorted, so
/// [`is_stopword`] can search it by halves: the memory checks every word of every turn
/// it folds.
const STOPWORDS: &[&str] = &[
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
    "anything",
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
    "everything",
    "for",
    "from",
    "get",
    "going",
    "gonna",
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
    "kind",
    "know",
    "like",
    "lot",
    "many",
    "maybe",
    "me",
    "more",
    "most",
    "much",
    "my",
    "myself",
    "need",
    "no",
    "not",
    "now",
    "of",
    "off",
    "oh",
    "ok",
    "okay",
    "on",
    "only",
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
    "something",
    "sort",
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
    "theyre",
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
    "wanna",
    "want",
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
    "your",
    "youre",
    "yours",
];

/// Whether `word` (lowercase, as [`words`] gives it) carries no topic.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

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
    fn stopwords_are_sorted_and_found() {
        assert!(STOPWORDS.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(STOPWORDS.iter().all(|w| is_stopword(w)));
        assert!(!is_stopword("coffee"));
    }

    #[test]
    fn has_any_word_reads_words_like_words_does() {
        for (text, targets) in [
            ("Sure. I'll remind you.", &["ill"][..]),
            ("I’LL send a Photo!", &["photo"][..]),
            ("photos are nice", &["photo"][..]),
            ("ill-timed", &["ill"][..]),
            ("I still will", &["ill", "photo"][..]),
            ("", &["ill"][..]),
            ("'ill'", &["ill"][..]),
        ] {
            let expected = words(text).iter().any(|w| targets.contains(&w.as_str()));
            assert_eq!(has_any_word(text, targets), expected, "{text}");
        }
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let w = words("can I see you?");
        assert_eq!(find_phrase(&w, "i see you"), Some(1));
        assert!(!has_phrase(&words("can I seek you"), "i see you"));
    }
}
