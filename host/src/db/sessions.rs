//! `sessions`: bearer tokens, stored as their SHA-256.

use sqlx::{Any, Executor};

use super::DbResult;

/// Records a new session.
pub async fn insert<'e>(
    e: impl Executor<'e, Database = Any>,
    token_hash: &str,
    user_id: &str,
    created_at: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(created_at)
    .bind(expires_at)
    .execute(e)
    .await?;
    Ok(())
}

/// The user of a live session (not expired, not revoked) and when it expires.
pub async fn live<'e>(
    e: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT user_id, expires_at FROM sessions
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(e)
    .await?)
}

/// Revokes a session; true when it was live.
pub async fn revoke<'e>(
    e: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .execute(e)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes sessions that expired or were revoked before `before`.
pub async fn purge<'e>(e: impl Executor<'e, Database = Any>, before: i64) -> DbResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
        .bind(before)
        .execute(e)
        .await?;
    Ok(done.rows_affected())
}
