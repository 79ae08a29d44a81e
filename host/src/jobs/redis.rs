//! The Redis queue: Redis Streams with one consumer group (`REDIS_URL`).
//!
//! Every change of a job's state is one Lua script, so Redis applies it whole or not at all
//! and two workers never see half of it. Times (due dates, `died_at`) are Redis's clock, so
//! processes with skewed clocks agree on when a retry is due.
//!
//! # Key layout (`P` is the prefix, `ava:jobs` by default)
//!
//! | key | type | why |
//! | --- | --- | --- |
//! | `P:stream` | stream, group `workers` | Jobs waiting and in flight. A claim reads new entries through the group (`XREADGROUP >`); a claimed entry stays in the group's pending list until it is settled, which is what lets `XAUTOCLAIM` hand a crashed worker's jobs to another after the visibility timeout. Settled entries are `XDEL`eted, so `XLEN` is the number of jobs waiting or in flight. |
//! | `P:delayed` | sorted set | Retries waiting for their time, scored by the due time in ms. The member is the entry's fields packed with MessagePack. Every claim first moves the due ones back onto the stream. |
//! | `P:dead` | stream | The dead letters, oldest first: the job's fields plus `attempts`, `reason` and `died_at`. |
//! | `P:dead:ids` | hash | Job id → its entry in `P:dead`, so `revive(id)` does not scan the dead letters, and one id has one dead letter. |
//! | `P:known:<id>` | string | Present while the job is queued (waiting, in flight or delayed): `enqueue` adds a job only when it can create this key, which makes enqueueing (and so the outbox relay) idempotent by id. Removed on ack and bury; it also expires after a week, so a key left by hand cannot block an id forever. |
//! | `P:reclaim` | string | The `XAUTOCLAIM` cursor, so successive claims walk the whole pending list rather than rescanning its head. |
//!
//! A stream entry has the fields `id`, `kind`, `payload`, `max_attempts`, `enqueued_at` and
//! `attempt`: the number of deliveries the job had before this entry was written (0 when
//! enqueued, the failed attempt's number when it is retried). Redis counts the deliveries of
//! the entry itself in the pending list, reclaims included, so a delivery's attempt is
//! `attempt` plus that count: nothing has to be written per claim, and the count survives a
//! reclaim and a restart of Redis with persistence.
//!
//! The receipt of a delivery is `<entry id>/<delivery count>`. Ack, retry and bury first check
//! in the pending list that the entry still has that count: a reclaim increments it, so a
//! worker whose lease ran out settles nothing, even when the new owner has the same name.
//!
//! An entry that is not a job Ava wrote (a field missing, a number that is not one) goes to
//! the dead letters with a reason starting with `malformed` the first time it is read, so it
//! never loops. A job delivered more often than its `max_attempts` (its worker crashed or
//! hung on each attempt, so nobody buried it) is buried by the claim instead of delivered.
//!
//! # Connections
//!
//! Every command goes through one multiplexed connection, so concurrent calls are pipelined
//! (a worker that acks a batch concurrently pays about one round trip for it). The only
//! exception is a claim that has to wait: `XREAD BLOCK` holds its connection, so it runs on a
//! connection of its own, kept for the next waiting claim (up to four are kept idle). A
//! waiting claim wakes when an entry is added, when the next retry is due, or when a lease
//! may have run out, whichever is first, and then runs the claim script again.
//!
//! The client reconnects on its own, forever; a call waits for Redis up to the command
//! timeout and then fails, so a worker logs an outage rather than hanging. Scripts are sent
//! once and loaded again when a restarted Redis has forgotten them.
//!
//! Redis Cluster is not supported: the scripts touch keys they compute (`P:known:<id>`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fred::prelude::*;
use fred::types::ConnectHandle;
use fred::types::scripts::Script;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{DeadJob, Delivery, NewJob, Queue, QueueError, QueueResult};

/// The consumer group every worker reads through.
const GROUP: &str = "workers";

/// How long an id stays known without being settled: far longer than any job stays queued,
/// only a guard against a marker that would otherwise never go.
const KNOWN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Jobs per enqueue script call: big enough to amortise the round trip, small enough not to
/// hold Redis (which runs one script at a time) for long.
const ENQUEUE_BATCH: usize = 256;

/// How many jobs the relay moves from the outbox per pass.
const RELAY_BATCH: usize = 256;

/// How often the relay looks at the outbox when nobody called `committed()`.
const RELAY_POLL: Duration = Duration::from_secs(1);

/// Idle blocking connections kept for claims that wait; more are opened when more claims
/// wait at once, and closed when they are done.
const IDLE_WAITERS: usize = 4;

/// A claim that waits never blocks for less than this, so a hint of "now" cannot spin.
const MIN_BLOCK: Duration = Duration::from_millis(5);

