//! The worker: claims jobs, runs each through the job-handler plugin of its kind, and
//! settles it by what the plugin answered.
//!
//! - `done` → acknowledged. `retry` → delivered again after the plugin's delay plus
//!   exponential backoff with jitter. `failed` → dead letters at once.
//! - A trap, a timeout or a missing handler counts as a retry: the job may well succeed on
//!   another attempt (a reloaded plugin, a provider back up).
//! - After the last attempt a job goes to the dead letters; a photo job's photo is marked
//!   failed then, so its owner is not left waiting.
//! - Shutdown: stop claiming, give jobs in flight until the deadline, then leave them: their
//!   leases run out and another worker reclaims them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::backoff::Backoff;
use super::{Delivery, Queue};
use crate::photos::Photos;
use crate::plugins::Registry;
use crate::plugins::types::{Job, JobOutcome};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// This worker's name in the queue (consumer group member, lease owner).
    pub consumer: String,
    /// Jobs handled at once.
    pub concurrency: usize,
    /// How long jobs in flight may finish after shutdown was asked.
    pub shutdown_grace: Duration,
    pub backoff: Backoff,
}

/// What the worker needs from the rest of the host.
#[derive(Clone)]
pub struct Worker {
    pub queue: Arc<dyn Queue>,
    pub registry: Arc<Registry>,
    pub photos: Arc<Photos>,
    pub options: WorkerOptions,
}

/// How a delivery was settled, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Done,
    Retried,
    Buried,
    /// Its lease had run out: another worker holds it now.
    Lost,
}

impl Settled {
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retried => "retried",
            Self::Buried => "dead",
            Self::Lost => "lost",
        }
    }
}

/// The photo a job may touch, from its payload (`photo.generate` jobs carry one).
#[derive(Deserialize)]
struct PhotoPayload {
    photo_id: Option<String>,
}

fn photo_of(delivery: &Delivery) -> Option<String> {
    serde_json::from_str::<PhotoPayload>(&delivery.job.payload)
        .ok()
        .and_then(|p| p.photo_id)
        .filter(|id| !id.is_empty())
}

