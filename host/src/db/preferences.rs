//! `preferences`: one row per user.

use sqlx::{Any, Executor};

use super::{DbResult, flag};

/// A user's preferences.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub user_id: String,
    /// `secretary` or `intimate`.
    pub mode: String,
    pub active_persona_id: Option<String>,
    pub photos_enabled: bool,
    /// When the user confirmed being 18 or older, in ms since the epoch.
    pub adult_confirmed_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: String,
    mode: String,
    active_persona_id: Option<String>,
    photos_enabled: i64,
    adult_confirmed_at: Option<i64>,
    updated_at: i64,
}

/// Stores `p`, replacing the user's row.
pub async fn upsert<'e>(e: impl Executor<'e, Database = Any>, p: &Preferences) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO preferences (user_id, mode, active_persona_id, photos_enabled,
            adult_confirmed_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode,
            active_persona_id = excluded.active_persona_id,
            photos_enabled = excluded.photos_enabled,
            adult_confirmed_at = excluded.adult_confirmed_at,
            updated_at = excluded.updated_at",
    )
    .bind(&p.user_id)
    .bind(&p.mode)
    .bind(&p.active_persona_id)
    .bind(flag(p.photos_enabled))
    .bind(p.adult_confirmed_at)
    .bind(p.updated_at)
    .execute(e)
    .await?;
    Ok(())
}

/// The user's preferences.
pub async fn get<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
) -> DbResult<Option<Preferences>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT user_id, mode, active_persona_id, photos_enabled, adult_confirmed_at, updated_at
         FROM preferences WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|r| Preferences {
        user_id: r.user_id,
        mode: r.mode,
        active_persona_id: r.active_persona_id,
        photos_enabled: r.photos_enabled != 0,
        adult_confirmed_at: r.adult_confirmed_at,
        updated_at: r.updated_at,
    }))
}

/// What a chat turn needs to know about its user, in one query.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TurnContext {
    pub mode: String,
    pub active_persona_id: Option<String>,
    pub photos_enabled: i64,
    pub adult_confirmed_at: Option<i64>,
    pub display_name: Option<String>,
    /// The subscription's status; `None` for a user who never subscribed.
    pub subscription_status: Option<String>,
}

/// The user's preferences, display name and subscription status.
pub async fn turn_context<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
) -> DbResult<Option<TurnContext>> {
    Ok(sqlx::query_as(
        "SELECT p.mode, p.active_persona_id, p.photos_enabled, p.adult_confirmed_at,
            u.display_name, s.status AS subscription_status
         FROM preferences p
         JOIN users u ON u.id = p.user_id
         LEFT JOIN subscriptions s ON s.user_id = p.user_id
         WHERE p.user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(e)
    .await?)
}