/// How to connect a [`RedisQueue`].
#[derive(Clone)]
pub struct RedisQueueOptions {
    /// The key namespace: every key of the queue starts with it and a colon.
    pub prefix: String,
    /// How long a claimed job stays leased to its worker before another may reclaim it.
    pub visibility: Duration,
    /// The outbox the relay moves jobs from (the SQL `jobs` table a chat turn writes), if any.
    pub outbox: Option<Arc<dyn Queue>>,
    /// How long a call waits for Redis, through a reconnect, before it fails with
    /// [`QueueError::Redis`]: the worker logs it and tries again rather than hanging quietly
    /// while Redis is down. A claim's blocking wait comes on top of it.
    pub command_timeout: Duration,
}

impl Default for RedisQueueOptions {
    fn default() -> Self {
        Self {
            prefix: "ava:jobs".to_string(),
            visibility: Duration::from_secs(60),
            outbox: None,
            command_timeout: Duration::from_secs(10),
        }
    }
}

/// The names of the queue's keys (see the module documentation).
#[derive(Debug, Clone)]
struct Keys {
    stream: String,
    delayed: String,
    dead: String,
    dead_ids: String,
    known: String,
    reclaim: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        Self {
            stream: format!("{prefix}:stream"),
            delayed: format!("{prefix}:delayed"),
            dead: format!("{prefix}:dead"),
            dead_ids: format!("{prefix}:dead:ids"),
            known: format!("{prefix}:known:"),
            reclaim: format!("{prefix}:reclaim"),
        }
    }
}

/// A connection kept for blocking reads: a `BLOCK` holds its connection, so it must not be
/// the multiplexed one every other command goes through.
struct Waiter {
    client: Client,
    connection: ConnectHandle,
}

/// The Redis backend of the job queue.
pub struct RedisQueue {
    client: Client,
    /// The task driving the connection: a fred client's outlives its handles, so Drop ends
    /// it.
    connection: Option<ConnectHandle>,
    keys: Keys,
    visibility: Duration,
    command_timeout: Duration,
    waiters: Mutex<Vec<Waiter>>,
    wake_relay: Arc<Notify>,
    relay: Option<JoinHandle<()>>,
}

impl RedisQueue {
    /// Connects to `url` (`redis://host:port/db`), creates the stream and its consumer group
    /// when missing, and starts the outbox relay when there is an outbox. Fails when Redis
    /// cannot be reached now; after that, the client reconnects on its own.
    pub async fn connect(url: &str, options: RedisQueueOptions) -> QueueResult<Arc<Self>> {
        let config = Config::from_url(url).map_err(redis_error)?;
        let mut builder = Builder::from_config(config);
        builder
            // Forever, 50 ms doubling to 2 s: a restart of Redis is waited out, not fatal.
            .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
            .with_connection_config(|connection| {
                connection.connection_timeout = Duration::from_secs(5);
                connection.tcp.nodelay = Some(true);
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = options.command_timeout;
            });
        let client = builder.build().map_err(redis_error)?;
        let connection = client.init().await.map_err(redis_error)?;
        let keys = Keys::new(&options.prefix);
        ensure_group(&client, &keys).await?;

        let wake_relay = Arc::new(Notify::new());
        let relay = options.outbox.map(|outbox| {
            tokio::spawn(relay(
                client.clone(),
                keys.clone(),
                outbox,
                wake_relay.clone(),
            ))
        });
        Ok(Arc::new(Self {
            client,
            connection: Some(connection),
            keys,
            visibility: options.visibility,
            command_timeout: options.command_timeout,
            waiters: Mutex::new(Vec::new()),
            wake_relay,
            relay,
        }))
    }

    async fn eval(&self, script: &Script, keys: Vec<&str>, args: Vec<Value>) -> QueueResult<Value> {
        eval(&self.client, script, keys, args).await
    }

    /// One pass of the claim script: due retries promoted, expired leases reclaimed, new
    /// entries read, all without blocking.
    async fn claim_once(&self, consumer: &str, max: usize) -> QueueResult<ClaimPass> {
        let keys = vec![
            self.keys.stream.as_str(),
            self.keys.delayed.as_str(),
            self.keys.dead.as_str(),
            self.keys.dead_ids.as_str(),
            self.keys.reclaim.as_str(),
        ];
        let args = vec![
            Value::from(GROUP),
            Value::from(consumer),
            Value::from(max as i64),
            Value::from(self.visibility.as_millis() as i64),
            Value::from(self.keys.known.as_str()),
        ];
        let reply = match self.eval(&CLAIM, keys.clone(), args.clone()).await {
            // Redis restarted without persistence (or someone deleted the stream): the group
            // is gone with it, and what is there now is delivered from the start.
            Err(error) if is_nogroup(&error) => {
                ensure_group(&self.client, &self.keys).await?;
                self.eval(&CLAIM, keys, args).await?
            }
            other => other?,
        };
        let mut pass = ClaimPass::parse(reply)?;
        let mut deliveries = Vec::with_capacity(pass.entries.len());
        for entry in std::mem::take(&mut pass.entries) {
            match entry.into_delivery() {
                Ok(delivery) => deliveries.push(delivery),
                // Lua let it through but Rust cannot read it (bytes that are not UTF-8, a
                // number too big): it is dead-lettered now, never delivered.
                Err((receipt, why)) => {
                    self.settle_bury(&receipt, &format!("malformed: {why}"), true)
                        .await?;
                }
            }
        }
        pass.deliveries = deliveries;
        Ok(pass)
    }

