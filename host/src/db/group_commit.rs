//! Group commit for chat turns. Every turn stores two messages; under load, turns queue
//! for the database one by one, and on SQLite each commit is a write of the WAL. Here one
//! task takes every turn waiting at that moment and stores them all with one multi-row
//! INSERT, then answers each turn. A caller returns only once its messages are committed,
//! so durability is unchanged; each turn's messages are still stored together or not at
//! all, and a turn that fails (a duplicate `seq`) fails alone.
//!
//! A turn whose reply sends a photo also stores the `pending` photo and its job; a batch
//! holding any is written in one transaction, so a job never exists without its photo
//! and messages, nor they without it.
//!
//! The rolling memory is stored by the same task, in queue order: on SQLite a pool
//! connection's page cache is stale after the writer's commits, so a memory stored through
//! one reread the index pages the writer had just written (it cost as much as every turn's
//! insert together).

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};
use tokio::sync::{mpsc, oneshot};

use super::memories::{self, Memory};
use super::messages::{self, Message, ROWS_PER_STATEMENT};
use super::photos::{self, Photo};
use super::{Backend, Db, DbError, DbResult, jobs, now_ms};
use crate::jobs::NewJob;

/// How many turns may wait for the writer before callers wait to enqueue.
const QUEUE: usize = 4096;

/// What one turn stores: its messages, and the photo its reply sends with the job that
/// draws it.
#[derive(Debug, Clone, Default)]
pub struct TurnRows {
    pub messages: Vec<Message>,
    pub photos: Vec<Photo>,
    pub jobs: Vec<NewJob>,
}

impl TurnRows {
    pub fn messages(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }
}

/// A newer rolling memory for a conversation, and the last message it folds: stored only
/// if that message is still as it was (see [`memories::advance`]).
#[derive(Debug, Clone)]
pub struct MemoryUpdate {
    pub user_id: String,
    pub persona_id: String,
    pub memory: Memory,
    pub last_folded: Message,
}

/// A turn's rows and who is waiting for them.
struct Pending {
    rows: TurnRows,
    done: oneshot::Sender<DbResult<TurnRows>>,
}

/// What the writer is asked to store.
enum Work {
    Turn(Pending),
    Memory(Box<MemoryUpdate>, oneshot::Sender<DbResult<bool>>),
}

/// The handle turns are written through; cheap to clone.
#[derive(Clone)]
pub struct TurnWriter {
    queue: mpsc::Sender<Work>,
}

impl TurnWriter {
    /// Starts the writer task on the current runtime. It ends when every handle is gone.
    pub fn start(db: Db) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, rx));
        Self { queue }
    }

    /// Stores a turn's rows (at most [`ROWS_PER_STATEMENT`] messages) atomically and hands
    /// them back once they are committed. Once queued they are stored even if the caller
    /// stops waiting.
    pub async fn write(&self, rows: TurnRows) -> DbResult<TurnRows> {
        assert!(
            rows.messages.len() <= ROWS_PER_STATEMENT
                && rows.photos.len() <= ROWS_PER_STATEMENT
                && rows.jobs.len() <= ROWS_PER_STATEMENT,
            "a turn is a few messages"
        );
        let (done, result) = oneshot::channel();
        self.queue
            .send(Work::Turn(Pending { rows, done }))
            .await
            .map_err(|_| DbError::WriterStopped)?;
        result.await.map_err(|_| DbError::WriterStopped)?
    }

    /// Stores `update` after every turn queued before it; whether the memory changed (not
    /// when its last message was edited meanwhile, nor when a newer memory is stored).
    pub async fn advance_memory(&self, update: MemoryUpdate) -> DbResult<bool> {
        let (done, result) = oneshot::channel();
        self.queue
            .send(Work::Memory(Box::new(update), done))
            .await
            .map_err(|_| DbError::WriterStopped)?;
        result.await.map_err(|_| DbError::WriterStopped)?
    }
}

/// The writer: one task with its own connection, which keeps its page cache warm (on
/// SQLite every connection rereads pages another one wrote).
struct Writer {
    db: Db,
    conn: Option<PoolConnection<Any>>,
}

