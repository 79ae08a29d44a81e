//! `jobs`: the embedded queue's table (and the Redis queue's outbox). Every change of a
//! delivered job names its lease, so a worker whose lease ran out (and whose job went to
//! another) changes nothing.

use sqlx::{Any, Executor};

use super::{Backend, DbResult, tuples};
use crate::jobs::{DeadJob, Delivery, NewJob};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    payload: String,
    max_attempts: i64,
    enqueued_at: i64,
    attempts: i64,
    dead_at: Option<i64>,
    last_error: Option<String>,
}

impl Row {
    fn job(&self) -> NewJob {
        NewJob {
            id: self.id.clone(),
            kind: self.kind.clone(),
            payload: self.payload.clone(),
            max_attempts: self.max_attempts.clamp(1, i64::from(u32::MAX)) as u32,
            enqueued_at_ms: self.enqueued_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, kind, payload, max_attempts, enqueued_at, attempts, dead_at, last_error"
    };
}

/// Most jobs one [`insert_many`] statement carries.
pub const ROWS_PER_STATEMENT: usize = 256;

/// Adds `jobs` (at most [`ROWS_PER_STATEMENT`]), due at once; ids already present are left
/// as they are.
pub async fn insert_many<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    jobs: &[NewJob],
    now: i64,
) -> DbResult<()> {
    debug_assert!(jobs.len() <= ROWS_PER_STATEMENT);
    if jobs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO jobs (id, kind, payload, max_attempts, enqueued_at, attempts, run_at) \
         VALUES {} ON CONFLICT (id) DO NOTHING",
        tuples(backend, jobs.len(), 7, 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for job in jobs {
        query = query
            .bind(&job.id)
            .bind(&job.kind)
            .bind(&job.payload)
            .bind(i64::from(job.max_attempts))
            .bind(job.enqueued_at_ms)
            .bind(0_i64)
            .bind(now);
    }
    query.execute(e).await?;
    Ok(())
}

/// Leases up to `max` claimable jobs (waiting and due, or leased with the lease run out)
/// under the receipt `lease` until `lease_until`, oldest due first.
pub async fn claim<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    lease: &str,
    max: usize,
    now: i64,
    lease_until: i64,
) -> DbResult<Vec<Delivery>> {
    // PostgreSQL: concurrent workers skip each other's rows instead of queueing on them.
    // SQLite: one writer at a time, so there is nothing to skip.
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        concat!(
            "UPDATE jobs SET lease = $1, attempts = attempts + 1, run_at = $2 \
             WHERE id IN (SELECT id FROM jobs WHERE dead_at IS NULL AND run_at <= $3 \
             ORDER BY run_at LIMIT $4{}) RETURNING ",
            columns!()
        ),
        lock
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(lease)
        .bind(lease_until)
        .bind(now)
        .bind(max as i64)
        .fetch_all(e)
        .await?;
    let mut deliveries: Vec<Delivery> = rows
        .iter()
        .map(|r| Delivery {
            job: r.job(),
            attempt: r.attempts.clamp(0, i64::from(u32::MAX)) as u32,
            receipt: lease.to_string(),
        })
        .collect();
    // RETURNING has no order; keep the queue's.
    deliveries
        .sort_by(|a, b| (a.job.enqueued_at_ms, &a.job.id).cmp(&(b.job.enqueued_at_ms, &b.job.id)));
    Ok(deliveries)
}

/// Removes the delivered jobs `ids` still held under `lease`; how many were.
pub async fn delete_leased<'e>(
    e: impl Executor<'e, Database = Any>,
    backend: Backend,
    lease: &str,
    ids: &[&str],
) -> DbResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "DELETE FROM jobs WHERE lease = {} AND id IN {}",
        super::param(backend, 1),
        tuples(backend, 1, ids.len(), 2)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lease);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.execute(e).await?.rows_affected())
}

/// Puts the delivered job back to wait until `run_at`; false when the lease is not held.
pub async fn release<'e>(
    e: impl Executor<'e, Database = Any>,
    id: &str,
    lease: &str,
    run_at: i64,
    reason: &str,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET lease = NULL, run_at = $1, last_error = $2 WHERE id = $3 AND lease = $4",
    )
    .bind(run_at)
    .bind(reason)
    .bind(id)
    .bind(lease)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the delivered job up; false when the lease is not held.
pub async fn bury<'e>(
    e: impl Executor<'e, Database = Any>,
    id: &str,
    lease: &str,
    now: i64,
    reason: &str,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET lease = NULL, dead_at = $1, last_error = $2 WHERE id = $3 AND lease = $4",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .bind(lease)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The dead jobs, oldest first.
pub async fn dead<'e>(e: impl Executor<'e, Database = Any>, limit: i64) -> DbResult<Vec<DeadJob>> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM jobs WHERE dead_at IS NOT NULL ORDER BY dead_at, id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(e)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DeadJob {
            job: r.job(),
            attempts: r.attempts.clamp(0, i64::from(u32::MAX)) as u32,
            reason: r.last_error.clone().unwrap_or_default(),
            died_at_ms: r.dead_at.unwrap_or_default(),
        })
        .collect())
}

/// Queues the dead job `id` again, as new; false when there is no such dead job.
pub async fn revive<'e>(
    e: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET dead_at = NULL, attempts = 0, run_at = $1, lease = NULL, \
         last_error = NULL WHERE id = $2 AND dead_at IS NOT NULL",
    )
    .bind(now)
    .bind(id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs not dead: waiting or leased.
pub async fn live_count<'e>(e: impl Executor<'e, Database = Any>) -> DbResult<u64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE dead_at IS NULL")
        .fetch_one(e)
        .await?;
    Ok(n.max(0) as u64)
}

/// The earliest time a live job becomes claimable, if any: how long an idle worker may sleep.
pub async fn next_due<'e>(e: impl Executor<'e, Database = Any>) -> DbResult<Option<i64>> {
    let (next,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(run_at) FROM jobs WHERE dead_at IS NULL")
            .fetch_one(e)
            .await?;
    Ok(next)
}
