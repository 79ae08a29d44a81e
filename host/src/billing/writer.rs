//! Applying verified events: one task records every waiting event and stores the states
//! they lead to in one transaction.
//!
//! Each statement costs a round trip to the database, and on SQLite every write waits for
//! the one writer. A burst of webhooks therefore goes in one transaction of a few
//! statements, whatever its size: whom the events are about (the users they name, the
//! subscriptions and customers they mention), which events are already recorded, the users'
//! subscriptions, the machine's decisions in arrival order (in memory, so a later event of
//! the batch sees an earlier one's state), the new event ids, the changed subscriptions.
//! The webhook handlers read nothing themselves. If the batch fails, each event is retried
//! on its own, so only the event that caused the failure fails.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use tokio::sync::{mpsc, oneshot};

use super::machine::{self, Candidate, Decision, Outcome};
use super::webhook::Receipt;
use super::{BillingError, BillingResult};
use crate::db::billing_events::{self, BillingEvent as EventRow};
use crate::db::subscriptions::{self, Subscription};
use crate::db::{Backend, Db, DbError, now_ms, users};

/// Events applied in one transaction at most.
const MAX_BATCH: usize = 128;

/// Something that may tell whom an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKey {
    /// A user id the event carries: it decides, whether that user exists or not.
    User(String),
    /// The provider's subscription id: the user holding it, if any.
    Subscription(String),
    /// The provider's customer id: the user who is that customer, if any.
    Customer(String),
}

/// An event to apply.
#[derive(Debug, Clone)]
pub struct Pending {
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub created_at: i64,
    /// Whom it may be about, in the order to try; the first that finds a user decides, and
    /// a [`UserKey::User`] decides even when it finds none. No user: `unmatched`.
    pub lookup: Vec<UserKey>,
    /// The state it proposes; none when neither it nor the provider said.
    pub candidate: Option<Candidate>,
    /// The candidate is the event's own snapshot, taken without asking the provider: it
    /// holds only if the event is newer than the state held. Otherwise the writer answers
    /// [`Applied::Refetch`] and records nothing.
    pub needs_newer: bool,
}

/// What the writer did with an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Recorded (or found recorded), about `user`.
    Done {
        receipt: Receipt,
        user: Option<String>,
    },
    /// The event is not newer than the state held: ask the provider for the current state
    /// and apply it again with that.
    Refetch,
}

