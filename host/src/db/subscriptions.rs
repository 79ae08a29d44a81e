//! `subscriptions`: one row per user who ever started a checkout.

use sqlx::{Any, Executor};

use super::{Backend, DbResult, flag, tuples};

/// A user's subscription as Ava knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub user_id: String,
    pub provider: String,
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    /// `none`, `incomplete`, `incomplete_expired`, `trialing`, `active`, `past_due`,
    /// `unpaid`, `canceled` or `paused`.
    pub status: String,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub price_id: Option<String>,
    /// Creation time of the newest provider event applied.
    pub state_as_of: i64,
    pub updated_at: i64,
}

impl Subscription {
    /// Whether this subscription gives access to chat.
    pub fn grants_access(&self) -> bool {
        status_grants_access(&self.status)
    }
}

/// Whether a subscription in `status` gives access to chat. A failed renewal (`past_due`)
/// keeps access while the provider retries the payment, as Stripe's dunning expects.
pub fn status_grants_access(status: &str) -> bool {
    matches!(status, "active" | "trialing" | "past_due")
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: String,
    provider: String,
    customer_id: Option<String>,
    subscription_id: Option<String>,
    status: String,
    current_period_end: Option<i64>,
    cancel_at_period_end: i64,
    price_id: Option<String>,
    state_as_of: i64,
    updated_at: i64,
}

impl From<Row> for Subscription {
    fn from(r: Row) -> Self {
        Subscription {
            user_id: r.user_id,
            provider: r.provider,
            customer_id: r.customer_id,
            subscription_id: r.subscription_id,
            status: r.status,
            current_period_end: r.current_period_end,
            cancel_at_period_end: r.cancel_at_period_end != 0,
            price_id: r.price_id,
            state_as_of: r.state_as_of,
            updated_at: r.updated_at,
        }
    }
}

/// The user's subscription.
pub async fn get<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
) -> DbResult<Option<Subscription>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT user_id, provider, customer_id, subscription_id, status, current_period_end,
            cancel_at_period_end, price_id, state_as_of, updated_at
         FROM subscriptions WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(Subscription::from))
}

/// The user `user_id`, if they exist, with their subscription: one query for what a webhook
/// needs first.
pub async fn user_with_subscription<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
) -> DbResult<Option<(String, Option<Subscription>)>> {
    #[derive(sqlx::FromRow)]
    struct Joined {
        id: String,
        provider: Option<String>,
        customer_id: Option<String>,
        subscription_id: Option<String>,
        status: Option<String>,
        current_period_end: Option<i64>,
        cancel_at_period_end: Option<i64>,
        price_id: Option<String>,
        state_as_of: Option<i64>,
        updated_at: Option<i64>,
    }
    let row: Option<Joined> = sqlx::query_as(
        "SELECT u.id, s.provider, s.customer_id, s.subscription_id, s.status,
            s.current_period_end, s.cancel_at_period_end, s.price_id, s.state_as_of, s.updated_at
         FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|j| {
        let held = match (j.provider, j.status) {
            (Some(provider), Some(status)) => Some(Subscription {
                user_id: j.id.clone(),
                provider,
                customer_id: j.customer_id,
                subscription_id: j.subscription_id,
                status,
                current_period_end: j.current_period_end,
                cancel_at_period_end: j.cancel_at_period_end.unwrap_or(0) != 0,
                price_id: j.price_id,
                state_as_of: j.state_as_of.unwrap_or(0),
                updated_at: j.updated_at.unwrap_or(0),
            }),
            _ => None,
        };
        (j.id, held)
    }))
}

/// The row holding `provider`'s subscription `subscription_id`, or else the row of
/// `provider`'s customer `customer_id` (either may be absent).
pub async fn held_by_provider_ids<'e>(
    e: impl Executor<'e, Database = Any>,
    provider: &str,
    subscription_id: Option<&str>,
    customer_id: Option<&str>,
) -> DbResult<Option<Subscription>> {
    // One query: a subscription id match ranks before a customer match.
    let row: Option<Row> = sqlx::query_as(
        "SELECT user_id, provider, customer_id, subscription_id, status, current_period_end,
            cancel_at_period_end, price_id, state_as_of, updated_at
         FROM subscriptions
         WHERE provider = $1 AND (subscription_id = $2 OR customer_id = $3)
         ORDER BY CASE WHEN subscription_id = $4 THEN 0 ELSE 1 END LIMIT 1",
    )
    .bind(provider)
    .bind(subscription_id)
    .bind(customer_id)
    .bind(subscription_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(Subscription::from))
}