    /// Blocks until an entry newer than `after` is added to the stream, or `timeout`.
    async fn wait_for_entries(&self, after: &str, timeout: Duration) -> QueueResult<()> {
        let idle = self.waiters.lock().expect("waiters lock").pop();
        let waiter = match idle {
            Some(waiter) => waiter,
            None => {
                let client = self.client.clone_new();
                let connection = client.init().await.map_err(redis_error)?;
                Waiter { client, connection }
            }
        };
        let block_ms = timeout.as_millis().max(1) as u64;
        let patience = Options {
            timeout: Some(timeout + self.command_timeout),
            ..Options::default()
        };
        let read: Result<Value, _> = waiter
            .client
            .with_options(&patience)
            .xread(Some(1), Some(block_ms), self.keys.stream.as_str(), after)
            .await;
        match read {
            Ok(_) => {
                let mut waiters = self.waiters.lock().expect("waiters lock");
                if waiters.len() < IDLE_WAITERS {
                    waiters.push(waiter);
                } else {
                    close(waiter.client, waiter.connection);
                }
                Ok(())
            }
            Err(error) => {
                close(waiter.client, waiter.connection);
                Err(redis_error(error))
            }
        }
    }

    /// Runs the bury script on a receipt: the delivery moves to the dead letters.
    async fn settle_bury(&self, receipt: &str, reason: &str, malformed: bool) -> QueueResult<bool> {
        let Some((entry, count)) = parse_receipt(receipt) else {
            return Ok(false);
        };
        let keys = vec![
            self.keys.stream.as_str(),
            self.keys.dead.as_str(),
            self.keys.dead_ids.as_str(),
        ];
        let args = vec![
            Value::from(GROUP),
            Value::from(entry),
            Value::from(count),
            Value::from(reason),
            Value::from(self.keys.known.as_str()),
            Value::from(if malformed { 1 } else { 0 }),
        ];
        settled(self.eval(&BURY, keys, args).await)
    }
}

impl Drop for RedisQueue {
    fn drop(&mut self) {
        if let Some(relay) = &self.relay {
            relay.abort();
        }
        for waiter in self.waiters.get_mut().expect("waiters lock").drain(..) {
            close(waiter.client, waiter.connection);
        }
        if let Some(connection) = self.connection.take() {
            close(self.client.clone(), connection);
        }
    }
}

/// Ends a client's connection: politely with QUIT when a runtime is there to send it,
/// otherwise by ending the task that drives the connection.
fn close(client: Client, connection: ConnectHandle) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                let _ = client.quit().await;
                // QUIT while Redis is unreachable would wait for a reconnect forever.
                connection.abort();
            });
        }
        Err(_) => connection.abort(),
    }
}

#[async_trait]
impl Queue for RedisQueue {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn enqueue(&self, jobs: &[NewJob]) -> QueueResult<()> {
        for job in jobs {
            check_new_job(job)?;
        }
        // One script per batch; the batches go down the one connection in order, so the
        // jobs land in order, and they are pipelined rather than one round trip each.
        let batches = jobs
            .chunks(ENQUEUE_BATCH)
            .map(|batch| enqueue_batch(&self.client, &self.keys, batch));
        futures::future::try_join_all(batches).await?;
        Ok(())
    }

    fn committed(&self) {
        // A permit is stored when the relay is busy, so a commit during a pass is not missed.
        self.wake_relay.notify_one();
    }

    async fn claim(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> QueueResult<Vec<Delivery>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        loop {
            let pass = self.claim_once(consumer, max).await?;
            let now = Instant::now();
            if !pass.deliveries.is_empty() || now >= deadline {
                return Ok(pass.deliveries);
            }
            // Sleep until an entry is added, or a retry falls due, or a lease may run out,
            // whichever comes first: the latter two add nothing to the stream to wake on.
            let mut block = deadline - now;
            for hint in [pass.due_in, pass.lease_ends_in].into_iter().flatten() {
                block = block.min(hint);
            }
            let block = block.max(MIN_BLOCK);
            self.wait_for_entries(&pass.last_id, block).await?;
        }
    }

    async fn ack(&self, delivery: &Delivery) -> QueueResult<bool> {
        let Some((entry, count)) = parse_receipt(&delivery.receipt) else {
            return Ok(false);
        };
        let args = vec![
            Value::from(GROUP),
            Value::from(self.keys.known.as_str()),
            Value::from(entry),
            Value::from(count),
            Value::from(delivery.job.id.as_str()),
        ];
        let reply = self.eval(&ACK, vec![self.keys.stream.as_str()], args).await;
        settled(reply.map(|value| match value {
            Value::Array(mut each) if each.len() == 1 => each.remove(0),
            other => other,
        }))
    }

