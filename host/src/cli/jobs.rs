//! `ava jobs dead` and `ava jobs retry ID`: the operator's view of the dead letters.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::app;
use crate::config::Settings;
use crate::db::Db;
use crate::jobs::{DeadJob, Queue};

/// How many dead jobs `ava jobs dead` prints.
const LIST_LIMIT: usize = 1000;

/// The database and the queue the settings name.
async fn open(settings: &Settings) -> anyhow::Result<(Db, Arc<dyn Queue>)> {
    let db = app::database(settings).await?;
    let queue = app::job_queue(settings, &db).await?;
    Ok((db, queue))
}

/// Prints the dead jobs, oldest first.
pub async fn dead(settings: &Settings) -> anyhow::Result<()> {
    let (db, queue) = open(settings).await?;
    let dead = queue.dead(LIST_LIMIT).await?;
    print!("{}", table(&dead));
    db.close().await;
    Ok(())
}

/// Queues the dead job `id` again; false when there is no such dead job.
pub async fn retry(settings: &Settings, id: &str) -> anyhow::Result<bool> {
    let (db, queue) = open(settings).await?;
    let revived = queue.revive(id).await?;
    if revived {
        println!("job {id} queued again");
    } else {
        eprintln!("no dead job {id}");
    }
    db.close().await;
    Ok(revived)
}

fn table(dead: &[DeadJob]) -> String {
    if dead.is_empty() {
        return "no dead jobs\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36}  {:<16}  {:>8}  {:<24}  REASON",
        "ID", "KIND", "ATTEMPTS", "DIED"
    );
    for d in dead {
        let _ = writeln!(
            out,
            "{:<36}  {:<16}  {:>8}  {:<24}  {}",
            d.job.id,
            d.job.kind,
            d.attempts,
            ava_sdk::date::datetime(d.died_at_ms),
            d.reason.replace('\n', " ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::NewJob;

    #[test]
    fn the_table_has_one_line_per_job() {
        let job = DeadJob {
            job: NewJob {
                id: "j1".into(),
                kind: "photo.generate".into(),
                payload: "{}".into(),
                max_attempts: 5,
                enqueued_at_ms: 0,
            },
            attempts: 5,
            reason: "gave up\nafter 5".into(),
            died_at_ms: 0,
        };
        let out = table(&[job]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("j1"));
        assert!(lines[1].ends_with("gave up after 5"), "{}", lines[1]);
        assert_eq!(table(&[]), "no dead jobs\n");
    }
}
