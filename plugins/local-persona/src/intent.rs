//! What the user's message is about, so the persona can answer in kind.

use crate::words::{any_of, find_phrase, has_phrase, words};

/// How a feeling leans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Up,
    Down,
}

/// The situation a reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Goodbye,
    Thanks,
    /// "I love you", "I missed you", "you're cute".
    Affection,
    HowAreYou,
    WhoAreYou,
    Greeting,
    /// The user shares a feeling; the word is echoed back.
    Feelings {
        word: String,
        tone: Tone,
    },
    /// Something to do, plan or remember.
    Task,
    Question,
    SmallTalk,
}

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "heya",
    "hiya",
    "howdy",
    "yo",
    "morning",
    "evening",
    "greetings",
];

const GOODBYE_WORDS: &[&str] = &[
    "bye",
    "goodbye",
    "byebye",
    "goodnight",
    "gnight",
    "cya",
    "ttyl",
];
const GOODBYE_PHRASES: &[&str] = &[
    "good night",
    "see you later",
    "see you soon",
    "see you tomorrow",
    "see ya",
    "talk later",
    "talk to you later",
    "talk soon",
    "gotta go",
    "got to go",
    "have to go",
    "need to go",
    "signing off",
    "logging off",
];

const AFFECTION_PHRASES: &[&str] = &[
    "love you",
    "miss you",
    "missed you",
    "adore you",
    "like you",
    "youre cute",
    "youre beautiful",
    "youre gorgeous",
    "youre amazing",
    "youre sweet",
    "thinking of you",
    "thinking about you",
    "dreaming of you",
    "crush on you",
];

const FEELINGS_DOWN: &[&str] = &[
    "sad",
    "tired",
    "stressed",
    "lonely",
    "anxious",
    "upset",
    "angry",
    "bored",
    "worried",
    "exhausted",
    "overwhelmed",
    "awful",
    "terrible",
    "down",
    "depressed",
    "nervous",
    "scared",
    "frustrated",
    "sick",
    "miserable",
    "hurt",
    "heartbroken",
    "low",
];
const FEELINGS_UP: &[&str] = &[
    "happy",
    "excited",
    "great",
    "amazing",
    "wonderful",
    "glad",
    "proud",
    "relaxed",
    "calm",
    "fantastic",
    "thrilled",
    "good",
    "better",
    "grateful",
    "inspired",
    "motivated",
];

const TASK_WORDS: &[&str] = &[
    "remind",
    "reminder",
    "reminders",
    "schedule",
    "meeting",
    "meetings",
    "appointment",
    "deadline",
    "deadlines",
    "calendar",
    "todo",
    "task",
    "tasks",
    "plan",
    "plans",
    "planning",
    "email",
    "emails",
    "report",
    "book",
    "organise",
    "organize",
    "agenda",
    "project",
    "draft",
    "invoice",
    "presentation",
    "errands",
    "list",
];
const TASK_PHRASES: &[&str] = &[
    "need to",
    "have to",
    "got to",
    "dont forget",
    "remember to",
    "to do",
];

const QUESTION_STARTS: &[&str] = &[
    "what", "whats", "why", "how", "when", "where", "who", "which", "do", "does", "did", "can",
    "could", "would", "will", "is", "are", "should", "shall", "may", "have", "has",
];

/// Classifies one message. The order matters: a short "thanks, bye!" is a goodbye, and a
/// question about a meeting is still a task.
pub fn classify(message: &str) -> Intent {
    let w = words(message);
    if let Some(social) = social(&w) {
        return social;
    }
    let first = w.first().map(String::as_str).unwrap_or("");
    if let Some(feeling) = feeling(&w) {
        return feeling;
    }
    let wh_question = [
        "what", "whats", "why", "how", "when", "where", "who", "which",
    ]
    .contains(&first);
    if !wh_question && (any_of(&w, TASK_WORDS) || TASK_PHRASES.iter().any(|p| has_phrase(&w, p))) {
        return Intent::Task;
    }
    if message.trim_end().ends_with('?') || QUESTION_STARTS.contains(&first) {
        return Intent::Question;
    }
    Intent::SmallTalk
}

/// The checks [`classify`] makes first, on a message's `words`: a goodbye, thanks,
/// affection, "how are you", "who are you" or a short greeting. None of the later ones
/// can give these intents, so a caller that only asks whether a message is one of them
/// (the memory leaving out pleasantries) stops here.
pub fn social(w: &[String]) -> Option<Intent> {
    let n = w.len();
    let first = w.first().map(String::as_str).unwrap_or("");

    if any_of(w, GOODBYE_WORDS) || (n <= 8 && GOODBYE_PHRASES.iter().any(|p| has_phrase(w, p))) {
        return Some(Intent::Goodbye);
    }
    if is_thanks(w) {
        return Some(Intent::Thanks);
    }
    if AFFECTION_PHRASES.iter().any(|p| has_phrase(w, p)) {
        return Some(Intent::Affection);
    }
    if [
        "how are you",
        "how are u",
        "hows it going",
        "how have you been",
        "how you doing",
        "hows your day",
        "how is your day",
    ]
    .iter()
    .any(|p| has_phrase(w, p))
    {
        return Some(Intent::HowAreYou);
    }
    if [
        "who are you",
        "whats your name",
        "what is your name",
        "tell me about yourself",
        "introduce yourself",
    ]
    .iter()
    .any(|p| has_phrase(w, p))
    {
        return Some(Intent::WhoAreYou);
    }
    let greeting_start = GREETINGS.contains(&first)
        || find_phrase(w, "good morning") == Some(0)
        || find_phrase(w, "good evening") == Some(0)
        || find_phrase(w, "good afternoon") == Some(0);
    if greeting_start && n <= 4 {
        return Some(Intent::Greeting);
    }
    None
}