    async fn retry(&self, delivery: &Delivery, delay: Duration, reason: &str) -> QueueResult<bool> {
        let Some((entry, count)) = parse_receipt(&delivery.receipt) else {
            return Ok(false);
        };
        tracing::debug!(job = %delivery.job.id, attempt = delivery.attempt, ?delay, reason, "job retried");
        let keys = vec![self.keys.stream.as_str(), self.keys.delayed.as_str()];
        let args = vec![
            Value::from(GROUP),
            Value::from(entry),
            Value::from(count),
            Value::from(delay.as_millis() as i64),
        ];
        settled(self.eval(&RETRY, keys, args).await)
    }

    async fn bury(&self, delivery: &Delivery, reason: &str) -> QueueResult<bool> {
        self.settle_bury(&delivery.receipt, reason, false).await
    }

    async fn dead(&self, limit: usize) -> QueueResult<Vec<DeadJob>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let entries: Value = self
            .client
            .xrange(self.keys.dead.as_str(), "-", "+", Some(limit as u64))
            .await
            .map_err(redis_error)?;
        let Value::Array(entries) = entries else {
            return Ok(Vec::new());
        };
        entries.into_iter().map(dead_job).collect()
    }

    async fn revive(&self, id: &str) -> QueueResult<bool> {
        let keys = vec![
            self.keys.stream.as_str(),
            self.keys.dead.as_str(),
            self.keys.dead_ids.as_str(),
        ];
        let args = vec![
            Value::from(id),
            Value::from(self.keys.known.as_str()),
            Value::from(KNOWN_TTL.as_millis() as i64),
        ];
        match self.eval(&REVIVE, keys, args).await? {
            Value::Integer(1) => Ok(true),
            Value::Integer(-1) => Err(QueueError::Malformed(
                id.to_string(),
                "a malformed entry cannot be revived".to_string(),
            )),
            _ => Ok(false),
        }
    }

    async fn depth(&self) -> QueueResult<u64> {
        let keys = vec![self.keys.stream.as_str(), self.keys.delayed.as_str()];
        match self.eval(&DEPTH, keys, Vec::new()).await? {
            Value::Integer(n) => Ok(n.max(0) as u64),
            other => Err(QueueError::Redis(format!(
                "depth: unexpected reply {other:?}"
            ))),
        }
    }
}

/// What one pass of the claim script found.
#[derive(Debug, Default)]
struct ClaimPass {
    entries: Vec<RawDelivery>,
    deliveries: Vec<Delivery>,
    /// When nothing was delivered: how long until the next retry is due.
    due_in: Option<Duration>,
    /// When nothing was delivered: how long until the oldest lease may run out.
    lease_ends_in: Option<Duration>,
    /// When nothing was delivered: the stream's last entry id, to block for newer ones.
    last_id: String,
}

impl ClaimPass {
    fn parse(reply: Value) -> QueueResult<Self> {
        let unexpected = || QueueError::Redis("claim: unexpected reply".to_string());
        let Value::Array(mut parts) = reply else {
            return Err(unexpected());
        };
        if parts.len() != 2 {
            return Err(unexpected());
        }
        let entries = parts.pop().ok_or_else(unexpected)?;
        let hints = parts.pop().ok_or_else(unexpected)?;
        let mut pass = ClaimPass::default();
        if let Value::Array(hints) = hints
            && hints.len() == 3
        {
            let millis = |v: &Value| match v {
                Value::Integer(ms) if *ms >= 0 => Some(Duration::from_millis(*ms as u64)),
                _ => None,
            };
            pass.due_in = millis(&hints[0]);
            pass.lease_ends_in = millis(&hints[1]);
            pass.last_id = text(&hints[2]).unwrap_or_else(|| "0-0".to_string());
        }
        if let Value::Array(entries) = entries {
            for entry in entries {
                let Value::Array(fields) = entry else {
                    return Err(unexpected());
                };
                pass.entries.push(RawDelivery(fields));
            }
        }
        Ok(pass)
    }
}

/// One delivery as the claim script returns it: entry id, delivery count, attempt, then the
/// job's id, kind, payload, max_attempts and enqueued_at.
#[derive(Debug)]
struct RawDelivery(Vec<Value>);

impl RawDelivery {
    /// The delivery, or its receipt and why it cannot be one.
    fn into_delivery(self) -> Result<Delivery, (String, String)> {
        let fields = self.0;
        if fields.len() != 8 {
            return Err((String::new(), format!("{} fields", fields.len())));
        }
        let entry = text(&fields[0]).unwrap_or_default();
        let count = integer(&fields[1]).unwrap_or_default();
        let receipt = format!("{entry}/{count}");
        let field = |i: usize, name: &str| {
            text(&fields[i]).ok_or_else(|| (receipt.clone(), format!("{name} is not UTF-8 text")))
        };
        let attempt = integer(&fields[2])
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| (receipt.clone(), "attempt out of range".to_string()))?;
        let max_attempts = field(6, "max_attempts")?
            .parse::<u32>()
            .map_err(|_| (receipt.clone(), "max_attempts out of range".to_string()))?;
        let enqueued_at_ms = field(7, "enqueued_at")?
            .parse::<i64>()
            .map_err(|_| (receipt.clone(), "enqueued_at out of range".to_string()))?;
        Ok(Delivery {
            job: NewJob {
                id: field(3, "id")?,
                kind: field(4, "kind")?,
                payload: field(5, "payload")?,
                max_attempts,
                enqueued_at_ms,
            },
            attempt,
            receipt,
        })
    }
}

