//! `messages`: one conversation per (user, persona), ordered by `seq`.

use sqlx::{Any, Executor};

use super::{Backend, DbResult};

/// A stored message.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Message {
    pub id: String,
    pub user_id: String,
    pub persona_id: String,
    pub seq: i64,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// The mode the turn was written in.
    pub mode: String,
    pub photo_prompt: Option<String>,
    pub photo_caption: Option<String>,
    pub photo_id: Option<String>,
    pub created_at: i64,
}

macro_rules! columns {
    () => {
        "id, user_id, persona_id, seq, role, content, mode, photo_prompt, photo_caption, \
         photo_id, created_at"
    };
}

/// Most rows one [`insert_many`] statement carries (11 parameters each, far below both
/// databases' limits on parameters per statement).
pub const ROWS_PER_STATEMENT: usize = 256;

/// Stores `rows` (at most [`ROWS_PER_STATEMENT`]) with one multi-row INSERT, atomic on its
/// own.
pub async fn insert_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    rows: &[&Message],
) -> DbResult<()> {
    debug_assert!(rows.len() <= ROWS_PER_STATEMENT);
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        concat!("INSERT INTO messages (", columns!(), ") VALUES {}"),
        super::tuples(backend, rows.len(), 11, 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for m in rows {
        query = query
            .bind(&m.id)
            .bind(&m.user_id)
            .bind(&m.persona_id)
            .bind(m.seq)
            .bind(&m.role)
            .bind(&m.content)
            .bind(&m.mode)
            .bind(&m.photo_prompt)
            .bind(&m.photo_caption)
            .bind(&m.photo_id)
            .bind(m.created_at);
    }
    query.execute(e).await?;
    Ok(())
}

/// The highest `seq` of the conversation, 0 when empty.
pub async fn last_seq<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE user_id = $1 AND persona_id = $2",
    )
    .bind(user_id)
    .bind(persona_id)
    .fetch_one(e)
    .await?)
}

/// The newest `limit` messages with `seq > after`, oldest first: the history a turn sees.
pub async fn recent<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    after: i64,
    limit: i64,
) -> DbResult<Vec<Message>> {
    recent_before(e, user_id, persona_id, after, i64::MAX, limit).await
}

/// The newest `limit` messages with `after < seq < before`, oldest first: the history a
/// turn rewritten at `before` sees.
pub async fn recent_before<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    after: i64,
    before: i64,
    limit: i64,
) -> DbResult<Vec<Message>> {
    let mut rows: Vec<Message> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE user_id = $1 AND persona_id = $2 AND seq > $3 AND seq < $4
          ORDER BY seq DESC LIMIT $5"
    ))
    .bind(user_id)
    .bind(persona_id)
    .bind(after)
    .bind(before)
    .bind(limit)
    .fetch_all(e)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// A page of the conversation for the client: the newest `limit` messages with
/// `seq < before` (all when `before` is `None`), oldest first.
pub async fn page<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<Message>> {
    recent_before(e, user_id, persona_id, 0, before.unwrap_or(i64::MAX), limit).await
}

/// Messages with `after < seq <= through`, oldest first.
pub async fn range<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    after: i64,
    through: i64,
) -> DbResult<Vec<Message>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE user_id = $1 AND persona_id = $2 AND seq > $3 AND seq <= $4
          ORDER BY seq"
    ))
    .bind(user_id)
    .bind(persona_id)
    .bind(after)
    .bind(through)
    .fetch_all(e)
    .await?)
}

/// The user's message `id`; `None` for another user's.
pub async fn get<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    id: &str,
) -> DbResult<Option<Message>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(e)
    .await?)
}

/// Deletes the messages with `seq >= from`.
pub async fn delete_from<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    persona_id: &str,
    from: i64,
) -> DbResult<u64> {
    let done =
        sqlx::query("DELETE FROM messages WHERE user_id = $1 AND persona_id = $2 AND seq >= $3")
            .bind(user_id)
            .bind(persona_id)
            .bind(from)
            .execute(e)
            .await?;
    Ok(done.rows_affected())
}
