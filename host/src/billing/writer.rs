//! Applying verified events: one task records every waiting event and stores the states
//! they lead to in one transaction.
//!
//! Each statement costs a round trip to the database, and on SQLite every write waits for
//! the one writer. A burst of webhooks therefore goes in one transaction of five statements:
//! which events are already recorded, the users' subscriptions, the machine's decisions in
//! arrival order (in memory, so a later event of the batch sees an earlier one's state), the
//! new event ids, the changed subscriptions. If the batch fails, each event is retried on
//! its own, so only the event that caused the failure fails.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use tokio::sync::{mpsc, oneshot};

use super::machine::{self, Candidate, Decision, Outcome};
use super::webhook::Receipt;
use super::{BillingError, BillingResult};
use crate::db::billing_events::{self, BillingEvent as EventRow};
use crate::db::subscriptions::{self, Subscription};
use crate::db::{Backend, Db, DbError, now_ms};

/// Events applied in one transaction at most.
const MAX_BATCH: usize = 128;

/// An event to apply.
#[derive(Debug, Clone)]
pub struct Pending {
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub created_at: i64,
    /// The user it is about; none when no user could be matched.
    pub user: Option<String>,
    /// The state it proposes; none when neither it nor the provider said.
    pub candidate: Option<Candidate>,
}

type Reply = oneshot::Sender<BillingResult<Receipt>>;

/// The handle to the task.
pub struct EventWriter {
    queue: mpsc::UnboundedSender<(Pending, Reply)>,
}

impl EventWriter {
    /// Starts the task; it ends when the handle is dropped.
    pub fn start(db: Db) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(db, waiting));
        Self { queue }
    }

    /// Applies `event` (with whatever else is waiting) and says what it did.
    pub async fn apply(&self, event: Pending) -> BillingResult<Receipt> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((event, reply))
            .map_err(|_| DbError::WriterStopped)?;
        answer.await.map_err(|_| DbError::WriterStopped)?
    }
}