/// A dead-letter stream entry (`[id, [field, value, ...]]`) as a [`DeadJob`].
fn dead_job(entry: Value) -> QueueResult<DeadJob> {
    let malformed = || QueueError::Redis("dead letters: unexpected entry".to_string());
    let Value::Array(mut parts) = entry else {
        return Err(malformed());
    };
    let Some(Value::Array(flat)) = parts.pop() else {
        return Err(malformed());
    };
    let mut job = NewJob {
        id: String::new(),
        kind: String::new(),
        payload: String::new(),
        max_attempts: 0,
        enqueued_at_ms: 0,
    };
    let mut dead = DeadJob {
        job: job.clone(),
        attempts: 0,
        reason: String::new(),
        died_at_ms: 0,
    };
    for pair in flat.chunks(2) {
        let [name, value] = pair else { break };
        let (Some(name), value) = (text(name), lossy(value)) else {
            continue;
        };
        match name.as_str() {
            "id" => job.id = value,
            "kind" => job.kind = value,
            "payload" => job.payload = value,
            "max_attempts" => job.max_attempts = value.parse().unwrap_or(0),
            "enqueued_at" => job.enqueued_at_ms = value.parse().unwrap_or(0),
            "attempts" => dead.attempts = value.parse().unwrap_or(0),
            "reason" => dead.reason = value,
            "died_at" => dead.died_at_ms = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    dead.job = job;
    Ok(dead)
}

/// Refuses a job the queue could never deliver, before anything of the batch is written.
fn check_new_job(job: &NewJob) -> QueueResult<()> {
    let problem = if job.id.is_empty() {
        "the id is empty"
    } else if job.kind.is_empty() {
        "the kind is empty"
    } else if job.max_attempts == 0 {
        "max_attempts is 0"
    } else {
        return Ok(());
    };
    Err(QueueError::Malformed(job.id.clone(), problem.to_string()))
}

/// Adds one batch of jobs, skipping the ids already queued.
async fn enqueue_batch(client: &Client, keys: &Keys, jobs: &[NewJob]) -> QueueResult<()> {
    let mut args = Vec::with_capacity(2 + jobs.len() * 5);
    args.push(Value::from(keys.known.as_str()));
    args.push(Value::from(KNOWN_TTL.as_millis() as i64));
    for job in jobs {
        args.push(Value::from(job.id.as_str()));
        args.push(Value::from(job.kind.as_str()));
        args.push(Value::from(job.payload.as_str()));
        args.push(Value::from(job.max_attempts as i64));
        args.push(Value::from(job.enqueued_at_ms));
    }
    eval(client, &ENQUEUE, vec![keys.stream.as_str()], args).await?;
    Ok(())
}

/// Creates the stream and the group when missing. The group starts at the beginning of the
/// stream, so jobs added before it existed (after a Redis restart without persistence) are
/// delivered too.
async fn ensure_group(client: &Client, keys: &Keys) -> QueueResult<()> {
    let created: Result<Value, _> = client
        .xgroup_create(keys.stream.as_str(), GROUP, "0", true)
        .await;
    match created {
        Err(error) if !error.details().contains("BUSYGROUP") => Err(redis_error(error)),
        _ => Ok(()),
    }
}

/// Moves jobs from the outbox onto the stream until the queue is dropped.
///
/// Enqueueing is idempotent by id, so a crash between the enqueue and the outbox ack only
/// relays the job again. A job that has already run and been acked in that window runs
/// again: delivery is at least once, and handlers are idempotent by id.
async fn relay(client: Client, keys: Keys, outbox: Arc<dyn Queue>, wake: Arc<Notify>) {
    loop {
        match relay_once(&client, &keys, outbox.as_ref()).await {
            // A full batch: there may be more behind it.
            Ok(moved) if moved == RELAY_BATCH => continue,
            Ok(_) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(RELAY_POLL) => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the outbox relay failed; it tries again");
                tokio::time::sleep(RELAY_POLL).await;
            }
        }
    }
}

/// One relay pass: returns how many outbox deliveries it handled.
async fn relay_once(client: &Client, keys: &Keys, outbox: &dyn Queue) -> QueueResult<usize> {
    let deliveries = outbox.claim("relay", RELAY_BATCH, Duration::ZERO).await?;
    let mut relayed = Vec::with_capacity(deliveries.len());
    for delivery in &deliveries {
        match check_new_job(&delivery.job) {
            Ok(()) => relayed.push(delivery),
            // It could never be delivered: left in the outbox it would be relayed forever.
            Err(error) => {
                outbox.bury(delivery, &error.to_string()).await?;
            }
        }
    }
    let jobs: Vec<NewJob> = relayed
        .iter()
        .map(|delivery| delivery.job.clone())
        .collect();
    for batch in jobs.chunks(ENQUEUE_BATCH) {
        enqueue_batch(client, keys, batch).await?;
    }
    // Only once they are on the stream: a crash before this relays them again.
    let acks = relayed.iter().map(|delivery| outbox.ack(delivery));
    futures::future::try_join_all(acks).await?;
    Ok(deliveries.len())
}

async fn eval(
    client: &Client,
    script: &Script,
    keys: Vec<&str>,
    args: Vec<Value>,
) -> QueueResult<Value> {
    script
        .evalsha_with_reload(client, keys, args)
        .await
        .map_err(redis_error)
}

/// The reply of a script that settles one delivery: 1 when it did, 0 when the delivery was
/// no longer this worker's. A missing group means Redis lost the stream, and the delivery
/// with it: nothing is left to settle.
fn settled(reply: QueueResult<Value>) -> QueueResult<bool> {
    match reply {
        Ok(Value::Integer(n)) => Ok(n == 1),
        Ok(other) => Err(QueueError::Redis(format!("unexpected reply {other:?}"))),
        Err(QueueError::Redis(message)) if message.contains("NOGROUP") => Ok(false),
        Err(error) => Err(error),
    }
}

fn parse_receipt(receipt: &str) -> Option<(&str, i64)> {
    let (entry, count) = receipt.rsplit_once('/')?;
    Some((entry, count.parse().ok()?))
}

fn is_nogroup(error: &QueueError) -> bool {
    matches!(error, QueueError::Redis(message) if message.contains("NOGROUP"))
}

fn redis_error(error: fred::error::Error) -> QueueError {
    QueueError::Redis(error.to_string())
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_string()),
        Value::Bytes(b) => String::from_utf8(b.to_vec()).ok(),
        Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Text for display: bytes that are not UTF-8 are shown with replacement characters.
fn lossy(value: &Value) -> String {
    match value {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => text(other).unwrap_or_default(),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        other => text(other)?.parse().ok(),
    }
}

/// Lua shared by the scripts. Each script is this plus its body, and is sent to Redis once
/// (`EVALSHA`, loaded again after a restart of Redis empties its script cache).
macro_rules! lua_prelude {
    () => {
        r#"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function field_map(flat)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end

local function digits(s)
  return type(s) == 'string' and #s <= 15 and string.match(s, '^%d+$') ~= nil
end

-- Why the fields are not a job Ava wrote, or nil when they are one.
local function malformed(m)
  if type(m.id) ~= 'string' or m.id == '' then return 'no id' end
  if type(m.kind) ~= 'string' or m.kind == '' then return 'no kind' end
  if type(m.payload) ~= 'string' then return 'no payload' end
  if not digits(m.max_attempts) or tonumber(m.max_attempts) < 1 then
    return 'max_attempts is not a positive integer'
  end
  local enqueued = m.enqueued_at
  if type(enqueued) == 'string' and string.sub(enqueued, 1, 1) == '-' then
    enqueued = string.sub(enqueued, 2)
  end
  if not digits(enqueued) then return 'enqueued_at is not an integer' end
  if not digits(m.attempt) then return 'attempt is not an integer' end
  return nil
end

-- Whether the delivery `count` of `entry` is still pending (a reclaim increments the count).
local function owned(stream, group, entry, count)
  local p = redis.call('XPENDING', stream, group, entry, entry, 1)
  return p[1] ~= nil and tonumber(p[1][4]) == tonumber(count)
end

local function entry_fields(stream, entry)
  local r = redis.call('XRANGE', stream, entry, entry)
  if r[1] == nil then return nil end
  return r[1][2]
end

-- Moves a pending entry to the dead letters, with the ack that ends its delivery.
local function to_dead(stream, dead, index, group, known, entry, flat, attempts, reason, is_malformed)
  local m = field_map(flat or {})
  local fields
  local id
  if is_malformed then
    id = (type(m.id) == 'string' and m.id ~= '') and m.id or ('entry:' .. entry)
    fields = {'id', id, 'kind', m.kind or '', 'payload', cjson.encode(flat or {}),
      'max_attempts', '0', 'enqueued_at', '0', 'attempts', attempts,
      'reason', reason, 'died_at', now_ms(), 'malformed', '1'}
  else
    id = m.id
    fields = {'id', id, 'kind', m.kind, 'payload', m.payload,
      'max_attempts', m.max_attempts, 'enqueued_at', m.enqueued_at, 'attempts', attempts,
      'reason', reason, 'died_at', now_ms()}
  end
  -- One dead letter per id: a second death replaces the first.
  local old = redis.call('HGET', index, id)
  if old then redis.call('XDEL', dead, old) end
  local dead_id = redis.call('XADD', dead, '*', unpack(fields))
  redis.call('HSET', index, id, dead_id)
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  -- A malformed entry's id is not one Ava queued: its marker (if any) belongs to a real job.
  if not is_malformed then redis.call('DEL', known .. id) end
end
"#
    };
}

/// Adds jobs whose id is not queued yet.
/// KEYS: stream. ARGV: known prefix, marker ttl ms, then id, kind, payload, max_attempts,
/// enqueued_at for each job. Returns how many were added.
static ENQUEUE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua(concat!(
        lua_prelude!(),
        r#"
local added = 0
for i = 3, #ARGV, 5 do
  local id = ARGV[i]
  if redis.call('SET', ARGV[1] .. id, '1', 'NX', 'PX', ARGV[2]) then
    redis.call('XADD', KEYS[1], '*', 'id', id, 'kind', ARGV[i + 1], 'payload', ARGV[i + 2],
      'max_attempts', ARGV[i + 3], 'enqueued_at', ARGV[i + 4], 'attempt', '0')
    added = added + 1
  end
end
return added
"#
    ))
});

