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

/// `provider`'s rows holding any of `subscription_ids` or being any of `customer_ids`, for
/// finding whom a batch of events is about.
pub async fn by_provider_ids<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    provider: &str,
    subscription_ids: &[&str],
    customer_ids: &[&str],
) -> DbResult<Vec<Subscription>> {
    let (s, c) = (subscription_ids.len(), customer_ids.len());
    if s + c == 0 {
        return Ok(Vec::new());
    }
    // `IN ()` is not SQL: an empty list is a condition that is never true.
    let list = |n: usize, first: usize, column: &str| match n {
        0 => "1 = 0".to_string(),
        n => format!("{column} IN {}", tuples(backend, 1, n, first)),
    };
    // The provider leads both indexes: (provider, subscription_id), (provider, customer_id).
    let first = super::param(backend, 1);
    let sql = format!(
        "SELECT user_id, provider, customer_id, subscription_id, status, current_period_end,
            cancel_at_period_end, price_id, state_as_of, updated_at
         FROM subscriptions WHERE provider = {first} AND ({} OR {})",
        list(s, 2, "subscription_id"),
        list(c, 2 + s, "customer_id")
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).bind(provider);
    for id in subscription_ids.iter().chain(customer_ids) {
        query = query.bind(*id);
    }
    Ok(query
        .fetch_all(e)
        .await?
        .into_iter()
        .map(Subscription::from)
        .collect())
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
