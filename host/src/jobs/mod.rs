//! Background jobs: one queue contract, two backends, and the worker that runs job-handler
//! plugins off it.
//!
//! - [`embedded::SqlQueue`]: a `jobs` table with leases in Ava's own database (no Redis).
//!   It is also the outbox of the Redis backend: a chat turn writes its jobs into this table
//!   in the same transaction as its messages, and a relay moves them to the stream.
//! - [`redis::RedisQueue`]: Redis Streams with a consumer group (`REDIS_URL`).
//!
//! Delivery is at least once on both: a job is acknowledged only after its handler
//! finished, a crashed worker's jobs come back after the visibility timeout, and every
//! effect is idempotent by job id.

pub mod backoff;
pub mod embedded;
pub mod redis;
pub mod worker;

use std::time::Duration;

use async_trait::async_trait;

/// Why the queue could not do something. The worker logs it and tries again later.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the job database failed: {0}")]
    Db(#[from] crate::db::DbError),
    #[error("Redis failed: {0}")]
    Redis(String),
    /// A message on the stream that is not a job Ava wrote (it is dead-lettered as is).
    #[error("malformed job {0}: {1}")]
    Malformed(String, String),
}

pub type QueueResult<T> = Result<T, QueueError>;

/// How many times a job is delivered before it goes to the dead letters, unless it says.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Unique and stable: the id handlers make their effects idempotent by.
    pub id: String,
    /// Which handler runs it, e.g. `photo.generate`.
    pub kind: String,
    /// JSON, shaped by the kind.
    pub payload: String,
    pub max_attempts: u32,
    /// When it was first enqueued, in milliseconds since the Unix epoch.
    pub enqueued_at_ms: i64,
}

impl NewJob {
    /// A job with a fresh id, enqueued now, with the default attempts.
    pub fn new(kind: &str, payload: String) -> Self {
        Self {
            id: crate::db::new_id(),
            kind: kind.to_string(),
            payload,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            enqueued_at_ms: crate::db::now_ms(),
        }
    }
}

/// One delivery of a job to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub job: NewJob,
    /// 1 on the first delivery; a delivery that was reclaimed after a crash counts too.
    pub attempt: u32,
    /// The backend's handle on this delivery (a stream entry id, a lease token): ack, retry
    /// and dead-lettering act on this delivery only, so a stale worker whose lease expired
    /// and was given to another cannot settle the job twice.
    pub receipt: String,
}

impl Delivery {
    /// Whether no further attempt follows this one.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.job.max_attempts
    }
}

/// A job that will not be retried on its own: `ava jobs dead` lists these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadJob {
    pub job: NewJob,
    /// Deliveries made before it was given up.
    pub attempts: u32,
    pub reason: String,
    pub died_at_ms: i64,
}

/// The queue contract both backends keep.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// `embedded` or `redis`, for logs and `/health/ready`.
    fn backend(&self) -> &'static str;

    /// Adds jobs, in order. A job id already queued is not added twice.
    async fn enqueue(&self, jobs: &[NewJob]) -> QueueResult<()>;

    /// Tells the queue that jobs were committed to the outbox table by someone else (a chat
    /// turn), so they move or wake a worker now rather than at the next poll.
    fn committed(&self);

    /// Up to `max` jobs whose time has come, each leased to `consumer` for the visibility
    /// timeout: first the deliveries whose lease ran out (a crashed worker's), then new
    /// ones. Waits up to `wait` for one when there are none.
    async fn claim(&self, consumer: &str, max: usize, wait: Duration)
    -> QueueResult<Vec<Delivery>>;

    /// The handler finished: the job is removed. False when the delivery was no longer
    /// this consumer's (its lease ran out and the job went to someone else).
    async fn ack(&self, delivery: &Delivery) -> QueueResult<bool>;

    /// Delivers the job again after `delay`, as attempt `attempt + 1`.
    async fn retry(&self, delivery: &Delivery, delay: Duration, reason: &str) -> QueueResult<bool>;

    /// Gives the job up: it moves to the dead letters with `reason`.
    async fn bury(&self, delivery: &Delivery, reason: &str) -> QueueResult<bool>;

    /// The dead letters, oldest first, at most `limit`.
    async fn dead(&self, limit: usize) -> QueueResult<Vec<DeadJob>>;

    /// Queues the dead job `id` again with its attempts reset; false when there is none.
    async fn revive(&self, id: &str) -> QueueResult<bool>;

    /// Jobs waiting or in flight (not dead), for metrics and tests.
    async fn depth(&self) -> QueueResult<u64>;
}