impl Worker {
    /// Claims and handles jobs until `shutdown` resolves, then drains as described above.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let slots = Arc::new(Semaphore::new(self.options.concurrency.max(1)));
        let mut running = JoinSet::new();
        tokio::pin!(shutdown);
        tracing::info!(
            consumer = %self.options.consumer,
            concurrency = self.options.concurrency,
            queue = self.queue.backend(),
            "worker started"
        );
        loop {
            // Reap finished tasks so the set does not grow.
            while running.try_join_next().is_some() {}
            let permit = tokio::select! {
                permit = slots.clone().acquire_many_owned(1) => permit.expect("never closed"),
                () = &mut shutdown => break,
            };
            let free = slots.available_permits() + 1;
            let claimed = tokio::select! {
                claimed = self.queue.claim(&self.options.consumer, free, Duration::from_secs(1)) => claimed,
                () = &mut shutdown => break,
            };
            let deliveries = match claimed {
                Ok(deliveries) => deliveries,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim jobs; trying again shortly");
                    drop(permit);
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            };
            let mut permit = Some(permit);
            for delivery in deliveries {
                let permit = match permit.take() {
                    Some(permit) => permit,
                    // Claimed no more than the free slots, so these are there.
                    None => slots.clone().acquire_owned().await.expect("never closed"),
                };
                let worker = self.clone();
                running.spawn(async move {
                    worker.handle(delivery).await;
                    drop(permit);
                });
            }
        }
        self.drain(running).await;
    }

    async fn drain(&self, mut running: JoinSet<()>) {
        let in_flight = running.len();
        if in_flight == 0 {
            tracing::info!("worker stopped");
            return;
        }
        tracing::info!(in_flight, "worker stopping: finishing the jobs in flight");
        let finished = tokio::time::timeout(self.options.shutdown_grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                left = running.len(),
                "jobs still running at the deadline are left to be reclaimed"
            );
            running.abort_all();
        }
        tracing::info!("worker stopped");
    }

    /// Runs one delivery to its end and settles it.
    pub async fn handle(&self, delivery: Delivery) {
        let started = Instant::now();
        let kind = delivery.job.kind.clone();
        let settled = match self.run_plugin(&delivery).await {
            Ok(JobOutcome::Done) => self.ack(&delivery).await,
            Ok(JobOutcome::Retry(retry)) => {
                self.retry(
                    &delivery,
                    Duration::from_millis(retry.delay_ms),
                    &retry.reason,
                )
                .await
            }
            Ok(JobOutcome::Failed(reason)) => self.bury(&delivery, &reason).await,
            Err(reason) => self.retry(&delivery, Duration::ZERO, &reason).await,
        };
        let outcome = settled.as_str();
        metrics::counter!("ava_jobs_total", "kind" => kind.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("ava_job_seconds", "kind" => kind.clone())
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(
            job = %delivery.job.id,
            kind,
            attempt = delivery.attempt,
            outcome,
            ms = started.elapsed().as_millis() as u64,
            "job settled"
        );
    }

    /// The plugin's answer, or why there was none (which counts as a retry).
    async fn run_plugin(&self, delivery: &Delivery) -> Result<JobOutcome, String> {
        let set = self.registry.current();
        let handler = set.job_handler(&delivery.job.kind).map_err(|err| {
            format!(
                "no plugin handles jobs of kind {:?}: {err}",
                delivery.job.kind
            )
        })?;
        let job = Job {
            id: delivery.job.id.clone(),
            kind: delivery.job.kind.clone(),
            payload: delivery.job.payload.clone(),
            attempt: delivery.attempt,
            max_attempts: delivery.job.max_attempts,
            enqueued_at_ms: delivery.job.enqueued_at_ms.max(0) as u64,
        };
        handler
            .handle(&job, photo_of(delivery), set.clone())
            .await
            .map_err(|err| err.to_string())
    }

    async fn ack(&self, delivery: &Delivery) -> Settled {
        match self.queue.ack(delivery).await {
            Ok(true) => Settled::Done,
            Ok(false) => Settled::Lost,
            Err(err) => {
                // Not acknowledged: the job comes back after its lease and is done again,
                // which its handler's idempotency makes harmless.
                tracing::warn!(job = %delivery.job.id, error = %err, "cannot acknowledge a job");
                Settled::Lost
            }
        }
    }

    async fn retry(&self, delivery: &Delivery, asked: Duration, reason: &str) -> Settled {
        if delivery.is_last_attempt() {
            let reason = format!("gave up after {} attempts: {reason}", delivery.attempt);
            return self.bury(delivery, &reason).await;
        }
        let delay = self.options.backoff.delay(delivery.attempt, asked);
        tracing::info!(
            job = %delivery.job.id,
            attempt = delivery.attempt,
            delay_ms = delay.as_millis() as u64,
            reason,
            "job will be retried"
        );
        match self.queue.retry(delivery, delay, reason).await {
            Ok(true) => Settled::Retried,
            Ok(false) => Settled::Lost,
            Err(err) => {
                tracing::warn!(job = %delivery.job.id, error = %err, "cannot schedule a retry; the lease will bring it back");
                Settled::Lost
            }
        }
    }

    async fn bury(&self, delivery: &Delivery, reason: &str) -> Settled {
        // ERROR: a job given up is reported (Sentry, without its reason, which may quote an
        // upstream's answer).
        tracing::error!(
            tags.job_id = %delivery.job.id,
            tags.job_kind = %delivery.job.kind,
            attempt = delivery.attempt,
            reason,
            "job given up"
        );
        let buried = match self.queue.bury(delivery, reason).await {
            Ok(true) => Settled::Buried,
            Ok(false) => return Settled::Lost,
            Err(err) => {
                tracing::warn!(job = %delivery.job.id, error = %err, "cannot move a job to the dead letters");
                return Settled::Lost;
            }
        };
        if let Some(photo_id) = photo_of(delivery) {
            let shown = "The photo could not be generated";
            if let Err(err) = self.photos.give_up(&photo_id, shown).await {
                tracing::warn!(photo = %photo_id, error = %err, "cannot mark a photo failed");
            }
        }
        buried
    }
}