/// Promotes due retries, reclaims expired leases, reads new entries.
/// KEYS: stream, delayed, dead, dead ids, reclaim cursor.
/// ARGV: group, consumer, max, visibility ms, known prefix.
/// Returns {hints, deliveries}: hints are {ms until the next retry is due or -1, ms until
/// the oldest lease may run out or -1, the stream's last id}, filled only when nothing is
/// delivered; each delivery is {entry, count, attempt, id, kind, payload, max_attempts,
/// enqueued_at}.
static CLAIM: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua(concat!(
        lua_prelude!(),
        r#"
local stream, delayed, dead, index, cursor_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, consumer, max, visibility, known =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local now = now_ms()

-- Group first, so a missing group fails the script before it changes anything.
local pending = redis.call('XPENDING', stream, group, '-', '+', 16)

local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
for i = 1, #due do
  redis.call('XADD', stream, '*', unpack(cmsgpack.unpack(due[i])))
  redis.call('ZREM', delayed, due[i])
end

local out = {}
local function take(entry, flat, count)
  local m = field_map(flat)
  local bad = malformed(m)
  if bad then
    to_dead(stream, dead, index, group, known, entry, flat, count, 'malformed: ' .. bad, true)
    return
  end
  local attempt = tonumber(m.attempt) + count
  local max_attempts = tonumber(m.max_attempts)
  if attempt > max_attempts then
    to_dead(stream, dead, index, group, known, entry, flat, max_attempts,
      'abandoned: no worker settled it in ' .. max_attempts .. ' deliveries', false)
    return
  end
  out[#out + 1] = {entry, count, attempt, m.id, m.kind, m.payload, m.max_attempts, m.enqueued_at}
end

if #pending > 0 then
  local cursor = redis.call('GET', cursor_key) or '0-0'
  local claimed = redis.call('XAUTOCLAIM', stream, group, consumer, visibility, cursor, 'COUNT', max)
  redis.call('SET', cursor_key, claimed[1])
  for _, e in ipairs(claimed[2]) do
    if e[2] then
      local p = redis.call('XPENDING', stream, group, e[1], e[1], 1)
      take(e[1], e[2], tonumber(p[1][4]))
    end
  end
end

local want = max - #out
if want > 0 then
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', want, 'STREAMS', stream, '>')
  if read then
    for _, e in ipairs(read[1][2]) do take(e[1], e[2], 1) end
  end
end

if #out > 0 then return {{}, out} end

local due_in = -1
local next_due = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
if next_due[2] then due_in = math.max(0, tonumber(next_due[2]) - now) end
local lease_in = -1
for _, p in ipairs(redis.call('XPENDING', stream, group, '-', '+', 16)) do
  local left = math.max(0, visibility - tonumber(p[3]))
  if lease_in < 0 or left < lease_in then lease_in = left end
end
local last_id = '0-0'
local info = redis.call('XINFO', 'STREAM', stream)
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last_id = info[i + 1] end
end
return {{due_in, lease_in, last_id}, out}
"#
    ))
});