type Reply = oneshot::Sender<BillingResult<Applied>>;

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
    pub async fn apply(&self, event: Pending) -> BillingResult<Applied> {
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
            Ok(answers) => {
                for ((_, reply), answer) in batch.drain(..).zip(answers) {
                    let _ = reply.send(Ok(answer));
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

/// Whom each event is about: the first of its lookup keys that finds a user. Two queries
/// for the whole batch.
async fn resolve_users(
    tx: &mut crate::db::WriteTx,
    backend: Backend,
    events: &[&Pending],
) -> BillingResult<Vec<Option<String>>> {
    let mut named = BTreeSet::new();
    // Per provider (a batch almost always has one): its subscription and customer ids.
    let mut mentioned: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for event in events {
        for key in &event.lookup {
            let (subscriptions, customers) = mentioned.entry(&event.provider).or_default();
            match key {
                UserKey::User(id) => named.insert(id.as_str()),
                UserKey::Subscription(id) => subscriptions.insert(id.as_str()),
                UserKey::Customer(id) => customers.insert(id.as_str()),
            };
        }
    }
    let named: Vec<&str> = named.into_iter().collect();
    let existing: HashSet<String> = users::existing(&mut ***tx, backend, &named)
        .await?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for (provider, (subscription_ids, customer_ids)) in mentioned {
        let subscription_ids: Vec<&str> = subscription_ids.into_iter().collect();
        let customer_ids: Vec<&str> = customer_ids.into_iter().collect();
        rows.extend(
            subscriptions::by_provider_ids(
                &mut ***tx,
                backend,
                provider,
                &subscription_ids,
                &customer_ids,
            )
            .await?,
        );
    }
    let holder = |provider: &str, matches: &dyn Fn(&Subscription) -> bool| {
        rows.iter()
            .find(|r| r.provider == provider && matches(r))
            .map(|r| r.user_id.clone())
    };
    Ok(events
        .iter()
        .map(|event| {
            for key in &event.lookup {
                let found = match key {
                    UserKey::User(id) => return existing.contains(id).then(|| id.clone()),
                    UserKey::Subscription(id) => holder(&event.provider, &|r| {
                        r.subscription_id.as_deref() == Some(id.as_str())
                    }),
                    UserKey::Customer(id) => holder(&event.provider, &|r| {
                        r.customer_id.as_deref() == Some(id.as_str())
                    }),
                };
                if found.is_some() {
                    return found;
                }
            }
            None
        })
        .collect())
}

/// Applies `events` in one transaction; one answer per event, in order.
async fn apply_batch(db: &Db, events: &[&Pending]) -> BillingResult<Vec<Applied>> {
    let backend = db.backend();
    let now = now_ms();
    let mut tx = db.write().await?;
    let resolved = resolve_users(&mut tx, backend, events).await?;
    let users: Vec<&str> = resolved
        .iter()
        .flatten()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if backend == Backend::Postgres && !users.is_empty() {
        lock_users(&mut tx, &users).await?;
    }
    let mut ids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for event in events {
        ids.entry(&event.provider)
            .or_default()
            .push(event.event_id.as_str());
    }
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (provider, ids) in ids {
        seen.extend(billing_events::recorded(&mut **tx, backend, provider, &ids).await?);
    }
    let mut held: BTreeMap<String, Subscription> =
        subscriptions::get_many(&mut **tx, backend, &users)
            .await?
            .into_iter()
            .map(|s| (s.user_id.clone(), s))
            .collect();
    let mut changed = BTreeSet::new();
    let mut rows = Vec::with_capacity(events.len());
    let mut answers = Vec::with_capacity(events.len());
    for (event, user) in events.iter().zip(&resolved) {
        let key = (event.provider.clone(), event.event_id.clone());
        if seen.contains(&key) {
            answers.push(Applied::Done {
                receipt: Receipt::Duplicate,
                user: user.clone(),
            });
            continue;
        }
        let held_now = user.as_deref().and_then(|u| held.get(u));
        if event.needs_newer && held_now.is_some_and(|h| event.created_at <= h.state_as_of) {
            answers.push(Applied::Refetch);
            continue;
        }
        seen.insert(key);
        let decision = match (user.as_deref(), &event.candidate) {
            (None, _) => Decision::Keep(Outcome::Unmatched),
            (Some(_), None) => Decision::Keep(Outcome::Uninformative),
            (Some(user), Some(candidate)) => machine::decide(user, held_now, candidate, now),
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
            user_id: user.as_deref(),
            created_at: event.created_at,
            received_at: now,
            outcome: outcome.as_str(),
        });
        answers.push(Applied::Done {
            receipt: Receipt::Recorded(outcome),
            user: user.clone(),
        });
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
    Ok(answers)
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
            lookup: vec![UserKey::User(user.into())],
            needs_newer: false,
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
                done(Receipt::Recorded(Outcome::Applied)),
                done(Receipt::Duplicate),
                done(Receipt::Recorded(Outcome::Applied)),
                done(Receipt::Recorded(Outcome::Stale)),
            ]
        );
        let held = subscriptions::get(db.pool(), "user-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((held.status.as_str(), held.state_as_of), ("past_due", 200));
        // Delivered again later: recorded already.
        let again = apply_batch(&db, &[&c]).await.unwrap();
        assert_eq!(again, [done(Receipt::Duplicate)]);
    }

    fn done(receipt: Receipt) -> Applied {
        Applied::Done {
            receipt,
            user: Some("user-1".into()),
        }
    }

    fn provider_keys(event_id: &str, subscription: &str, customer: &str, as_of: i64) -> Pending {
        Pending {
            lookup: vec![
                UserKey::Subscription(subscription.into()),
                UserKey::Customer(customer.into()),
            ],
            ..pending(event_id, "unused", "active", as_of)
        }
    }

    #[tokio::test]
    async fn users_are_found_by_name_then_by_the_providers_ids() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_with_user(dir.path()).await;
        // Unknown ids find nobody; a user named but gone decides even with known ids after.
        let nobody = provider_keys("evt_0", "sub_1", "cus_1", 50);
        let first = pending("evt_1", "user-1", "active", 100);
        let by_subscription = provider_keys("evt_2", "sub_1", "cus_x", 200);
        let by_customer = provider_keys("evt_3", "sub_x", "cus_1", 300);
        let mut gone = provider_keys("evt_4", "sub_1", "cus_1", 400);
        gone.lookup.insert(0, UserKey::User("no-such-user".into()));
        let mut other_provider = provider_keys("evt_5", "sub_1", "cus_1", 500);
        other_provider.provider = "paddle".into();
        let answers = apply_batch(&db, &[&nobody, &first]).await.unwrap();
        assert_eq!(
            answers[0],
            Applied::Done {
                receipt: Receipt::Recorded(Outcome::Unmatched),
                user: None
            }
        );
        let answers = apply_batch(
            &db,
            &[&by_subscription, &by_customer, &gone, &other_provider],
        )
        .await
        .unwrap();
        let users: Vec<Option<&str>> = answers
            .iter()
            .map(|a| match a {
                Applied::Done { user, .. } => user.as_deref(),
                Applied::Refetch => panic!("{a:?}"),
            })
            .collect();
        assert_eq!(users, [Some("user-1"), Some("user-1"), None, None]);
    }

    #[tokio::test]
    async fn a_snapshot_not_newer_than_the_state_held_asks_for_a_refetch() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_with_user(dir.path()).await;
        let first = pending("evt_1", "user-1", "active", 100);
        let mut late = pending("evt_2", "user-1", "canceled", 100);
        late.needs_newer = true;
        let mut newer = pending("evt_3", "user-1", "past_due", 300);
        newer.needs_newer = true;
        let answers = apply_batch(&db, &[&first, &late, &newer]).await.unwrap();
        assert_eq!(answers[1], Applied::Refetch);
        assert_eq!(answers[2], done(Receipt::Recorded(Outcome::Applied)));
        // Not recorded: the same event comes back with the provider's state.
        let recorded = billing_events::recorded(db.pool(), db.backend(), "stripe", &["evt_2"])
            .await
            .unwrap();
        assert!(recorded.is_empty());
    }

    #[tokio::test]
    async fn a_failing_event_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_with_user(dir.path()).await;
        // An event the database refuses, and with it the batch.
        sqlx::query(
            "CREATE TRIGGER refuse_bad BEFORE INSERT ON billing_events \
             WHEN NEW.event_id = 'evt_bad' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(db.pool())
        .await
        .unwrap();
        let writer = EventWriter::start(db.clone());
        let (good, bad) = tokio::join!(
            writer.apply(pending("evt_good", "user-1", "active", 100)),
            writer.apply(pending("evt_bad", "user-1", "active", 100)),
        );
        assert_eq!(good.unwrap(), done(Receipt::Recorded(Outcome::Applied)));
        assert!(matches!(bad, Err(BillingError::Db(_))), "{bad:?}");
        let recorded: Vec<(String, String)> =
            billing_events::recorded(db.pool(), db.backend(), "stripe", &["evt_good", "evt_bad"])
                .await
                .unwrap();
        assert_eq!(recorded, [("stripe".to_string(), "evt_good".to_string())]);
    }
}
