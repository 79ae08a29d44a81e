//! Echoing the user's own words back from the persona's side: "remind me to call my mom"
//! becomes "remind you to call your mom", so a reply can show it listened.

use crate::words::is_stopword;

/// The user's message restated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restated {
    /// The first clause, pronouns swapped, without trailing punctuation.
    pub text: String,
    /// Whether the user asked for something to be done ("can you…", "remind me…"): the
    /// persona then answers "I'll {text}".
    pub action: bool,
}

/// Openers that carry nothing: "ok so", "hey Ava".
const FILLERS: &[&str] = &[
    "hey", "hi", "ok", "okay", "so", "um", "well", "and", "oh", "babe", "honey", "also",
];

/// Ways to ask for something, dropped so the rest reads as the action.
const ASKS: &[&[&str]] = &[
    &["can", "you"],
    &["could", "you"],
    &["would", "you"],
    &["will", "you"],
    &["can", "u"],
    &["please"],
    &["pls"],
    &["i", "need", "you", "to"],
    &["i", "want", "you", "to"],
    &["id", "like", "you", "to"],
];

/// Verbs that, first in a sentence, ask for something to be done.
const IMPERATIVES: &[&str] = &[
    "remind", "schedule", "book", "set", "add", "make", "plan", "write", "draft", "send", "call",
    "email", "check", "find", "organise", "organize", "note", "remember", "put", "move", "cancel",
    "create", "prepare", "help", "tell", "text", "buy", "order", "track", "list",
];

/// The first clause of `message` restated, at most `max_words` words (then "…").
pub fn restate(message: &str, persona_name: &str, max_words: usize) -> Restated {
    let clause = message
        .split(['.', '!', '?', '\n', ';'])
        .find(|c| c.chars().any(char::is_alphanumeric))
        .unwrap_or("")
        .trim();
    let mut tokens: Vec<&str> = clause.split_whitespace().collect();
    let name = persona_name.to_lowercase();
    let mut action = false;
    loop {
        let first = tokens.first().map(|t| plain(t)).unwrap_or_default();
        if FILLERS.contains(&first.as_str()) || (!name.is_empty() && first == name) {
            tokens.remove(0);
            continue;
        }
        if let Some(ask) = ASKS.iter().find(|ask| {
            ask.len() <= tokens.len() && ask.iter().zip(&tokens).all(|(a, t)| *a == plain(t))
        }) {
            tokens.drain(..ask.len());
            action = true;
            continue;
        }
        break;
    }
    if tokens
        .first()
        .is_some_and(|t| IMPERATIVES.contains(&plain(t).as_str()))
    {
        action = true;
    }
    let truncated = tokens.len() > max_words;
    tokens.truncate(max_words);
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    // Each token's plain form, made once: every swap looks at its neighbours' too.
    let plains: Vec<String> = tokens.iter().map(|t| plain(t)).collect();
    let mut previous_out: Option<String> = None;
    for (i, token) in tokens.iter().enumerate() {
        let context = Context {
            word: &plains[i],
            previous_out: previous_out.as_deref(),
            previous_in: i.checked_sub(1).map(|j| plains[j].as_str()),
            next_in: plains.get(i + 1).map(String::as_str),
        };
        let swapped = swap(token, &context);
        previous_out = Some(plain(&swapped));
        out.push(swapped);
    }
    let mut text = out.join(" ");
    text = text
        .trim_end_matches([',', ':', '-', '—'])
        .trim()
        .to_string();
    if truncated {
        text.push('…');
    }
    // Mid-sentence in the reply a common first word loses its capital; a name ("Tom
    // called") or "I" keeps it.
    let common_start = tokens.first().is_some_and(|t| {
        let word = plain(t);
        is_stopword(&word) || IMPERATIVES.contains(&word.as_str())
    });
    let keeps_i = text.starts_with("I ") || text.starts_with("I'");
    if common_start && !keeps_i {
        let mut chars = text.chars();
        if let Some(first) = chars.next() {
            text = first.to_lowercase().chain(chars).collect();
        }
    }
    Restated { text, action }
}