async fn run(db: Db, mut waiting: mpsc::UnboundedReceiver<(Pending, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let events: Vec<&Pending> = batch.iter().map(|(p, _)| p).collect();
        match apply_batch(&db, &events).await {
            Ok(receipts) => {
                for ((_, reply), receipt) in batch.drain(..).zip(receipts) {
                    let _ = reply.send(Ok(receipt));
                }
            }
            Err(err) if batch.len() == 1 => {
                let (_, reply) = batch.pop().expect("one event");
                let _ = reply.send(Err(err));
            }
            Err(err) => {
                tracing::warn!(events = batch.len(), error = %err, "a batch of billing events failed; applying them one by one");
                for (event, reply) in batch.drain(..) {
                    let result = apply_batch(&db, &[&event]).await.map(|mut r| r.remove(0));
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// Applies `events` in one transaction; one receipt per event, in order.
async fn apply_batch(db: &Db, events: &[&Pending]) -> BillingResult<Vec<Receipt>> {
    let backend = db.backend();
    let now = now_ms();
    let users: Vec<&str> = events
        .iter()
        .filter_map(|e| e.user.as_deref())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut tx = db.write().await?;
    if backend == Backend::Postgres && !users.is_empty() {
        lock_users(&mut tx, &users).await?;
    }
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let mut seen: HashSet<(String, String)> = billing_events::recorded(&mut **tx, backend, &ids)
        .await?
        .into_iter()
        .collect();
    let mut held: BTreeMap<String, Subscription> =
        subscriptions::get_many(&mut **tx, backend, &users)
            .await?
            .into_iter()
            .map(|s| (s.user_id.clone(), s))
            .collect();
    let mut changed = BTreeSet::new();
    let mut rows = Vec::with_capacity(events.len());
    let mut receipts = Vec::with_capacity(events.len());
    for event in events {
        if !seen.insert((event.provider.clone(), event.event_id.clone())) {
            receipts.push(Receipt::Duplicate);
            continue;
        }
        let decision = match (event.user.as_deref(), &event.candidate) {
            (None, _) => Decision::Keep(Outcome::Unmatched),
            (Some(_), None) => Decision::Keep(Outcome::Uninformative),
            (Some(user), Some(candidate)) => machine::decide(user, held.get(user), candidate, now),
        };
        let outcome = match decision {
            Decision::Apply(subscription) => {
                changed.insert(subscription.user_id.clone());
                held.insert(subscription.user_id.clone(), subscription);
                Outcome::Applied
            }
            Decision::Keep(outcome) => outcome,
        };
        rows.push(EventRow {
            provider: &event.provider,
            event_id: &event.event_id,
            event_type: &event.event_type,
            user_id: event.user.as_deref(),
            created_at: event.created_at,
            received_at: now,
            outcome: outcome.as_str(),
        });
        receipts.push(Receipt::Recorded(outcome));
    }
    let recorded = billing_events::record_many(&mut **tx, backend, &rows).await?;
    if recorded != rows.len() as u64 {
        // Another replica recorded one of these since the check: one by one, it is a
        // duplicate like any other.
        return Err(BillingError::Raced);
    }
    let states: Vec<&Subscription> = changed.iter().map(|user| &held[user]).collect();
    subscriptions::upsert_many(&mut **tx, backend, &states).await?;
    tx.commit().await?;
    Ok(receipts)
}

/// Takes the users' locks for the transaction, in one order everywhere so that two replicas
/// never wait on each other.
async fn lock_users(tx: &mut crate::db::WriteTx, users: &[&str]) -> BillingResult<()> {
    let sql = format!(
        "SELECT pg_advisory_xact_lock(hashtext(u)) FROM
            (SELECT u FROM (VALUES {}) AS v(u) ORDER BY u) AS sorted",
        crate::db::tuples(Backend::Postgres, users.len(), 1, 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for user in users {
        query = query.bind(*user);
    }
    query.execute(&mut ***tx).await.map_err(DbError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::users::{self, User};

    async fn db_with_user(dir: &std::path::Path) -> Db {
        let db = Db::connect_embedded(dir).await.unwrap();
        db.migrate().await.unwrap();
        let user = User {
            id: "user-1".into(),
            email: "one@example.com".into(),
            display_name: None,
            created_at: 0,
        };
        users::insert(db.pool(), &user, "hash").await.unwrap();
        db
    }

    fn pending(event_id: &str, user: &str, status: &str, as_of: i64) -> Pending {
        Pending {
            provider: "stripe".into(),
            event_id: event_id.into(),
            event_type: "customer.subscription.updated".into(),
            created_at: as_of,
            user: Some(user.into()),
            candidate: Some(Candidate {
                provider: "stripe".into(),
                subscription_id: Some("sub_1".into()),
                customer_id: Some("cus_1".into()),
                status: status.into(),
                current_period_end: None,
                cancel_at_period_end: Some(false),
                price_id: None,
                as_of,
            }),
        }
    }

    #[tokio::test]
    async fn a_batch_decides_in_arrival_order_and_finds_duplicates_within_itself() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_with_user(dir.path()).await;
        let (a, b, c, d) = (
            pending("evt_1", "user-1", "active", 100),
            pending("evt_1", "user-1", "active", 100),
            pending("evt_2", "user-1", "past_due", 200),
            pending("evt_3", "user-1", "active", 150),
        );
        let receipts = apply_batch(&db, &[&a, &b, &c, &d]).await.unwrap();
        assert_eq!(
            receipts,
            [
                Receipt::Recorded(Outcome::Applied),
                Receipt::Duplicate,
                Receipt::Recorded(Outcome::Applied),
                Receipt::Recorded(Outcome::Stale),
            ]
        );
        let held = subscriptions::get(db.pool(), "user-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((held.status.as_str(), held.state_as_of), ("past_due", 200));
        // Delivered again later: recorded already.
        let again = apply_batch(&db, &[&c]).await.unwrap();
        assert_eq!(again, [Receipt::Duplicate]);
    }

    #[tokio::test]
    async fn a_failing_event_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_with_user(dir.path()).await;
        let writer = EventWriter::start(db.clone());
        // A user who does not exist breaks the foreign key, and with it the batch.
        let (good, bad) = tokio::join!(
            writer.apply(pending("evt_good", "user-1", "active", 100)),
            writer.apply(pending("evt_bad", "no-such-user", "active", 100)),
        );
        assert_eq!(good.unwrap(), Receipt::Recorded(Outcome::Applied));
        assert!(matches!(bad, Err(BillingError::Db(_))), "{bad:?}");
        let recorded: Vec<(String, String)> =
            billing_events::recorded(db.pool(), db.backend(), &["evt_good", "evt_bad"])
                .await
                .unwrap();
        assert_eq!(recorded, [("stripe".to_string(), "evt_good".to_string())]);
    }
}