/// The subscriptions of `user_ids`.
pub async fn get_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    user_ids: &[&str],
) -> DbResult<Vec<Subscription>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT user_id, provider, customer_id, subscription_id, status, current_period_end,
            cancel_at_period_end, price_id, state_as_of, updated_at
         FROM subscriptions WHERE user_id IN {}",
        tuples(backend, 1, user_ids.len(), 1)
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
    for id in user_ids {
        query = query.bind(*id);
    }
    Ok(query
        .fetch_all(e)
        .await?
        .into_iter()
        .map(Subscription::from)
        .collect())
}

/// Stores `rows` (one per user) with one statement, replacing the users' rows.
pub async fn upsert_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    rows: &[&Subscription],
) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO subscriptions (user_id, provider, customer_id, subscription_id, status,
            current_period_end, cancel_at_period_end, price_id, state_as_of, updated_at)
         VALUES {} {UPSERT}",
        tuples(backend, rows.len(), 10, 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for s in rows {
        query = query
            .bind(&s.user_id)
            .bind(&s.provider)
            .bind(&s.customer_id)
            .bind(&s.subscription_id)
            .bind(&s.status)
            .bind(s.current_period_end)
            .bind(flag(s.cancel_at_period_end))
            .bind(&s.price_id)
            .bind(s.state_as_of)
            .bind(s.updated_at);
    }
    query.execute(e).await?;
    Ok(())
}

/// What an insert of a whole row does to the user's existing row.
const UPSERT: &str = "ON CONFLICT (user_id) DO UPDATE SET provider = excluded.provider,
    customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,
    status = excluded.status, current_period_end = excluded.current_period_end,
    cancel_at_period_end = excluded.cancel_at_period_end, price_id = excluded.price_id,
    state_as_of = excluded.state_as_of, updated_at = excluded.updated_at";

/// Stores `s`, replacing the user's row.
pub async fn upsert<'e>(e: impl Executor<'e, Database = Any>, s: &Subscription) -> DbResult<()> {
    // One row numbered `$n` reads the same on both databases.
    upsert_many(e, Backend::Postgres, &[s]).await
}

/// The user holding `provider`'s subscription `subscription_id`.
pub async fn user_of_subscription<'e>(
    e: impl Executor<'e, Database = Any>,
    provider: &str,
    subscription_id: &str,
) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM subscriptions WHERE provider = $1 AND subscription_id = $2 LIMIT 1",
    )
    .bind(provider)
    .bind(subscription_id)
    .fetch_optional(e)
    .await?)
}

/// The user who is `provider`'s customer `customer_id`.
pub async fn user_of_customer<'e>(
    e: impl Executor<'e, Database = Any>,
    provider: &str,
    customer_id: &str,
) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM subscriptions WHERE provider = $1 AND customer_id = $2 LIMIT 1",
    )
    .bind(provider)
    .bind(customer_id)
    .fetch_optional(e)
    .await?)
}

/// Remembers that `user_id` is `provider`'s customer `customer_id`, for the next checkout and
/// the portal. A user without a row gets one with status `none`; a held subscription of the
/// same provider keeps its state.
pub async fn remember_customer<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    provider: &str,
    customer_id: &str,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO subscriptions (user_id, provider, customer_id, subscription_id, status,
            current_period_end, cancel_at_period_end, price_id, state_as_of, updated_at)
         VALUES ($1, $2, $3, NULL, 'none', NULL, 0, NULL, 0, $4)
         ON CONFLICT (user_id) DO UPDATE SET customer_id = excluded.customer_id,
            updated_at = excluded.updated_at
         WHERE subscriptions.provider = excluded.provider
            AND subscriptions.customer_id IS NULL",
    )
    .bind(user_id)
    .bind(provider)
    .bind(customer_id)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}