/// A word lowercased, without surrounding punctuation and apostrophes.
fn plain(token: &str) -> String {
    token
        .trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .filter(|c| *c != '\'' && *c != '’')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words around the one being swapped.
struct Context<'a> {
    /// The word itself, plain.
    word: &'a str,
    /// The previous word as already swapped.
    previous_out: Option<&'a str>,
    previous_in: Option<&'a str>,
    next_in: Option<&'a str>,
}

/// Auxiliaries after which "you" is a subject: "can you" → "can I".
const AUXILIARIES: &[&str] = &[
    "are", "can", "could", "do", "did", "will", "would", "should", "have", "were", "am",
];

/// Swaps one word between speakers, keeping its surrounding punctuation.
fn swap(token: &str, context: &Context<'_>) -> String {
    let start = token
        .find(|c: char| c.is_alphanumeric())
        .unwrap_or(token.len());
    let end = token
        .rfind(|c: char| c.is_alphanumeric())
        .map(|i| i + token[i..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(start);
    if start >= end {
        return token.to_string();
    }
    let (pre, word, post) = (&token[..start], &token[start..end], &token[end..]);
    let Context {
        previous_out,
        next_in,
        ..
    } = *context;
    let you_is_subject = matches!(next_in, Some("are" | "were"))
        || context
            .previous_in
            .is_some_and(|p| AUXILIARIES.contains(&p));
    let replacement = match context.word {
        "i" | "me" => "you",
        "my" => "your",
        "mine" => "yours",
        "myself" => "yourself",
        "im" => "you're",
        "ive" => "you've",
        "ill" if word.contains(['\'', '’']) => "you'll",
        "id" if word.contains(['\'', '’']) => "you'd",
        "am" if previous_out == Some("you") || next_in == Some("i") => "are",
        "was" if previous_out == Some("you") || next_in == Some("i") => "were",
        "are" if previous_out == Some("i") || next_in == Some("you") => "am",
        "were" if previous_out == Some("i") || next_in == Some("you") => "was",
        "you" if you_is_subject => "I",
        "you" => "me",
        "your" => "my",
        "yours" => "mine",
        "yourself" => "myself",
        "youre" => "I'm",
        "youve" => "I've",
        "youll" => "I'll",
        _ => return token.to_string(),
    };
    format!("{pre}{replacement}{post}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_becomes_an_action_from_the_persona_side() {
        let r = restate("Can you remind me to call my mom at 5?", "Ava", 14);
        assert_eq!(
            r,
            Restated {
                text: "remind you to call your mom at 5".into(),
                action: true
            }
        );
    }

    #[test]
    fn a_statement_is_restated_in_the_second_person() {
        let r = restate(
            "Ok so I'm finishing the report by Friday. Then lunch.",
            "Ava",
            14,
        );
        assert_eq!(
            r,
            Restated {
                text: "you're finishing the report by Friday".into(),
                action: false
            }
        );
    }

    #[test]
    fn the_persona_name_and_fillers_are_dropped() {
        assert_eq!(
            restate("Hey Ava, book a table for two", "Ava", 14).text,
            "book a table for two"
        );
    }

    #[test]
    fn questions_swap_subject_and_verb_together() {
        assert_eq!(
            restate("are you free tonight?", "", 14).text,
            "am I free tonight"
        );
        assert_eq!(
            restate("what do you think of my plan?", "", 14).text,
            "what do I think of your plan"
        );
    }

    #[test]
    fn a_name_at_the_start_keeps_its_capital() {
        assert_eq!(
            restate("Tom needs the slides by noon", "", 14).text,
            "Tom needs the slides by noon"
        );
        assert_eq!(
            restate("Remind me to call Tom", "", 14).text,
            "remind you to call Tom"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(
            restate("one two three four five", "", 3).text,
            "one two three…"
        );
    }
}
