//! `photos`: the photos personas send. A photo is created `pending` with the chat turn that
//! asked for it and becomes `ready` (its image stored) or `failed` once, for good: a late
//! or repeated job changes nothing after that.

use sqlx::{Any, Executor};

use super::{Backend, DbResult, tuples};

/// A stored photo.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Photo {
    pub id: String,
    pub user_id: String,
    pub persona_id: String,
    pub message_id: Option<String>,
    /// `pending`, `ready` or `failed`.
    pub status: String,
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub caption: Option<String>,
    pub seed: i64,
    pub width: i64,
    pub height: i64,
    pub content_type: Option<String>,
    pub byte_size: Option<i64>,
    pub storage_key: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub failure_reason: Option<String>,
    pub job_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "id, user_id, persona_id, message_id, status, prompt, negative_prompt, caption, seed, \
         width, height, content_type, byte_size, storage_key, provider, model, failure_reason, \
         job_id, created_at, updated_at"
    };
}

/// Stores new photos (a turn's), with one statement.
pub async fn insert_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    rows: &[&Photo],
) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        concat!("INSERT INTO photos (", columns!(), ") VALUES {}"),
        tuples(backend, rows.len(), 20, 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for p in rows {
        query = query
            .bind(&p.id)
            .bind(&p.user_id)
            .bind(&p.persona_id)
            .bind(&p.message_id)
            .bind(&p.status)
            .bind(&p.prompt)
            .bind(&p.negative_prompt)
            .bind(&p.caption)
            .bind(p.seed)
            .bind(p.width)
            .bind(p.height)
            .bind(&p.content_type)
            .bind(p.byte_size)
            .bind(&p.storage_key)
            .bind(&p.provider)
            .bind(&p.model)
            .bind(&p.failure_reason)
            .bind(&p.job_id)
            .bind(p.created_at)
            .bind(p.updated_at);
    }
    query.execute(e).await?;
    Ok(())
}

/// The photo `id` of `user_id`.
pub async fn get<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    id: &str,
) -> DbResult<Option<Photo>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM photos WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(e)
    .await?)
}

/// The photos `ids` of `user_id` (those that exist).
pub async fn get_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    user_id: &str,
    ids: &[&str],
) -> DbResult<Vec<Photo>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let first = super::param(backend, 1);
    let sql = format!(
        concat!(
            "SELECT ",
            columns!(),
            " FROM photos WHERE user_id = {} AND id IN {}"
        ),
        first,
        tuples(backend, 1, ids.len(), 2)
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(e).await?)
}

/// The photo `id`, with the current appearance prompt of its persona (a job draws the
/// persona as it looks now).
pub async fn get_for_job<'e>(
    e: impl Executor<'e, Database = Any>,
    id: &str,
) -> DbResult<Option<(Photo, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        photo: Photo,
        appearance: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT ph.id, ph.user_id, ph.persona_id, ph.message_id, ph.status, ph.prompt, \
         ph.negative_prompt, ph.caption, ph.seed, ph.width, ph.height, ph.content_type, \
         ph.byte_size, ph.storage_key, ph.provider, ph.model, ph.failure_reason, ph.job_id, \
         ph.created_at, ph.updated_at, pe.appearance \
         FROM photos ph JOIN personas pe ON pe.id = ph.persona_id WHERE ph.id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|r| (r.photo, r.appearance)))
}

/// A page of `user_id`'s photos, newest first, older than the photo `before` when given.
pub async fn page<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Photo>> {
    // Ids are UUIDv7: their order is their creation order.
    let query = match before {
        Some(before) => sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM photos WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(user_id)
        .bind(before),
        None => sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM photos WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(user_id),
    };
    Ok(query.bind(limit).fetch_all(e).await?)
}

/// What a ready photo's image is.
#[derive(Debug, Clone)]
pub struct StoredImage<'a> {
    pub content_type: &'a str,
    pub byte_size: i64,
    pub storage_key: &'a str,
    pub provider: &'a str,
    pub model: Option<&'a str>,
    pub seed: Option<i64>,
}

/// Marks photo `id` ready with its image: the photo as it is now, or none when it was
/// ready already (or is gone). A failed photo becomes ready: a later attempt did draw it.
pub async fn mark_ready<'e>(
    e: impl Executor<'e, Database = Any>,
    id: &str,
    image: &StoredImage<'_>,
    now: i64,
) -> DbResult<Option<Photo>> {
    Ok(sqlx::query_as(concat!(
        "UPDATE photos SET status = 'ready', content_type = $1, byte_size = $2, \
         storage_key = $3, provider = $4, model = $5, seed = COALESCE($6, seed), \
         failure_reason = NULL, updated_at = $7 WHERE id = $8 AND status <> 'ready' RETURNING ",
        columns!()
    ))
    .bind(image.content_type)
    .bind(image.byte_size)
    .bind(image.storage_key)
    .bind(image.provider)
    .bind(image.model)
    .bind(image.seed)
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await?)
}

/// Marks the pending photo `id` failed: the photo as it is now, or none when it was not
/// pending.
pub async fn mark_failed<'e>(
    e: impl Executor<'e, Database = Any>,
    id: &str,
    reason: &str,
    now: i64,
) -> DbResult<Option<Photo>> {
    Ok(sqlx::query_as(concat!(
        "UPDATE photos SET status = 'failed', failure_reason = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending' RETURNING ",
        columns!()
    ))
    .bind(reason)
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await?)
}
