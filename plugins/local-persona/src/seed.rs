//! Deterministic choices. The persona has no randomness and no clock: every choice is
//! derived from a stable hash of the turn, so the same request always gets the same reply.

/// FNV-1a, 64 bit: tiny, stable across platforms and releases (unlike `DefaultHasher`).
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The source of every choice made for one turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dice(u64);

impl Dice {
    /// The dice of one turn: persona, message and position in the conversation.
    pub fn for_turn(persona_id: &str, message: &str, history_len: usize) -> Self {
        let mut hash = fnv1a(OFFSET, persona_id.as_bytes());
        // A separator byte that never occurs in UTF-8 keeps ("ab", "c") apart from ("a", "bc").
        hash = fnv1a(hash, &[0xff]);
        hash = fnv1a(hash, message.as_bytes());
        hash = fnv1a(hash, &[0xff]);
        hash = fnv1a(hash, &(history_len as u64).to_le_bytes());
        Self(hash)
    }

    /// A number for the choice named `salt`. Different salts give independent choices, so
    /// picking the opener does not fix the template too.
    pub fn roll(self, salt: &str) -> u64 {
        let hash = fnv1a(fnv1a(OFFSET, &self.0.to_le_bytes()), salt.as_bytes());
        // FNV's low bits mix poorly; a final avalanche (splitmix64) spreads them.
        let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// One of `items`, chosen by the roll named `salt`.
    pub fn pick<'a, T>(self, salt: &str, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty(), "nothing to pick from for `{salt}`");
        &items[(self.roll(salt) % items.len() as u64) as usize]
    }

    /// True about once in `n` turns.
    pub fn one_in(self, salt: &str, n: u64) -> bool {
        self.roll(salt).is_multiple_of(n.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vector() {
        // FNV-1a 64 of "a" from the reference test suite.
        assert_eq!(fnv1a(OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_same_turn_rolls_the_same() {
        let a = Dice::for_turn("p1", "hello", 3);
        let b = Dice::for_turn("p1", "hello", 3);
        assert_eq!(a.roll("x"), b.roll("x"));
    }

    #[test]
    fn history_length_changes_the_roll() {
        let a = Dice::for_turn("p1", "hello", 3);
        let b = Dice::for_turn("p1", "hello", 4);
        assert_ne!(a.roll("x"), b.roll("x"));
    }

    #[test]
    fn field_boundaries_are_not_ambiguous() {
        assert_ne!(Dice::for_turn("ab", "c", 0), Dice::for_turn("a", "bc", 0));
    }

    #[test]
    fn picks_spread_over_every_item() {
        let items = [0, 1, 2, 3];
        let mut seen = [false; 4];
        for i in 0..64 {
            seen[*Dice::for_turn("p", &format!("m{i}"), 0).pick("t", &items)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
