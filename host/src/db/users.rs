//! `users`.

use sqlx::{Any, Executor};

use super::DbResult;

/// An account.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub created_at: i64,
}

/// Creates a user. A taken email is a unique violation.
pub async fn insert<'e>(
    e: impl Executor<'e, Database = Any>,
    user: &User,
    password_hash: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, display_name, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(password_hash)
    .bind(&user.display_name)
    .bind(user.created_at)
    .execute(e)
    .await?;
    Ok(())
}

/// The user with `email` (normalized) and their password hash.
pub async fn by_email<'e>(
    e: impl Executor<'e, Database = Any>,
    email: &str,
) -> DbResult<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        email: String,
        display_name: Option<String>,
        created_at: i64,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, display_name, created_at, password_hash FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|r| {
        (
            User {
                id: r.id,
                email: r.email,
                display_name: r.display_name,
                created_at: r.created_at,
            },
            r.password_hash,
        )
    }))
}

/// Which of `ids` are users.
pub async fn existing<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: super::Backend,
    ids: &[&str],
) -> DbResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id FROM users WHERE id IN {}",
        super::tuples(backend, 1, ids.len(), 1)
    );
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(e).await?)
}

/// The user `id`.
pub async fn by_id<'e>(e: impl Executor<'e, Database = Any>, id: &str) -> DbResult<Option<User>> {
    Ok(
        sqlx::query_as("SELECT id, email, display_name, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?,
    )
}
