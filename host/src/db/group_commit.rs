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

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};
use tokio::sync::{mpsc, oneshot};

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

/// A turn's rows and who is waiting for them.
struct Pending {
    rows: TurnRows,
    done: oneshot::Sender<DbResult<TurnRows>>,
}

/// The handle turns are written through; cheap to clone.
#[derive(Clone)]
pub struct TurnWriter {
    queue: mpsc::Sender<Pending>,
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
            .send(Pending { rows, done })
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

async fn run(db: Db, mut queue: mpsc::Receiver<Pending>) {
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
        let mut size = Size::of(&first.rows);
        batch.push(first);
        // Whatever else is already waiting joins, as long as it fits one statement each.
        while let Ok(next) = queue.try_recv() {
            let more = Size::of(&next.rows);
            if !size.fits(more) {
                writer.commit(&mut batch).await;
                size = Size::default();
            }
            size = size.plus(more);
            batch.push(next);
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
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                let mut conn = self.db.pool().acquire().await?;
                if self.db.backend() == Backend::Sqlite {
                    // Its inserts touch index pages all over the table: a 64 MiB cache
                    // (instead of 2) keeps them from being read again.
                    sqlx::query("PRAGMA cache_size = -65536")
                        .execute(&mut *conn)
                        .await?;
                }
                self.conn.insert(conn)
            }
        };
        let backend = self.db.backend();
        let result = if rows.photos.is_empty() && rows.jobs.is_empty() {
            // The common turn: one statement, atomic on its own.
            messages::insert_many(&mut **conn, backend, &rows.messages).await
        } else {
            insert_together(conn, backend, rows).await
        };
        // A connection that failed for another reason than the rows may be broken.
        if let Err(err) = &result
            && !err.is_unique_violation()
        {
            self.conn = None;
        }
        result
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
}
