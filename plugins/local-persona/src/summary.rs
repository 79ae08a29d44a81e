//! The rolling memory: an extractive summary of what the user said and what the persona
//! promised, plus the topics so far. Deterministic, and capped so it never crowds the turn.

use std::collections::BTreeMap;

use ava_sdk::chat::{Role, SummaryRequest};

use crate::intent::{Intent, social};
use crate::words::{has_any_word, is_stopword, words};

/// The longest memory, in characters. Past it the oldest lines go first.
pub const CAP: usize = 1_500;

const TOPICS_PREFIX: &str = "Topics: ";
const MAX_TOPICS: usize = 8;
const MAX_STATEMENT: usize = 160;

/// `request.previous` with `request.turns` folded in.
pub fn summarize(request: &SummaryRequest) -> String {
    let previous = request.previous.as_deref().unwrap_or("");
    let mut lines: Vec<String> = Vec::new();
    let mut old_topics: Vec<String> = Vec::new();
    for line in previous.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.strip_prefix(TOPICS_PREFIX) {
            Some(list) => old_topics.extend(
                list.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty()),
            ),
            None => lines.push(line.to_string()),
        }
    }

    let name = match request.persona.name.trim() {
        "" => "Persona",
        name => name,
    };
    // Each user turn is read into words once, for its key statement and for the topics.
    let mut user_words: Vec<Vec<String>> = Vec::new();
    for turn in &request.turns {
        let line = match turn.role {
            Role::User => {
                let w = words(&turn.content);
                let line = key_statement(&turn.content, &w).map(|s| format!("- User: {s}"));
                user_words.push(w);
                line
            }
            Role::Assistant => commitment(&turn.content).map(|s| format!("- {name}: {s}")),
        };
        if let Some(line) = line.filter(|l| !lines.contains(l)) {
            lines.push(line);
        }
    }

    let mut topics = topics(&user_words);
    for old in old_topics {
        if !topics.contains(&old) {
            topics.push(old);
        }
    }
    topics.truncate(MAX_TOPICS);
    if !topics.is_empty() {
        lines.push(format!("{TOPICS_PREFIX}{}", topics.join(", ")));
    }
    fit(lines, CAP)
}

/// What the user said that is worth remembering: not greetings or thanks, not one-word
/// answers; the first sentences, up to a length. `w` are the [`words`] of `text`.
fn key_statement(text: &str, w: &[String]) -> Option<String> {
    if w.len() < 3 {
        return None;
    }
    if matches!(
        social(w),
        Some(Intent::Greeting | Intent::Thanks | Intent::Goodbye | Intent::HowAreYou)
    ) {
        return None;
    }
    Some(clip(&one_line(text), MAX_STATEMENT))
}

/// What the persona promised ("I'll remind you…", a photo), which the next turns must honour.
fn commitment(text: &str) -> Option<String> {
    let text = one_line(text);
    text.split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .find(|s| has_any_word(s, &["ill", "photo"]) || s.contains("I will"))
        .map(|s| clip(s, 120))
}

/// The content words the user used most (of each turn's [`words`]), most frequent first,
/// first mentioned breaking ties.
fn topics(turns: &[Vec<String>]) -> Vec<String> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut order = 0;
    for word in turns.iter().flatten() {
        let meaningful = word.chars().count() >= 4
            && word.chars().all(char::is_alphabetic)
            && !is_stopword(word);
        if meaningful {
            let entry = counts.entry(word).or_insert((0, order));
            entry.0 += 1;
            order += 1;
        }
    }
    let mut ranked: Vec<(&str, (usize, usize))> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    ranked
        .into_iter()
        .map(|(w, _)| w.to_string())
        .take(MAX_TOPICS)
        .collect()
}

/// The lines joined, the oldest dropped (or cut from the front) until the text fits `cap`
/// characters: the newest information is what the next turns need.
fn fit(mut lines: Vec<String>, cap: usize) -> String {
    let len = |lines: &[String]| {
        lines.iter().map(|l| l.chars().count()).sum::<usize>() + lines.len().saturating_sub(1)
    };
    while len(&lines) > cap && lines.len() > 1 {
        lines.remove(0);
    }
    let text = lines.join("\n");
    let count = text.chars().count();
    if count <= cap {
        return text;
    }
    let tail: String = text.chars().skip(count - (cap - 1)).collect();
    format!("…{tail}")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_drops_the_oldest_lines_first() {
        let lines = vec!["old line".to_string(), "new line".to_string()];
        assert_eq!(fit(lines, 10), "new line");
    }

    #[test]
    fn fit_cuts_one_long_line_from_the_front() {
        let out = fit(vec!["abcdefghij".to_string()], 5);
        assert_eq!(out, "…ghij");
    }

    #[test]
    fn topics_rank_by_frequency_then_first_mention() {
        let t = topics(&[
            words("I love hiking and coffee"),
            words("coffee in the mountains"),
        ]);
        assert_eq!(t, ["coffee", "love", "hiking", "mountains"]);
    }

    #[test]
    fn greetings_are_not_key_statements() {
        let key = |text: &str| key_statement(text, &words(text));
        assert_eq!(key("hey there you"), None);
        assert!(key("I'm moving to Berlin next month").is_some());
    }

    #[test]
    fn persona_promises_are_remembered() {
        assert_eq!(
            commitment("Sure. I'll remind you tomorrow. Bye!").as_deref(),
            Some("I'll remind you tomorrow.")
        );
        assert_eq!(commitment("That sounds lovely."), None);
    }
}
