//! The embedded queue: the `jobs` table in Ava's own database, with leases.
//!
//! A claim leases jobs for the visibility timeout by writing a receipt into their row and
//! moving their `run_at` to when the lease runs out; a worker that dies simply never
//! settles them, and they become claimable again then. Every settlement names the receipt,
//! so only the current holder can settle a job. Workers in this process are woken at once
//! by [`Queue::committed`] and [`Queue::enqueue`]; others (an `ava worker` on the same
//! PostgreSQL) poll.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{DeadJob, Delivery, NewJob, Queue, QueueResult};
use crate::db::{self, Db, now_ms};

/// How often an idle worker looks for jobs another process added.
const POLL: Duration = Duration::from_millis(250);

/// The embedded queue.
pub struct SqlQueue {
    db: Db,
    visibility: Duration,
    wake: Notify,
}

impl SqlQueue {
    /// The queue in `db`, leasing jobs for `visibility`.
    pub fn new(db: Db, visibility: Duration) -> Arc<Self> {
        Arc::new(Self {
            db,
            visibility,
            wake: Notify::new(),
        })
    }

    async fn try_claim(&self, consumer: &str, max: usize) -> QueueResult<Vec<Delivery>> {
        let now = now_ms();
        // The receipt is new for every claim: a later claim of the same job after the lease
        // ran out holds another one.
        let lease = format!("{consumer}/{}", db::new_id());
        let lease_until = now + self.visibility.as_millis() as i64;
        let _lock = self.db.statement_lock().await;
        Ok(db::jobs::claim(
            self.db.pool(),
            self.db.backend(),
            &lease,
            max,
            now,
            lease_until,
        )
        .await?)
    }

    /// How long an idle claim may sleep before looking again: until the next job is due,
    /// at most [`POLL`] (another process may add one) and at most `left`.
    async fn idle_for(&self, left: Duration) -> QueueResult<Duration> {
        let nap = match db::jobs::next_due(self.db.pool()).await? {
            Some(due) => Duration::from_millis((due - now_ms()).max(1) as u64),
            None => POLL,
        };
        Ok(nap.min(POLL).min(left))
    }
}

#[async_trait]
impl Queue for SqlQueue {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn enqueue(&self, jobs: &[NewJob]) -> QueueResult<()> {
        for chunk in jobs.chunks(db::jobs::ROWS_PER_STATEMENT) {
            let _lock = self.db.statement_lock().await;
            db::jobs::insert_many(self.db.pool(), self.db.backend(), chunk, now_ms()).await?;
        }
        self.committed();
        Ok(())
    }

    fn committed(&self) {
        self.wake.notify_waiters();
        // A claimer between its query and its wait would miss `notify_waiters`; a stored
        // permit wakes the next one that waits.
        self.wake.notify_one();
    }

