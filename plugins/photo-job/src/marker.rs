//! Remembering finished jobs, so a redelivered job (delivery is at least once) answers
//! `Done` without drawing the photo again. Best effort: the host's save is idempotent too, so
//! a storage hiccup only costs a second drawing.

use ava_sdk::kv;

/// How long a finished job is remembered: well past any redelivery.
const TTL_MS: u64 = 7 * 24 * 60 * 60 * 1000;

fn key(job_id: &str) -> String {
    format!("done:{job_id}")
}

/// Whether job `job_id` already finished.
pub fn is_done(job_id: &str) -> bool {
    match kv::get(&key(job_id)) {
        Ok(value) => value.is_some(),
        Err(err) => {
            ava_sdk::warn!("cannot read the marker of job {job_id}: {}", err.message());
            false
        }
    }
}

/// Remembers that job `job_id` finished.
pub fn mark_done(job_id: &str) {
    if let Err(err) = kv::set(&key(job_id), b"1", Some(TTL_MS)) {
        ava_sdk::warn!("cannot store the marker of job {job_id}: {}", err.message());
    }
}
