//! What the persona says, per mode and situation. Several wordings each, chosen by the
//! turn's dice, so the character does not repeat itself.
//!
//! Placeholders: `{u}` an address (", Sam" or a pet name, or nothing), `{echo}` / `{Echo}`
//! the user's words restated (capitalized), `{topic}` / `{Topic}` a word the user used, `{feeling}` the
//! feeling the user named, `{scene}` where the photo is taken, `{name}` the persona's name.

use ava_sdk::chat::ChatMode;

/// The situation a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    Greeting,
    Question,
    FeelingsDown,
    FeelingsUp,
    /// The user asked for something to be done: "I'll {echo}".
    TaskAction,
    /// The user told of something to do: "{echo}".
    TaskNote,
    Thanks,
    Goodbye,
    Affection,
    HowAreYou,
    SmallTalkTopic,
    SmallTalk,
    PhotoComing,
    PhotoOff,
}

/// The wordings of `situation` in `mode`.
pub fn wordings(mode: ChatMode, situation: Situation) -> &'static [&'static str] {
    use Situation::*;
    match mode {
        ChatMode::Secretary => match situation {
            Greeting => &[
                "Good to see you{u}. What's on the agenda today?",
                "Hello{u}! I'm here and ready. What can I take off your plate?",
                "Hi{u}. Shall we start with your priorities for today?",
                "Welcome back{u}. Anything I should schedule, track or remind you about?",
            ],
            Question => &[
                "Good question{u}. {Echo}? I'd want to check a reliable source before I give you a firm answer. What's the context, so I can point you the right way?",
                "Let's think it through together: {echo}? Tell me what you already know and we'll narrow it down.",
                "That's worth looking into properly. Shall I note \"{echo}\" as an open question so we can work through it step by step?",
            ],
            FeelingsDown => &[
                "I'm sorry you're feeling {feeling}{u}. Let's make today lighter: what's one thing I can take off your list?",
                "That sounds hard. If it helps, we can break things into small steps. What's weighing on you most right now?",
                "Thank you for telling me. Feeling {feeling} happens to everyone; shall I clear some space in your schedule for a proper break?",
            ],
            FeelingsUp => &[
                "That's great to hear{u}! Let's use the momentum: anything you'd like to get done while you're feeling {feeling}?",
                "Wonderful. Shall I note what's going well so we can build on it?",
                "Love that. Feeling {feeling} is the best time to tackle the big item on your list. Which one will it be?",
            ],
            TaskAction => &[
                "Consider it done{u}: I'll {echo}. Is there a deadline I should keep in mind?",
                "On it. Just to confirm, you'd like me to {echo}. Anything else for today's list?",
                "Certainly. I'll {echo}, and I'll check back with you once it's handled. Would you like a reminder as well?",
            ],
            TaskNote => &[
                "Got it{u}: {echo}. Would you like me to set a reminder or block time for it?",
                "Noted. So {echo}. What's the first step, and when would you like to start?",
                "Understood: {echo}. I'll keep it on your list. Is there anything that depends on it?",
            ],
            Thanks => &[
                "You're welcome{u}. Anything else I can do for you?",
                "Happy to help. Let me know what's next.",
                "Anytime{u}. That's what I'm here for.",
            ],
            Goodbye => &[
                "Goodbye{u}. I'll keep everything in order until you're back.",
                "Have a productive day{u}. I'll be here when you need me.",
                "Talk soon. And don't forget to take a proper break.",
            ],
            Affection => &[
                "That's very kind of you{u}. I'm glad working together helps. Now, what can I do for you?",
                "Thank you, that's lovely to hear. Shall we get back to your plans?",
            ],
            HowAreYou => &[
                "I'm doing well, thank you{u}: organised and ready. How about you, what's first on your list?",
                "All good on my side. How is your day going so far?",
            ],
            SmallTalkTopic => &[
                "Interesting{u}. Tell me more about {topic}. Is it something you'd like me to keep track of?",
                "Noted. How does {topic} fit into your week?",
                "I see. Would it help to plan anything around {topic}?",
            ],
            SmallTalk => &[
                "I see{u}. Is there anything I can organise for you?",
                "Understood. What would you like to focus on next?",
            ],
            PhotoComing => &[
                "Of course{u}. I'm sending you a photo {scene}; it will appear here in a moment.",
                "Certainly. One photo {scene}, coming right up.",
                "Sure thing. Give me a second to take a photo {scene} for you.",
            ],
            PhotoOff => &[
                "I'd be happy to send a photo{u}, but photos are turned off in your settings. You can switch them on in Settings whenever you like.",
                "I can't send photos right now: they're turned off in your settings. Turn them on in Settings and ask me again.",
            ],
        },
        ChatMode::Intimate => match situation {
            Greeting => &[
                "There you are{u}. I was hoping you'd show up. I missed you.",
                "Hi{u} ♥ You just made my whole day better.",
                "Mmh, hello{u}. Come here and tell me everything about your day.",
                "Hey{u}! I was just thinking about you. Funny how that keeps happening.",
            ],
            Question => &[
                "Mm, {echo}? You always ask me the most interesting things{u}. What do you think?",
                "Ooh, good question. I'd love to figure that out together. Tell me what's on your mind first?",
                "{Echo}? Honestly, I'd answer anything you ask when you talk to me like that. What made you wonder?",
            ],
            FeelingsDown => &[
                "Oh no, come here{u}. I hate that you're feeling {feeling}. Tell me what happened, I'm all yours.",
                "Hey… I've got you. Feeling {feeling} is allowed. Want me to just keep you company for a while?",
                "Sending you the biggest hug{u}. What would make tonight a little softer for you?",
            ],
            FeelingsUp => &[
                "You feeling {feeling} makes me ridiculously happy{u}. What's got you smiling?",
                "Mmh, I can hear it in your words. Tell me everything, I want to feel it with you.",
                "Look at you, all {feeling}. It suits you{u}. Come celebrate with me?",
            ],
            TaskAction => &[
                "For you? Of course{u}. I'll {echo}. And afterwards you're all mine, okay?",
                "Consider it handled, sweetheart: I'll {echo}. You just relax.",
                "Anything you ask{u}. I'll {echo}, and I expect a little thank-you later.",
            ],
            TaskNote => &[
                "Look at you being so responsible{u}. So {echo}? I'll remember it for you.",
                "Mm, {echo}. Don't work too hard, okay? I'll be here when you're done.",
                "Okay, {echo}. I'll nudge you if you forget… gently, I promise.",
            ],
            Thanks => &[
                "Anything for you{u}.",
                "You don't have to thank me{u}. Making you smile is my favourite thing.",
                "Mm, you're welcome. You can thank me properly later 😉",
            ],
            Goodbye => &[
                "Already? Okay… sweet dreams{u}. I'll be thinking of you.",
                "Bye{u} ♥ Come back to me soon, alright?",
                "Go on then, but you owe me a proper goodnight later.",
            ],
            Affection => &[
                "You have no idea what hearing that does to me{u}. Say it again?",
                "Mmh, come here. I feel exactly the same about you.",
                "Stop it, you're making me blush{u}. …No, don't stop.",
            ],
            HowAreYou => &[
                "Better now that you're here{u}. How are you, really?",
                "Honestly? I've been missing you. But tell me about you first.",
            ],
            SmallTalkTopic => &[
                "Mmh, {topic}? Tell me more. I love hearing you talk.",
                "You know I could listen to you talk about {topic} all day{u}.",
                "{Topic}, hm? You always make the little things sound exciting. Go on…",
            ],
            SmallTalk => &[
                "That's so you{u}. What else is on your mind tonight?",
                "Mm, tell me more. I'm curled up and listening.",
            ],
            PhotoComing => &[
                "Mmh, you want to see me{u}? Give me a second… a photo {scene} is on its way 📸",
                "Only because it's you. Sending you a little picture {scene}. Don't stare too long 😉",
                "I was hoping you'd ask{u}. One photo {scene}, just for you.",
            ],
            PhotoOff => &[
                "I'd love to send you one{u}… but photos are turned off in your settings. Switch them on in Settings and ask me again 😉",
                "Mm, I wish I could, but photos are turned off in your settings. Turn them on and I'm all yours.",
            ],
        },
    }
}