    async fn claim(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> QueueResult<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.wake.notified();
            let claimed = self.try_claim(consumer, max.max(1)).await?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !claimed.is_empty() || left.is_zero() {
                return Ok(claimed);
            }
            let nap = self.idle_for(left).await?;
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn ack(&self, delivery: &Delivery) -> QueueResult<bool> {
        let _lock = self.db.statement_lock().await;
        let deleted = db::jobs::delete_leased(
            self.db.pool(),
            self.db.backend(),
            &delivery.receipt,
            &[delivery.job.id.as_str()],
        )
        .await?;
        Ok(deleted == 1)
    }

    async fn retry(&self, delivery: &Delivery, delay: Duration, reason: &str) -> QueueResult<bool> {
        let run_at = now_ms() + delay.as_millis() as i64;
        let _lock = self.db.statement_lock().await;
        Ok(db::jobs::release(
            self.db.pool(),
            &delivery.job.id,
            &delivery.receipt,
            run_at,
            reason,
        )
        .await?)
    }

    async fn bury(&self, delivery: &Delivery, reason: &str) -> QueueResult<bool> {
        let _lock = self.db.statement_lock().await;
        Ok(db::jobs::bury(
            self.db.pool(),
            &delivery.job.id,
            &delivery.receipt,
            now_ms(),
            reason,
        )
        .await?)
    }

    async fn dead(&self, limit: usize) -> QueueResult<Vec<DeadJob>> {
        Ok(db::jobs::dead(self.db.pool(), limit as i64).await?)
    }

    async fn revive(&self, id: &str) -> QueueResult<bool> {
        let revived = {
            let _lock = self.db.statement_lock().await;
            db::jobs::revive(self.db.pool(), id, now_ms()).await?
        };
        if revived {
            self.committed();
        }
        Ok(revived)
    }

    async fn depth(&self) -> QueueResult<u64> {
        Ok(db::jobs::live_count(self.db.pool()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn queue(visibility: Duration) -> (tempfile::TempDir, Arc<SqlQueue>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect_embedded(dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        (dir, SqlQueue::new(db, visibility))
    }

    fn job(id: &str, max_attempts: u32) -> NewJob {
        NewJob {
            id: id.into(),
            kind: "noop".into(),
            payload: "{}".into(),
            max_attempts,
            enqueued_at_ms: now_ms(),
        }
    }

    #[tokio::test]
    async fn a_job_is_delivered_once_until_acknowledged() {
        let (_dir, q) = queue(Duration::from_secs(30)).await;
        q.enqueue(&[job("a", 3), job("a", 3), job("b", 3)])
            .await
            .unwrap();
        let got = q.claim("w1", 10, Duration::ZERO).await.unwrap();
        assert_eq!(
            got.iter().map(|d| d.job.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(got.iter().all(|d| d.attempt == 1));
        assert!(q.claim("w2", 10, Duration::ZERO).await.unwrap().is_empty());
        assert!(q.ack(&got[0]).await.unwrap());
        assert!(!q.ack(&got[0]).await.unwrap(), "acknowledged twice");
        assert_eq!(q.depth().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn an_expired_lease_is_reclaimed_and_the_old_holder_cannot_settle() {
        let (_dir, q) = queue(Duration::from_millis(100)).await;
        q.enqueue(&[job("a", 3)]).await.unwrap();
        let first = q.claim("w1", 1, Duration::ZERO).await.unwrap().remove(0);
        let second = q
            .claim("w2", 1, Duration::from_secs(2))
            .await
            .unwrap()
            .remove(0);
        assert_eq!(second.job.id, "a");
        assert_eq!(second.attempt, 2);
        assert!(!q.ack(&first).await.unwrap());
        assert!(!q.bury(&first, "late").await.unwrap());
        assert!(q.ack(&second).await.unwrap());
        assert_eq!(q.depth().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_retry_waits_its_delay_then_dead_letters_can_be_revived() {
        let (_dir, q) = queue(Duration::from_secs(30)).await;
        q.enqueue(&[job("a", 2)]).await.unwrap();
        let first = q.claim("w", 1, Duration::ZERO).await.unwrap().remove(0);
        assert!(
            q.retry(&first, Duration::from_millis(300), "busy")
                .await
                .unwrap()
        );
        assert!(q.claim("w", 1, Duration::ZERO).await.unwrap().is_empty());
        let started = std::time::Instant::now();
        let second = q
            .claim("w", 1, Duration::from_secs(3))
            .await
            .unwrap()
            .remove(0);
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(second.attempt, 2);
        assert!(second.is_last_attempt());
        assert!(q.bury(&second, "still busy").await.unwrap());
        assert!(q.claim("w", 1, Duration::ZERO).await.unwrap().is_empty());

        let dead = q.dead(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].job.id, "a");
        assert_eq!(dead[0].attempts, 2);
        assert_eq!(dead[0].reason, "still busy");

        assert!(q.revive("a").await.unwrap());
        assert!(!q.revive("a").await.unwrap(), "not dead any more");
        assert!(q.dead(10).await.unwrap().is_empty());
        let again = q.claim("w", 1, Duration::ZERO).await.unwrap().remove(0);
        assert_eq!(again.attempt, 1);
    }

    #[tokio::test]
    async fn a_waiting_claim_gets_a_job_enqueued_meanwhile() {
        let (_dir, q) = queue(Duration::from_secs(30)).await;
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.claim("w", 1, Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        q.enqueue(&[job("a", 1)]).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("the claim returned")
            .unwrap()
            .unwrap();
        assert_eq!(got[0].job.id, "a");
    }
}
