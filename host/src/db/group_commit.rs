//! Group commit for chat turns. Every turn stores two messages; under load, turns queue
//! for the database one by one, and on SQLite each commit is a write of the WAL. Here one
//! task takes every turn waiting at that moment and stores them all with one multi-row
//! INSERT, then answers each turn. A caller returns only once its messages are committed,
//! so durability is unchanged; each turn's messages are still stored together or not at
//! all, and a turn that fails (a duplicate `seq`) fails alone.

use sqlx::Any;
use sqlx::pool::PoolConnection;
use tokio::sync::{mpsc, oneshot};

use super::messages::{self, Message, ROWS_PER_STATEMENT};
use super::{Backend, Db, DbError, DbResult};

/// How many turns may wait for the writer before callers wait to enqueue.
const QUEUE: usize = 4096;

/// A turn's messages and who is waiting for them.
struct Pending {
    messages: Vec<Message>,
    done: oneshot::Sender<DbResult<Vec<Message>>>,
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

    /// Stores `messages` (at most [`ROWS_PER_STATEMENT`]) atomically and hands them back
    /// once they are committed. Once queued they are stored even if the caller stops waiting.
    pub async fn write(&self, messages: Vec<Message>) -> DbResult<Vec<Message>> {
        assert!(
            messages.len() <= ROWS_PER_STATEMENT,
            "a turn is a few messages"
        );
        let (done, result) = oneshot::channel();
        self.queue
            .send(Pending { messages, done })
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
        let mut rows = first.messages.len();
        batch.push(first);
        // Whatever else is already waiting joins, as long as it fits one statement.
        while let Ok(next) = queue.try_recv() {
            if rows + next.messages.len() > ROWS_PER_STATEMENT {
                writer.commit(&mut batch).await;
                rows = 0;
            }
            rows += next.messages.len();
            batch.push(next);
        }
        writer.commit(&mut batch).await;
    }
}

impl Writer {
    /// Stores the batch and answers every turn in it.
    async fn commit(&mut self, batch: &mut Vec<Pending>) {
        let rows: Vec<&Message> = batch.iter().flat_map(|p| &p.messages).collect();
        let result = self.insert(&rows).await;
        drop(rows);
        match result {
            Ok(()) => {
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Ok(pending.messages));
                }
            }
            Err(err) if batch.len() == 1 => {
                let _ = batch.pop().expect("one turn").done.send(Err(err));
            }
            Err(_) => {
                // One turn spoiled the statement; store each on its own so only it fails.
                for pending in batch.drain(..) {
                    let rows: Vec<&Message> = pending.messages.iter().collect();
                    let result = self.insert(&rows).await;
                    drop(rows);
                    let _ = pending.done.send(result.map(|()| pending.messages));
                }
            }
        }
    }

    async fn insert(&mut self, rows: &[&Message]) -> DbResult<()> {
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
        let result = messages::insert_many(&mut **conn, self.db.backend(), rows).await;
        // A connection that failed for another reason than the rows may be broken.
        if let Err(err) = &result
            && !err.is_unique_violation()
        {
            self.conn = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{new_id, now_ms};

    fn message(user: &str, seq: i64) -> Message {
        Message {
            id: new_id(),
            user_id: user.into(),
            persona_id: "p".into(),
            seq,
            role: if seq % 2 == 1 { "user" } else { "assistant" }.into(),
            content: format!("message {seq}"),
            mode: "secretary".into(),
            photo_prompt: None,
            photo_caption: None,
            photo_id: None,
            created_at: now_ms(),
        }
    }

    /// A database with `users` users, each with persona `p{n}`.
    async fn database(dir: &tempfile::TempDir, users: usize) -> Db {
        let db = Db::connect_embedded(dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        for u in 0..users {
            let user = crate::db::users::User {
                id: format!("u{u}"),
                email: format!("u{u}@example.com"),
                display_name: None,
                created_at: 0,
            };
            let mut persona =
                crate::personas::new_persona(&user.id, crate::personas::default_persona());
            persona.id = format!("p{u}");
            let mut tx = db.write().await.unwrap();
            crate::db::users::insert(&mut **tx, &user, "x")
                .await
                .unwrap();
            crate::db::personas::insert(&mut **tx, &persona)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        db
    }

    #[tokio::test]
    async fn concurrent_turns_are_all_stored_and_a_duplicate_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir, 200).await;
        let writer = TurnWriter::start(db.clone());
        let mut tasks = Vec::new();
        for u in 0..200 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let user = format!("u{u}");
                let mut pair = vec![message(&user, 1), message(&user, 2)];
                for m in &mut pair {
                    m.persona_id = format!("p{u}");
                }
                writer.write(pair).await
            }));
        }
        // A turn whose second message repeats a stored `seq`: rejected, both messages.
        let mut bad = vec![message("u7", 3), message("u7", 1)];
        for m in &mut bad {
            m.persona_id = "p7".into();
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let err = writer.write(bad).await.unwrap_err();
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