fn is_thanks(w: &[String]) -> bool {
    let thanks = any_of(w, &["thanks", "thx", "ty", "thankyou", "cheers"])
        || has_phrase(w, "thank you")
        || has_phrase(w, "appreciate it");
    let first = w.first().map(String::as_str).unwrap_or("");
    thanks
        && (w.len() <= 4
            || (["thanks", "thank", "thx", "ty", "cheers"].contains(&first) && w.len() <= 7))
}

/// A feeling counts only when the user speaks about themselves, shortly after "I'm",
/// "feel", "been"…: "the weather is awful" and "I have a good idea" are not feelings.
fn feeling(w: &[String]) -> Option<Intent> {
    const LEADS: &[&str] = &[
        "im", "am", "feel", "feeling", "feels", "felt", "been", "was", "getting", "makes",
    ];
    for (k, word) in w.iter().enumerate() {
        let tone = if FEELINGS_DOWN.contains(&word.as_str()) {
            Tone::Down
        } else if FEELINGS_UP.contains(&word.as_str()) {
            Tone::Up
        } else {
            continue;
        };
        let led = w[k.saturating_sub(3)..k]
            .iter()
            .any(|x| LEADS.contains(&x.as_str()));
        if !led {
            continue;
        }
        // "not good" leans down and "not bad" up; the echoed word then says how it leans.
        let negated =
            k > 0 && ["not", "never", "isnt", "arent", "dont"].contains(&w[k - 1].as_str());
        return Some(match (tone, negated) {
            (tone, false) => Intent::Feelings {
                word: word.clone(),
                tone,
            },
            (Tone::Up, true) => Intent::Feelings {
                word: "down".into(),
                tone: Tone::Down,
            },
            (Tone::Down, true) => Intent::Feelings {
                word: "alright".into(),
                tone: Tone::Up,
            },
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hello_is_a_greeting() {
        assert_eq!(classify("Hey there!"), Intent::Greeting);
        assert_eq!(classify("good morning Ava"), Intent::Greeting);
    }

    #[test]
    fn thanks_and_bye_is_a_goodbye() {
        assert_eq!(classify("thanks, bye!"), Intent::Goodbye);
    }

    #[test]
    fn plain_thanks_is_thanks() {
        assert_eq!(classify("Thank you so much"), Intent::Thanks);
    }

    #[test]
    fn a_feeling_about_oneself_is_recognised_with_its_tone() {
        assert_eq!(
            classify("I'm so stressed today"),
            Intent::Feelings {
                word: "stressed".into(),
                tone: Tone::Down
            }
        );
        assert_eq!(
            classify("I'm not good"),
            Intent::Feelings {
                word: "down".into(),
                tone: Tone::Down
            }
        );
    }

    #[test]
    fn a_feeling_word_about_something_else_is_not_a_feeling() {
        assert!(!matches!(
            classify("the weather is awful"),
            Intent::Feelings { .. }
        ));
        assert!(!matches!(
            classify("I have a good idea"),
            Intent::Feelings { .. }
        ));
    }

    #[test]
    fn reminders_are_tasks_even_as_questions() {
        assert_eq!(
            classify("Can you remind me to call mom at 5?"),
            Intent::Task
        );
    }

    #[test]
    fn wh_questions_are_questions() {
        assert_eq!(classify("What should I cook tonight?"), Intent::Question);
    }

    #[test]
    fn how_are_you_wins_over_a_greeting() {
        assert_eq!(classify("hi, how are you?"), Intent::HowAreYou);
    }

    #[test]
    fn love_you_is_affection() {
        assert_eq!(classify("I missed you"), Intent::Affection);
    }

    #[test]
    fn a_statement_is_small_talk() {
        assert_eq!(
            classify("I went hiking in the mountains"),
            Intent::SmallTalk
        );
    }

    #[test]
    fn social_agrees_with_classify() {
        for message in [
            "Hey there!",
            "good morning ava",
            "thanks so much, bye!",
            "Thank you",
            "I love you",
            "how are you today?",
            "who are you?",
            "I feel so tired today",
            "Remind me to call mom at 5",
            "What time is the meeting?",
            "I went hiking in the mountains",
            "hello, can you book a table for two tonight?",
        ] {
            let whole = classify(message);
            let social = social(&words(message));
            let expected = matches!(
                whole,
                Intent::Goodbye
                    | Intent::Thanks
                    | Intent::Affection
                    | Intent::HowAreYou
                    | Intent::WhoAreYou
                    | Intent::Greeting
            )
            .then_some(whole);
            assert_eq!(social, expected, "{message:?}");
        }
    }
}
