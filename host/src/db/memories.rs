//! `memories`: the rolling summary of each conversation.

use sqlx::{Any, Executor};

use super::DbResult;
use super::messages::Message;

/// A conversation's memory: a summary of every message up to `through_seq`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Memory {
    pub summary: String,
    pub through_seq: i64,
}

/// Stores a newer memory whose last folded message is `last`, if that message is still
/// stored as it was (an edit may have rewritten it meanwhile); an older memory (lower
/// `through_seq`) never replaces a newer one. One statement: check and write are atomic.
pub async fn advance<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    memory: &Memory,
    last: &Message,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO memories (user_id, persona_id, summary, through_seq, updated_at)
         SELECT $1, $2, $3, $4, $5
         WHERE EXISTS (SELECT 1 FROM messages WHERE id = $6 AND user_id = $1
                         AND persona_id = $2 AND seq = $4 AND content = $7)
         ON CONFLICT (user_id, persona_id) DO UPDATE SET summary = excluded.summary,
            through_seq = excluded.through_seq, updated_at = excluded.updated_at
         WHERE memories.through_seq < excluded.through_seq",
    )
    .bind(user_id)
    .bind(persona_id)
    .bind(&memory.summary)
    .bind(memory.through_seq)
    .bind(now)
    .bind(&last.id)
    .bind(&last.content)
    .execute(e)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets the conversation's memory (after an edit rewrote what it summarized).
pub async fn forget_from<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    seq: i64,
) -> DbResult<()> {
    sqlx::query(
        "DELETE FROM memories WHERE user_id = $1 AND persona_id = $2 AND through_seq >= $3",
    )
    .bind(user_id)
    .bind(persona_id)
    .bind(seq)
    .execute(e)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{database, message};
    use crate::db::{Db, messages};

    async fn stored(db: &Db) -> Option<Memory> {
        sqlx::query_as("SELECT summary, through_seq FROM memories")
            .fetch_optional(db.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_memory_advances_only_over_unchanged_messages_and_never_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), 1).await;
        let history: Vec<Message> = (1..=4)
            .map(|s| message("u0", "p0", s, &format!("m{s}")))
            .collect();
        let rows: Vec<&Message> = history.iter().collect();
        messages::insert_many(db.pool(), db.backend(), &rows)
            .await
            .unwrap();
        let memory = |summary: &str, through_seq| Memory {
            summary: summary.into(),
            through_seq,
        };
        let stores = |memory: Memory, last: &Message, now| {
            let (db, last) = (db.clone(), last.clone());
            async move {
                advance(db.pool(), "u0", "p0", &memory, &last, now)
                    .await
                    .unwrap()
            }
        };

        // The message was edited after the summary was made: nothing is stored.
        let edited = message("u0", "p0", 2, "what it said before the edit");
        assert!(!stores(memory("old", 2), &edited, 1).await);
        assert_eq!(stored(&db).await, None);

        // As it was: stored, and then a newer memory replaces it.
        assert!(stores(memory("two", 2), &history[1], 1).await);
        assert!(stores(memory("four", 4), &history[3], 2).await);
        assert_eq!(stored(&db).await, Some(memory("four", 4)));

        // An older memory, finishing late, does not replace the newer one.
        assert!(!stores(memory("two", 2), &history[1], 3).await);
        assert_eq!(stored(&db).await, Some(memory("four", 4)));
    }
}