/// Acknowledges deliveries that are still the caller's: removes them and their markers.
/// KEYS: stream. ARGV: group, known prefix, then entry, count, job id for each.
/// Returns 1 or 0 for each.
static ACK: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua(concat!(
        lua_prelude!(),
        r#"
local result = {}
for i = 3, #ARGV, 3 do
  local entry = ARGV[i]
  if owned(KEYS[1], ARGV[1], entry, ARGV[i + 1]) then
    redis.call('XACK', KEYS[1], ARGV[1], entry)
    redis.call('XDEL', KEYS[1], entry)
    redis.call('DEL', ARGV[2] .. ARGV[i + 2])
    result[#result + 1] = 1
  else
    result[#result + 1] = 0
  end
end
return result
"#
    ))
});

/// Ends a delivery and queues its job again after a delay.
/// KEYS: stream, delayed. ARGV: group, entry, count, delay ms. Returns 1, or 0 when the
/// delivery is no longer the caller's.
static RETRY: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua(concat!(
        lua_prelude!(),
        r#"
local stream, delayed, group, entry, count = KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3])
if not owned(stream, group, entry, count) then return 0 end
local flat = entry_fields(stream, entry)
redis.call('XACK', stream, group, entry)
redis.call('XDEL', stream, entry)
if flat == nil then return 1 end
-- The new entry starts from the attempts made so far, so its first delivery is the next one.
for i = 1, #flat, 2 do
  if flat[i] == 'attempt' then flat[i + 1] = tostring(tonumber(flat[i + 1]) + count) end
