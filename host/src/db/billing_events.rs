//! `billing_events`: every provider event applied, by its id, so that none is applied twice.

use sqlx::{Any, Executor};

use super::{Backend, DbResult, tuples};

/// A provider event as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingEvent<'a> {
    pub provider: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub user_id: Option<&'a str>,
    pub created_at: i64,
    pub received_at: i64,
    /// What the event did: `applied`, `stale`, ...
    pub outcome: &'a str,
}

/// Records `events` with one statement; returns how many were new (the others were already
/// there).
pub async fn record_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    events: &[BillingEvent<'_>],
) -> DbResult<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO billing_events (provider, event_id, event_type, user_id, created_at,
            received_at, outcome) VALUES {} ON CONFLICT (provider, event_id) DO NOTHING",
        tuples(backend, events.len(), 7, 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for event in events {
        query = query
            .bind(event.provider)
            .bind(event.event_id)
            .bind(event.event_type)
            .bind(event.user_id)
            .bind(event.created_at)
            .bind(event.received_at)
            .bind(event.outcome);
    }
    Ok(query.execute(e).await?.rows_affected())
}

/// Which of `provider`'s `event_ids` are recorded, as `(provider, event id)`.
pub async fn recorded<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    provider: &str,
    event_ids: &[&str],
) -> DbResult<Vec<(String, String)>> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The provider first: it leads the primary key, so this is a lookup per id, not a scan.
    let list = tuples(backend, 1, event_ids.len(), 2);
    let first = super::param(backend, 1);
    let sql = format!(
        "SELECT provider, event_id FROM billing_events WHERE provider = {first} AND event_id IN {list}"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(provider);
    for id in event_ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(e).await?)
}
