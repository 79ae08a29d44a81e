//! `memories`: the rolling summary of each conversation.

use sqlx::{Any, Executor};

use super::DbResult;

/// A conversation's memory: a summary of every message up to `through_seq`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Memory {
    pub summary: String,
    pub through_seq: i64,
}

/// Stores a newer memory; an older one (lower `through_seq`) never replaces a newer one.
pub async fn advance<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    memory: &Memory,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO memories (user_id, persona_id, summary, through_seq, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, persona_id) DO UPDATE SET summary = excluded.summary,
            through_seq = excluded.through_seq, updated_at = excluded.updated_at
         WHERE memories.through_seq < excluded.through_seq",
    )
    .bind(user_id)
    .bind(persona_id)
    .bind(&memory.summary)
    .bind(memory.through_seq)
    .bind(now)
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
