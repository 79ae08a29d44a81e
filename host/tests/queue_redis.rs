//! The Redis job queue and the Redis photo bus, against a real Redis: the shared one on
//! 127.0.0.1:6379 with a prefix per test, or a private `redis-server` for the tests that
//! restart it or cut its connections.

#[path = "common/redis.rs"]
mod redis;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ava_host::jobs::redis::{RedisQueue, RedisQueueOptions};
use ava_host::jobs::{DeadJob, Delivery, NewJob, Queue, QueueError, QueueResult};
use ava_host::photos::events::{PhotoBus, PhotoEvent, PhotoFeed};
use ava_host::photos::redis_bus::RedisBus;
use fred::prelude::*;

const NO_WAIT: Duration = Duration::ZERO;

fn options(prefix: &str, visibility: Duration) -> RedisQueueOptions {
    RedisQueueOptions {
        prefix: prefix.to_string(),
        visibility,
        outbox: None,
        command_timeout: Duration::from_secs(10),
    }
}

async fn queue(test: &str, visibility: Duration) -> (Arc<RedisQueue>, String) {
    let prefix = redis::unique_prefix(test);
    let queue = RedisQueue::connect(&redis::url(), options(&prefix, visibility))
        .await
        .expect("Redis must be reachable on 127.0.0.1:6379");
    (queue, prefix)
}

