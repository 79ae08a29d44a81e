//! SQLite's WAL checkpoints, mostly off the turn writer's path. The commit that finds the
//! WAL over `wal_autocheckpoint` pages copies it back into the database and fsyncs before
//! it returns: under load that is the turn writer, and every turn queued behind it waits
//! (the chat bench's p99 was 44 ms against a p50 of 4). A task of its own runs a `PASSIVE`
//! checkpoint often, beside the writer without blocking it, so the writer's checkpoint
//! finds little left to copy (p99 ~20 ms).
//!
//! The writer's own checkpoint stays: under constant writes a background checkpoint never
//! catches up with the WAL's end, and SQLite only starts the WAL over after a checkpoint
//! that did; without it the WAL grew past 1.8 GB in a 10 s bench.

use std::time::Duration;

use sqlx::AnyPool;
use tokio::time::MissedTickBehavior;

/// How often the WAL is copied back. 50 ms was no better in the bench; when nothing was
/// written, a checkpoint finds nothing to do.
const EVERY: Duration = Duration::from_millis(100);

/// The checkpointing task: it runs until the pool is closed or this is dropped.
pub struct Checkpoints(tokio::task::AbortHandle);

impl Checkpoints {
    /// Starts checkpointing `pool`'s database.
    pub fn start(pool: AnyPool) -> Self {
        Self(tokio::spawn(run(pool)).abort_handle())
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run(pool: AnyPool) {
    let closing = pool.close_event();
    tokio::pin!(closing);
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut closing => break,
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %err, "WAL checkpoint failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages;
    use crate::db::testing::{database, message};

    fn size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// About 400 KB of messages: far below the writer's own threshold (~40 MiB of WAL).
    async fn write_messages(pool: &AnyPool, backend: crate::db::Backend) {
        let text = "x".repeat(2000);
        let rows: Vec<_> = (1..=200).map(|s| message("u0", "p0", s, &text)).collect();
        let rows: Vec<_> = rows.iter().collect();
        for chunk in rows.chunks(50) {
            messages::insert_many(pool, backend, chunk).await.unwrap();
        }
    }

    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_a_commit_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), 1).await;
        let file = dir.path().join("ava.db");
        let wal = dir.path().join("ava.db-wal");
        // Wait out a checkpoint, so what follows starts from a database file at rest.
        tokio::time::sleep(EVERY * 3).await;
        let before = size(&file);

        write_messages(db.pool(), db.backend()).await;
        assert!(size(&wal) > 400_000, "the messages are in the WAL");
        let mut waited = Duration::ZERO;
        while size(&file) < before + 400_000 && waited < Duration::from_secs(10) {
            tokio::time::sleep(EVERY).await;
            waited += EVERY;
        }
        assert!(
            size(&file) >= before + 400_000,
            "the database file grew from {before} to {} bytes",
            size(&file)
        );
        db.close().await;
    }

    #[tokio::test]
    async fn dropping_the_last_database_handle_stops_the_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), 1).await;
        let (pool, backend) = (db.pool().clone(), db.backend());
        let file = dir.path().join("ava.db");
        tokio::time::sleep(EVERY * 3).await;
        drop(db);
        let before = size(&file);

        write_messages(&pool, backend).await;
        tokio::time::sleep(EVERY * 5).await;
        assert_eq!(size(&file), before, "nothing copied the WAL back");
        pool.close().await;
    }
}