async fn run(db: Db, mut queue: mpsc::Receiver<Work>) {
    let closing = db.pool().close_event();
    tokio::pin!(closing);
    let mut closed = false;
    let mut writer = Writer { db, conn: None };
    let mut batch: Vec<Pending> = Vec::new();
    loop {
        let next = if closed {
            queue.recv().await
        } else {
            tokio::select! {
                next = queue.recv() => next,
                // Closing the pool waits for every connection to come back.
                () = &mut closing => {
                    closed = true;
                    writer.conn = None;
                    continue;
                }
            }
        };
        let Some(first) = next else { break };
        // Whatever else is already waiting joins, as long as it fits one statement each;
        // a memory is stored in its place in the queue, after the turns before it.
        let mut size = Size::default();
        let mut next = Some(first);
        while let Some(work) = next {
            match work {
                Work::Turn(pending) => {
                    let more = Size::of(&pending.rows);
                    if !size.fits(more) {
                        writer.commit(&mut batch).await;
                        size = Size::default();
                    }
                    size = size.plus(more);
                    batch.push(pending);
                }
                Work::Memory(update, done) => {
                    writer.commit(&mut batch).await;
                    size = Size::default();
                    let _ = done.send(writer.advance(&update).await);
                }
            }
            next = queue.try_recv().ok();
        }
        writer.commit(&mut batch).await;
    }
}

/// The rows of a batch, per table: each table's rows go in one statement.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    messages: usize,
    photos: usize,
    jobs: usize,
}

impl Size {
    fn of(rows: &TurnRows) -> Self {
        Self {
            messages: rows.messages.len(),
            photos: rows.photos.len(),
            jobs: rows.jobs.len(),
        }
    }

    fn plus(self, other: Self) -> Self {
        Self {
            messages: self.messages + other.messages,
            photos: self.photos + other.photos,
            jobs: self.jobs + other.jobs,
        }
    }

    fn fits(self, other: Self) -> bool {
        let sum = self.plus(other);
        sum.messages <= ROWS_PER_STATEMENT
            && sum.photos <= ROWS_PER_STATEMENT
            && sum.jobs <= jobs::ROWS_PER_STATEMENT
    }
}

/// References to a batch's rows, per table.
struct Batch<'a> {
    messages: Vec<&'a Message>,
    photos: Vec<&'a Photo>,
    jobs: Vec<NewJob>,
}

impl<'a> Batch<'a> {
    fn of(turns: impl IntoIterator<Item = &'a TurnRows>) -> Self {
        let mut batch = Batch {
            messages: Vec::new(),
            photos: Vec::new(),
            jobs: Vec::new(),
        };
        for turn in turns {
            batch.messages.extend(&turn.messages);
            batch.photos.extend(&turn.photos);
            batch.jobs.extend(turn.jobs.iter().cloned());
        }
        batch
    }
}

impl Writer {
    /// Stores the batch and answers every turn in it.
    async fn commit(&mut self, batch: &mut Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        let rows = Batch::of(batch.iter().map(|p| &p.rows));
        let result = self.insert(&rows).await;
        drop(rows);
        match result {
            Ok(()) => {
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Ok(pending.rows));
                }
            }
            Err(err) if batch.len() == 1 => {
                let _ = batch.pop().expect("one turn").done.send(Err(err));
            }
            Err(_) => {
                // One turn spoiled the statement; store each on its own so only it fails.
                for pending in batch.drain(..) {
                    let rows = Batch::of([&pending.rows]);
                    let result = self.insert(&rows).await;
                    drop(rows);
                    let _ = pending.done.send(result.map(|()| pending.rows));
                }
            }
        }
    }

    async fn insert(&mut self, rows: &Batch<'_>) -> DbResult<()> {
        let _lock = self.db.statement_lock().await;
        let backend = self.db.backend();
        let conn = self.connection().await?;
        let result = if rows.photos.is_empty() && rows.jobs.is_empty() {
            // The common turn: one statement, atomic on its own.
            messages::insert_many(&mut **conn, backend, &rows.messages).await
        } else {
            insert_together(conn, backend, rows).await
        };
        self.keep_if_sound(&result);
        result
    }

    async fn advance(&mut self, update: &MemoryUpdate) -> DbResult<bool> {
        let _lock = self.db.statement_lock().await;
        let conn = self.connection().await?;
        let result = memories::advance(
            &mut **conn,
            &update.user_id,
            &update.persona_id,
            &update.memory,
            &update.last_folded,
            now_ms(),
        )
        .await;
        self.keep_if_sound(&result);
        result
    }

    /// A connection that failed for another reason than the rows may be broken: the next
    /// write takes a new one.
    fn keep_if_sound<T>(&mut self, result: &DbResult<T>) {
        if let Err(err) = result
            && !err.is_unique_violation()
        {
            self.conn = None;
        }
    }

    /// The writer's own connection, taken from the pool the first time.
    async fn connection(&mut self) -> DbResult<&mut PoolConnection<Any>> {
        if self.conn.is_none() {
            let mut conn = self.db.pool().acquire().await?;
            if self.db.backend() == Backend::Sqlite {
                // Its inserts touch index pages all over the table: an 8 MiB cache
                // (instead of 2) keeps the hot ones from being read again. Not more: after
                // a commit that split a B-tree page, SQLite scans the cache's whole hash
                // table (`pcache1TruncateUnsafe`; the split parks a page at the lock-byte
                // page number), so a 64 MiB cache cost ~100 µs per commit once full.
                sqlx::query("PRAGMA cache_size = -8192")
                    .execute(&mut *conn)
                    .await?;
            }
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }
}

