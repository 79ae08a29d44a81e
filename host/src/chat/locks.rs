//! One turn at a time per conversation: a second message waits for the first reply, so the
//! stored order is always message, reply, message, reply, and each turn sees the last.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Locks keyed by conversation; entries go away when nobody holds or waits on them.
#[derive(Default)]
pub struct TurnLocks {
    locks: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
}

impl TurnLocks {
    /// Waits for the conversation `(user, persona)` to be free, and holds it.
    pub async fn lock(&self, user_id: &str, persona_id: &str) -> OwnedMutexGuard<()> {
        let key = format!("{user_id}/{persona_id}");
        let lock = {
            let mut locks = self.locks.lock().expect("turn locks");
            if locks.len() > 4096 {
                locks.retain(|_, weak| weak.strong_count() > 0);
            }
            match locks.get(&key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(()));
                    locks.insert(key, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_same_conversation_waits_and_others_do_not() {
        let locks = Arc::new(TurnLocks::default());
        let held = locks.lock("u", "p").await;
        let other = tokio::time::timeout(Duration::from_millis(50), locks.lock("u", "q")).await;
        assert!(other.is_ok(), "another conversation must not wait");
        let same = tokio::time::timeout(Duration::from_millis(50), locks.lock("u", "p")).await;
        assert!(same.is_err(), "the same conversation must wait");
        drop(held);
        let same = tokio::time::timeout(Duration::from_millis(50), locks.lock("u", "p")).await;
        assert!(same.is_ok());
    }
}