end
local delay = tonumber(ARGV[4])
if delay <= 0 then
  redis.call('XADD', stream, '*', unpack(flat))
else
  redis.call('ZADD', delayed, now_ms() + delay, cmsgpack.pack(flat))
end
return 1
"#
    ))
});

/// Ends a delivery by moving its job to the dead letters.
/// KEYS: stream, dead, dead ids. ARGV: group, entry, count, reason, known prefix, 1 when the
/// entry is malformed. Returns 1, or 0 when the delivery is no longer the caller's.
static BURY: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua(concat!(
        lua_prelude!(),
        r#"
local stream, dead, index = KEYS[1], KEYS[2], KEYS[3]
local group, entry, count, reason, known = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
if not owned(stream, group, entry, count) then return 0 end
local flat = entry_fields(stream, entry)
local is_malformed = ARGV[6] == '1'
local attempts = count
if flat == nil then
  is_malformed = true
elseif not is_malformed then
  local m = field_map(flat)
  if malformed(m) then is_malformed = true else attempts = tonumber(m.attempt) + count end
end
to_dead(stream, dead, index, group, known, entry, flat, attempts, reason, is_malformed)
return 1
"#
    ))
});

/// Queues a dead job again with its attempts reset.
/// KEYS: stream, dead, dead ids. ARGV: job id, known prefix, marker ttl ms.
/// Returns 1, 0 when there is no such dead job, -1 when it is a malformed entry.
static REVIVE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua(concat!(
        lua_prelude!(),
        r#"
local stream, dead, index, id = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local dead_id = redis.call('HGET', index, id)
if not dead_id then return 0 end
local flat = entry_fields(dead, dead_id)
if flat == nil then
  redis.call('HDEL', index, id)
  return 0
end
local m = field_map(flat)
if m.malformed == '1' then return -1 end
redis.call('XDEL', dead, dead_id)
redis.call('HDEL', index, id)
-- Enqueued again meanwhile: that copy is the one that runs.
if redis.call('SET', ARGV[2] .. id, '1', 'NX', 'PX', ARGV[3]) then
  redis.call('XADD', stream, '*', 'id', id, 'kind', m.kind, 'payload', m.payload,
    'max_attempts', m.max_attempts, 'enqueued_at', m.enqueued_at, 'attempt', '0')
end
return 1
"#
    ))
});

/// Jobs waiting, in flight or delayed. KEYS: stream, delayed.
static DEPTH: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::from_lua("return redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_the_entry_and_its_delivery_count() {
        assert_eq!(
            parse_receipt("1700000000000-3/2"),
            Some(("1700000000000-3", 2))
        );
        assert_eq!(parse_receipt("1700000000000-3"), None);
        assert_eq!(parse_receipt("1700000000000-3/x"), None);
    }

    #[test]
    fn keys_share_the_prefix() {
        let keys = Keys::new("t:1");
        for key in [
            &keys.stream,
            &keys.delayed,
            &keys.dead,
            &keys.dead_ids,
            &keys.known,
            &keys.reclaim,
        ] {
            assert!(key.starts_with("t:1:"), "{key}");
        }
    }

    #[test]
    fn jobs_that_could_never_be_delivered_are_refused() {
        let mut job = NewJob::new("photo.generate", "{}".to_string());
        assert!(check_new_job(&job).is_ok());
        job.max_attempts = 0;
        assert!(matches!(
            check_new_job(&job),
            Err(QueueError::Malformed(..))
        ));
        job.max_attempts = 1;
        job.kind.clear();
        assert!(check_new_job(&job).is_err());
    }

    #[test]
    fn a_claimed_entry_becomes_a_delivery_with_its_receipt() {
        let raw = RawDelivery(vec![
            Value::from("5-0"),
            Value::Integer(2),
            Value::Integer(3),
            Value::from("job-1"),
            Value::from("photo.generate"),
            Value::from("{\"a\":1}"),
            Value::from("5"),
            Value::from("-12"),
        ]);
        let delivery = raw.into_delivery().unwrap();
        assert_eq!(delivery.receipt, "5-0/2");
        assert_eq!(delivery.attempt, 3);
        assert_eq!(delivery.job.max_attempts, 5);
        assert_eq!(delivery.job.enqueued_at_ms, -12);
        assert_eq!(delivery.job.payload, "{\"a\":1}");
    }

    #[test]
    fn an_entry_rust_cannot_read_is_refused_with_its_receipt() {
        let raw = RawDelivery(vec![
            Value::from("5-0"),
            Value::Integer(1),
            Value::Integer(1),
            Value::from("job-1"),
            Value::from("k"),
            Value::Bytes(vec![0xff, 0xfe].into()),
            Value::from("5"),
            Value::from("1"),
        ]);
        let (receipt, why) = raw.into_delivery().unwrap_err();
        assert_eq!(receipt, "5-0/1");
        assert!(why.contains("payload"), "{why}");
    }
}