/// A batch's messages, photos and jobs in one transaction.
async fn insert_together(
    conn: &mut PoolConnection<Any>,
    backend: Backend,
    rows: &Batch<'_>,
) -> DbResult<()> {
    let mut tx = sqlx::Connection::begin(&mut **conn).await?;
    insert_rows(&mut tx, backend, rows).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores one turn's rows on `conn`, inside a transaction the caller holds (a rewritten
/// turn deletes what it replaces in the same one).
pub async fn insert_turn(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &TurnRows,
) -> DbResult<()> {
    insert_rows(conn, backend, &Batch::of([rows])).await
}

async fn insert_rows(conn: &mut AnyConnection, backend: Backend, rows: &Batch<'_>) -> DbResult<()> {
    messages::insert_many(&mut *conn, backend, &rows.messages).await?;
    photos::insert_many(&mut *conn, backend, &rows.photos).await?;
    jobs::insert_many(&mut *conn, backend, &rows.jobs, now_ms()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{database, message};

    #[tokio::test]
    async fn concurrent_turns_are_all_stored_and_a_duplicate_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), 200).await;
        let writer = TurnWriter::start(db.clone());
        let mut tasks = Vec::new();
        for u in 0..200 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let user = format!("u{u}");
                let persona = format!("p{u}");
                let pair = vec![
                    message(&user, &persona, 1, "message 1"),
                    message(&user, &persona, 2, "message 2"),
                ];
                writer.write(TurnRows::messages(pair)).await
            }));
        }
        // A turn whose second message repeats a stored `seq`: rejected, both messages.
        let bad = vec![
            message("u7", "p7", 3, "message 3"),
            message("u7", "p7", 1, "message 1"),
        ];
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let err = writer.write(TurnRows::messages(bad)).await.unwrap_err();
        assert!(err.is_unique_violation(), "{err}");
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(
            stored, 400,
            "every good turn stored, nothing of the bad one"
        );
    }

    #[tokio::test]
    async fn a_memory_is_stored_after_the_turns_queued_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), 1).await;
        let writer = TurnWriter::start(db.clone());
        let update = |summary: &str, last: &Message| MemoryUpdate {
            user_id: "u0".into(),
            persona_id: "p0".into(),
            memory: Memory {
                summary: summary.into(),
                through_seq: last.seq,
            },
            last_folded: last.clone(),
        };
        let pair = vec![
            message("u0", "p0", 1, "I adopted a cat"),
            message("u0", "p0", 2, "What is its name?"),
        ];
        let last = pair[1].clone();
        // Queued together: the memory's check finds the turn queued before it.
        let (turn, advanced) = tokio::join!(
            writer.write(TurnRows::messages(pair)),
            writer.advance_memory(update("- User: I adopted a cat", &last)),
        );
        turn.unwrap();
        assert!(advanced.unwrap());

        // A summary of a message that has been edited since is not stored.
        let mut edited = last.clone();
        edited.content = "What is her name?".into();
        let mut stale = update("- User: something else", &edited);
        stale.memory.through_seq = 3;
        assert!(!writer.advance_memory(stale).await.unwrap());
        let stored: (String, i64) = sqlx::query_as(
            "SELECT summary, through_seq FROM memories WHERE user_id = 'u0' AND persona_id = 'p0'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(stored, ("- User: I adopted a cat".to_string(), 2));
    }
}