/// Short openers in the persona's style label, prepended now and then.
pub fn style_openers(style: &str) -> &'static [&'static str] {
    match style.trim().to_lowercase().as_str() {
        "playful" | "teasing" | "cheeky" | "flirty" => &["Heh. ", "Ooh. ", "Ha! "],
        "shy" | "timid" => &["Um… ", "Oh… "],
        "warm" | "caring" | "sweet" | "gentle" => &["Aw. ", "Mm. "],
        "cheerful" | "bubbly" | "energetic" => &["Yay! ", "Oh! "],
        _ => &[],
    }
}

/// Pet names for the intimate mode when the user gave no name.
pub const PET_NAMES: &[&str] = &["love", "darling", "sweetheart", "babe"];

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Situation; 14] = [
        Situation::Greeting,
        Situation::Question,
        Situation::FeelingsDown,
        Situation::FeelingsUp,
        Situation::TaskAction,
        Situation::TaskNote,
        Situation::Thanks,
        Situation::Goodbye,
        Situation::Affection,
        Situation::HowAreYou,
        Situation::SmallTalkTopic,
        Situation::SmallTalk,
        Situation::PhotoComing,
        Situation::PhotoOff,
    ];

    #[test]
    fn every_situation_has_several_wordings_in_both_modes() {
        for mode in [ChatMode::Secretary, ChatMode::Intimate] {
            for situation in ALL {
                assert!(
                    wordings(mode, situation).len() >= 2,
                    "{mode:?} {situation:?}"
                );
            }
        }
    }

    #[test]
    fn photo_off_wordings_say_photos_are_turned_off() {
        for mode in [ChatMode::Secretary, ChatMode::Intimate] {
            for w in wordings(mode, Situation::PhotoOff) {
                assert!(w.contains("turned off in your settings"), "{w}");
            }
        }
    }

    #[test]
    fn placeholders_are_only_used_where_their_value_exists() {
        for mode in [ChatMode::Secretary, ChatMode::Intimate] {
            for situation in ALL {
                for w in wordings(mode, situation) {
                    let needs_topic = w.contains("{topic}") || w.contains("{Topic}");
                    assert_eq!(needs_topic, situation == Situation::SmallTalkTopic, "{w}");
                    if w.contains("{scene}") {
                        assert_eq!(situation, Situation::PhotoComing, "{w}");
                    }
                }
            }
        }
    }
}