fn job(id: &str) -> NewJob {
    NewJob {
        id: id.to_string(),
        kind: "photo.generate".to_string(),
        payload: format!(r#"{{"photo":"{id}"}}"#),
        max_attempts: 3,
        enqueued_at_ms: 1_700_000_000_000,
    }
}

/// Claims until `n` deliveries came or `within` passed.
async fn claim_n(queue: &RedisQueue, consumer: &str, n: usize, within: Duration) -> Vec<Delivery> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        got.extend(queue.claim(consumer, n - got.len(), left).await.unwrap());
    }
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enqueued_job_is_claimed_and_gone_once_acked() {
    let (queue, prefix) = queue("ack", Duration::from_secs(60)).await;
    queue.enqueue(&[job("a")]).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 1);

    let deliveries = queue.claim("w1", 10, NO_WAIT).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].job, job("a"));
    assert_eq!(deliveries[0].attempt, 1);
    assert_eq!(queue.depth().await.unwrap(), 1, "in flight still counts");

    assert!(queue.ack(&deliveries[0]).await.unwrap());
    assert_eq!(queue.depth().await.unwrap(), 0);
    assert!(
        !queue.ack(&deliveries[0]).await.unwrap(),
        "a second ack settles nothing"
    );
    assert!(
        queue
            .claim("w1", 10, Duration::from_millis(50))
            .await
            .unwrap()
            .is_empty()
    );
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_come_out_in_the_order_they_went_in() {
    let (queue, prefix) = queue("order", Duration::from_secs(60)).await;
    let jobs: Vec<NewJob> = (0..600).map(|i| job(&format!("j{i:04}"))).collect();
    queue.enqueue(&jobs).await.unwrap();
    let got = claim_n(&queue, "w1", 600, Duration::from_secs(5)).await;
    let ids: Vec<&str> = got.iter().map(|d| d.job.id.as_str()).collect();
    let expected: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, expected);
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_already_queued_is_delivered_once() {
    let (queue, prefix) = queue("dedupe", Duration::from_secs(60)).await;
    queue.enqueue(&[job("a"), job("a")]).await.unwrap();
    queue.enqueue(&[job("a")]).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 1);

    let first = queue.claim("w1", 10, NO_WAIT).await.unwrap();
    assert_eq!(first.len(), 1);
    // In flight is still queued.
    queue.enqueue(&[job("a")]).await.unwrap();
    assert!(
        queue
            .claim("w2", 10, Duration::from_millis(100))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(queue.ack(&first[0]).await.unwrap());
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_could_never_run_is_refused_at_enqueue() {
    let (queue, prefix) = queue("refuse", Duration::from_secs(60)).await;
    let mut bad = job("b");
    bad.max_attempts = 0;
    let refused = queue.enqueue(&[job("a"), bad]).await;
    assert!(matches!(refused, Err(QueueError::Malformed(id, _)) if id == "b"));
    assert_eq!(
        queue.depth().await.unwrap(),
        0,
        "nothing of the batch was added"
    );
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiting_claim_wakes_when_a_job_is_enqueued() {
    let (queue, prefix) = queue("wake", Duration::from_secs(60)).await;
    let claimer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let got = queue.claim("w1", 1, Duration::from_secs(5)).await.unwrap();
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    queue.enqueue(&[job("a")]).await.unwrap();
    let (got, waited) = claimer.await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(waited < Duration::from_secs(2), "woke after {waited:?}");
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unacked_job_goes_to_another_worker_after_the_visibility_timeout() {
    let visibility = Duration::from_millis(300);
    let (queue, prefix) = queue("reclaim", visibility).await;
    queue.enqueue(&[job("a")]).await.unwrap();
    let first = queue.claim("w1", 1, NO_WAIT).await.unwrap();
    assert_eq!(first.len(), 1);
    let leased_at = Instant::now();

    assert!(
        queue.claim("w2", 1, NO_WAIT).await.unwrap().is_empty(),
        "still leased"
    );
    let second = queue.claim("w2", 1, Duration::from_secs(3)).await.unwrap();
    assert_eq!(second.len(), 1, "reclaimed");
    assert!(leased_at.elapsed() >= visibility);
    assert_eq!(second[0].job, job("a"));
    assert_eq!(second[0].attempt, 2);

    // The first worker's lease ran out: it settles nothing.
    assert!(!queue.ack(&first[0]).await.unwrap());
    assert!(!queue.retry(&first[0], NO_WAIT, "late").await.unwrap());
    assert!(!queue.bury(&first[0], "late").await.unwrap());
    assert!(queue.ack(&second[0]).await.unwrap());
    assert_eq!(queue.depth().await.unwrap(), 0);
    assert!(queue.dead(10).await.unwrap().is_empty());
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reclaim_by_a_worker_of_the_same_name_still_voids_the_old_delivery() {
    let (queue, prefix) = queue("same-name", Duration::from_millis(200)).await;
    queue.enqueue(&[job("a")]).await.unwrap();
    let first = queue.claim("host-1", 1, NO_WAIT).await.unwrap();
    let second = claim_n(&queue, "host-1", 1, Duration::from_secs(3)).await;
    assert_eq!(second[0].attempt, 2);
    assert_ne!(first[0].receipt, second[0].receipt);
    assert!(!queue.ack(&first[0]).await.unwrap());
    assert!(queue.ack(&second[0]).await.unwrap());
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_comes_back_after_its_delay_as_the_next_attempt_until_buried_and_revived() {
    let (queue, prefix) = queue("retry", Duration::from_secs(60)).await;
    queue.enqueue(&[job("a")]).await.unwrap();
    let first = queue.claim("w1", 1, NO_WAIT).await.unwrap();
    assert_eq!(first[0].attempt, 1);

    let delay = Duration::from_millis(700);
    assert!(
        queue
            .retry(&first[0], delay, "image API down")
            .await
            .unwrap()
    );
    let retried_at = Instant::now();
    assert_eq!(
        queue.depth().await.unwrap(),
        1,
        "a delayed job still counts"
    );
    assert!(
        queue
            .claim("w1", 1, Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    let second = queue.claim("w1", 1, Duration::from_secs(3)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert!(
        retried_at.elapsed() >= delay,
        "came after {:?}",
        retried_at.elapsed()
    );
    assert!(
        retried_at.elapsed() < delay + Duration::from_secs(1),
        "and soon after its time"
    );
    assert_eq!(second[0].attempt, 2);
    assert_eq!(second[0].job, job("a"));

    assert!(
        queue
            .retry(&second[0], NO_WAIT, "still down")
            .await
            .unwrap()
    );
    let third = queue.claim("w1", 1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(third[0].attempt, 3);
    assert!(third[0].is_last_attempt());
    assert!(
        queue
            .bury(&third[0], "still down after 3 attempts")
            .await
            .unwrap()
    );
    assert!(!queue.ack(&third[0]).await.unwrap(), "buried is settled");

    assert_eq!(queue.depth().await.unwrap(), 0, "the dead do not count");
    let dead = queue.dead(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let DeadJob {
        job: dead_job,
        attempts,
        reason,
        died_at_ms,
    } = &dead[0];
    assert_eq!(dead_job, &job("a"));
    assert_eq!(*attempts, 3);
    assert_eq!(reason, "still down after 3 attempts");
    assert!(*died_at_ms > 1_700_000_000_000);

    assert!(queue.revive("a").await.unwrap());
    assert!(!queue.revive("a").await.unwrap(), "revived once");
    assert!(queue.dead(10).await.unwrap().is_empty());
    let revived = queue.claim("w1", 1, NO_WAIT).await.unwrap();
    assert_eq!(revived[0].attempt, 1);
    assert_eq!(revived[0].job, job("a"));
    assert!(queue.ack(&revived[0]).await.unwrap());
    assert!(!queue.revive("nobody").await.unwrap());
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_listed_oldest_first_up_to_the_limit() {
    let (queue, prefix) = queue("dead-order", Duration::from_secs(60)).await;
    queue
        .enqueue(&[job("a"), job("b"), job("c")])
        .await
        .unwrap();
    for delivery in queue.claim("w1", 3, NO_WAIT).await.unwrap() {
        assert!(queue.bury(&delivery, "no").await.unwrap());
    }
    let dead: Vec<String> = queue
        .dead(2)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.job.id)
        .collect();
    assert_eq!(dead, ["a", "b"]);
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_never_settles_it_is_buried_after_its_attempts() {
    let (queue, prefix) = queue("abandoned", Duration::from_millis(150)).await;
    let mut crashing = job("a");
    crashing.max_attempts = 2;
    queue.enqueue(&[crashing]).await.unwrap();
    // Two workers take it and die without a word.
    assert_eq!(
        claim_n(&queue, "w1", 1, Duration::from_secs(2)).await[0].attempt,
        1
    );
    assert_eq!(
        claim_n(&queue, "w2", 1, Duration::from_secs(2)).await[0].attempt,
        2
    );
    // The third delivery would be beyond its attempts: it is buried, not delivered.
    assert!(
        queue
            .claim("w3", 1, Duration::from_millis(600))
            .await
            .unwrap()
            .is_empty()
    );
    let dead = queue.dead(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2);
    assert!(
        dead[0].reason.starts_with("abandoned"),
        "{}",
        dead[0].reason
    );
    assert_eq!(queue.depth().await.unwrap(), 0);
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_that_is_not_a_job_ends_in_the_dead_letters() {
    let (queue, prefix) = queue("malformed", Duration::from_secs(60)).await;
    let client = redis::client(&redis::url()).await;
    let stream = format!("{prefix}:stream");
    let _: String = client
        .xadd(stream.as_str(), false, None, "*", vec![("foo", "bar")])
        .await
        .unwrap();
    let _: String = client
        .xadd(
            stream.as_str(),
            false,
            None,
            "*",
            vec![
                ("id", "x"),
                ("kind", "photo.generate"),
                ("payload", "{}"),
                ("max_attempts", "many"),
                ("enqueued_at", "1"),
                ("attempt", "0"),
            ],
        )
        .await
        .unwrap();
    // Well formed for Lua, but its payload is not UTF-8 text.
    let _: String = client
        .xadd(
            stream.as_str(),
            false,
            None,
            "*",
            vec![
                ("id", Value::from("y")),
                ("kind", Value::from("photo.generate")),
                ("payload", Value::Bytes(vec![0xff, 0xfe].into())),
                ("max_attempts", Value::from("3")),
                ("enqueued_at", Value::from("1")),
                ("attempt", Value::from("0")),
            ],
        )
        .await
        .unwrap();
    queue.enqueue(&[job("good")]).await.unwrap();

    let got = queue.claim("w1", 10, NO_WAIT).await.unwrap();
    assert_eq!(got.len(), 1, "only the job is delivered");
    assert_eq!(got[0].job.id, "good");
    assert!(queue.ack(&got[0]).await.unwrap());

    let dead = queue.dead(10).await.unwrap();
    assert_eq!(dead.len(), 3);
    for letter in &dead {
        assert!(letter.reason.starts_with("malformed"), "{}", letter.reason);
    }
    assert!(
        dead[0].job.payload.contains("foo"),
        "the entry is kept as it was"
    );
    assert_eq!(dead[1].job.id, "x");
    assert!(
        dead[1].reason.contains("max_attempts"),
        "{}",
        dead[1].reason
    );
    assert_eq!(dead[2].job.id, "y");
    assert!(dead[2].reason.contains("payload"), "{}", dead[2].reason);
    assert!(matches!(
        queue.revive("x").await,
        Err(QueueError::Malformed(..))
    ));
    assert_eq!(queue.depth().await.unwrap(), 0, "and it never loops");
    assert!(
        queue
            .claim("w1", 10, Duration::from_millis(50))
            .await
            .unwrap()
            .is_empty()
    );
    client.quit().await.unwrap();
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_group_comes_back_when_redis_lost_the_stream() {
    let (queue, prefix) = queue("nogroup", Duration::from_secs(60)).await;
    queue.enqueue(&[job("a")]).await.unwrap();
    let lost = queue.claim("w1", 1, NO_WAIT).await.unwrap();
    // What a restart of Redis without persistence does to the queue.
    let client = redis::client(&redis::url()).await;
    let _: i64 = client.del(format!("{prefix}:stream")).await.unwrap();
    assert!(
        !queue.ack(&lost[0]).await.unwrap(),
        "the delivery went with the stream"
    );
    queue.enqueue(&[job("b")]).await.unwrap();
    let got = queue.claim("w1", 1, NO_WAIT).await.unwrap();
    assert_eq!(got[0].job.id, "b");
    client.quit().await.unwrap();
    redis::delete_prefix(&redis::url(), &prefix).await;
}

/// An outbox as simple as can be: what the SQL `jobs` table is to the relay.
#[derive(Default)]
struct MemoryOutbox {
    waiting: Mutex<VecDeque<NewJob>>,
    leased: Mutex<HashMap<String, NewJob>>,
    next: Mutex<u64>,
}

#[async_trait]
impl Queue for MemoryOutbox {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn enqueue(&self, jobs: &[NewJob]) -> QueueResult<()> {
        self.waiting.lock().unwrap().extend(jobs.iter().cloned());
        Ok(())
    }

    fn committed(&self) {}

    async fn claim(
        &self,
        _consumer: &str,
        max: usize,
        _wait: Duration,
    ) -> QueueResult<Vec<Delivery>> {
        let mut waiting = self.waiting.lock().unwrap();
        let mut leased = self.leased.lock().unwrap();
        let mut next = self.next.lock().unwrap();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(job) = waiting.pop_front() else {
                break;
            };
            *next += 1;
            let receipt = next.to_string();
            leased.insert(receipt.clone(), job.clone());
            out.push(Delivery {
                job,
                attempt: 1,
                receipt,
            });
        }
        Ok(out)
    }

    async fn ack(&self, delivery: &Delivery) -> QueueResult<bool> {
        Ok(self
            .leased
            .lock()
            .unwrap()
            .remove(&delivery.receipt)
            .is_some())
    }

    async fn retry(
        &self,
        delivery: &Delivery,
        _delay: Duration,
        _reason: &str,
    ) -> QueueResult<bool> {
        let job = self.leased.lock().unwrap().remove(&delivery.receipt);
        let found = job.is_some();
        self.waiting.lock().unwrap().extend(job);
        Ok(found)
    }

    async fn bury(&self, delivery: &Delivery, _reason: &str) -> QueueResult<bool> {
        Ok(self
            .leased
            .lock()
            .unwrap()
            .remove(&delivery.receipt)
            .is_some())
    }

    async fn dead(&self, _limit: usize) -> QueueResult<Vec<DeadJob>> {
        Ok(Vec::new())
    }

    async fn revive(&self, _id: &str) -> QueueResult<bool> {
        Ok(false)
    }

    async fn depth(&self) -> QueueResult<u64> {
        Ok((self.waiting.lock().unwrap().len() + self.leased.lock().unwrap().len()) as u64)
    }
}

async fn wait_until_empty(outbox: &dyn Queue) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while outbox.depth().await.unwrap() > 0 {
        assert!(
            Instant::now() < deadline,
            "the relay did not take the outbox jobs"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn committed_outbox_jobs_are_relayed_to_the_stream_at_once_and_once() {
    let prefix = redis::unique_prefix("relay");
    let outbox = Arc::new(MemoryOutbox::default());
    let queue = RedisQueue::connect(
        &redis::url(),
        RedisQueueOptions {
            outbox: Some(outbox.clone()),
            ..options(&prefix, Duration::from_secs(60))
        },
    )
    .await
    .unwrap();
    // Let the relay's first pass find the outbox empty and go to sleep.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // What a chat turn does: its jobs go into the outbox with its messages, then it says so.
    outbox.enqueue(&[job("a"), job("b")]).await.unwrap();
    let committed_at = Instant::now();
    queue.committed();
    let got = claim_n(&queue, "w1", 2, Duration::from_secs(3)).await;
    let ids: Vec<&str> = got.iter().map(|d| d.job.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(
        committed_at.elapsed() < Duration::from_millis(700),
        "committed() wakes the relay rather than its poll: {:?}",
        committed_at.elapsed()
    );
    assert_eq!(got[0].job, job("a"));
    // The relay acks the outbox rows once they are on the stream.
    wait_until_empty(outbox.as_ref()).await;

    // A relay that crashed after the XADD moves the same job again: it is queued once.
    outbox.enqueue(&[job("a")]).await.unwrap();
    queue.committed();
    wait_until_empty(outbox.as_ref()).await;
    assert_eq!(queue.depth().await.unwrap(), 2);
    assert!(queue.claim("w1", 10, NO_WAIT).await.unwrap().is_empty());

    // Without committed(), the relay's poll finds jobs within about a second.
    outbox.enqueue(&[job("c")]).await.unwrap();
    let got = claim_n(&queue, "w1", 1, Duration::from_secs(3)).await;
    assert_eq!(got[0].job.id, "c");
    redis::delete_prefix(&redis::url(), &prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connecting_to_a_redis_that_is_not_there_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    assert!(
        RedisQueue::connect(&url, RedisQueueOptions::default())
            .await
            .is_err()
    );
    assert!(
        RedisBus::connect(&url, "ava:photos", PhotoFeed::default())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_restart_loses_no_job_waiting_in_flight_or_delayed() {
    let mut server = redis::RedisServer::start();
    let visibility = Duration::from_millis(300);
    let queue = RedisQueue::connect(&server.url(), options("ava:jobs", visibility))
        .await
        .unwrap();
    queue
        .enqueue(&[job("in-flight"), job("delayed")])
        .await
        .unwrap();
    let claimed = queue.claim("w1", 2, NO_WAIT).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let delayed = claimed.iter().find(|d| d.job.id == "delayed").unwrap();
    assert!(
        queue
            .retry(delayed, Duration::from_millis(800), "later")
            .await
            .unwrap()
    );
    queue.enqueue(&[job("waiting")]).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 3);

    server.restart();

    // The client reconnects on its own; the worker that had "in-flight" is gone. Each job is
    // acked as it comes, so none is held past its lease while the delayed one is awaited.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while seen.len() < 3 && Instant::now() < deadline {
        for delivery in queue.claim("w2", 3, Duration::from_secs(1)).await.unwrap() {
            assert!(queue.ack(&delivery).await.unwrap());
            seen.push((delivery.job.id, delivery.attempt));
        }
    }
    seen.sort();
    let expected =
        [("delayed", 2), ("in-flight", 2), ("waiting", 1)].map(|(id, n)| (id.to_string(), n));
    assert_eq!(seen, expected);
    assert_eq!(queue.depth().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_fail_while_redis_is_down_and_work_again_when_it_is_back() {
    let mut server = redis::RedisServer::start();
    let queue = RedisQueue::connect(
        &server.url(),
        RedisQueueOptions {
            command_timeout: Duration::from_millis(500),
            ..options("ava:jobs", Duration::from_secs(60))
        },
    )
    .await
    .unwrap();
    queue.enqueue(&[job("a")]).await.unwrap();
    server.stop();

    let started = Instant::now();
    let failed = queue.claim("w1", 1, NO_WAIT).await;
    assert!(matches!(failed, Err(QueueError::Redis(_))), "{failed:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    server.start_again();
    let got = claim_n(&queue, "w1", 1, Duration::from_secs(5)).await;
    assert_eq!(got[0].job, job("a"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_stops_with_its_queue() {
    let prefix = redis::unique_prefix("relay-stops");
    let outbox = Arc::new(MemoryOutbox::default());
    let queue = RedisQueue::connect(
        &redis::url(),
        RedisQueueOptions {
            outbox: Some(outbox.clone()),
            ..options(&prefix, Duration::from_secs(60))
        },
    )
    .await
    .unwrap();
    drop(queue);
    outbox.enqueue(&[job("a")]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        outbox.waiting.lock().unwrap().len(),
        1,
        "nobody took it from the outbox"
    );
    redis::delete_prefix(&redis::url(), &prefix).await;
}

fn event(photo: &str) -> PhotoEvent {
    PhotoEvent {
        user_id: "u1".to_string(),
        photo_id: photo.to_string(),
        status: "ready".to_string(),
        message_id: Some("m1".to_string()),
        failure_reason: None,
        updated_at: 1_700_000_000_000,
    }
}

async fn next_event(events: &mut tokio::sync::broadcast::Receiver<PhotoEvent>) -> PhotoEvent {
    tokio::time::timeout(Duration::from_secs(3), events.recv())
        .await
        .expect("the event arrives")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_event_published_in_one_process_reaches_every_process() {
    let channel = redis::unique_prefix("photos");
    let (feed_a, feed_b) = (PhotoFeed::default(), PhotoFeed::default());
    let (mut events_a, mut events_b) = (feed_a.subscribe(), feed_b.subscribe());
    let bus_a = RedisBus::connect(&redis::url(), &channel, feed_a)
        .await
        .unwrap();
    let _bus_b = RedisBus::connect(&redis::url(), &channel, feed_b)
        .await
        .unwrap();

    bus_a.publish(event("p1")).await.unwrap();
    assert_eq!(next_event(&mut events_a).await, event("p1"));
    assert_eq!(next_event(&mut events_b).await, event("p1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_photo_bus_resubscribes_after_losing_its_connection() {
    let server = redis::RedisServer::start();
    let feed = PhotoFeed::default();
    let mut events = feed.subscribe();
    let bus = RedisBus::connect(&server.url(), "ava:photos", feed)
        .await
        .unwrap();

    let admin = redis::client(&server.url()).await;
    let killed: i64 = admin
        .custom(fred::cmd!("CLIENT"), vec!["KILL", "TYPE", "pubsub"])
        .await
        .unwrap();
    assert_eq!(killed, 1);

    // Published until the subscriber is back: events sent while it was away are lost.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        bus.publish(event("p2")).await.unwrap();
        match tokio::time::timeout(Duration::from_millis(100), events.recv()).await {
            Ok(received) => {
                assert_eq!(received.unwrap(), event("p2"));
                break;
            }
            Err(_) => assert!(Instant::now() < deadline, "never resubscribed"),
        }
    }
    admin.quit().await.unwrap();
}
