//! {{name}}: a job handler for Ava's worker.
//!
//! It handles [`KIND`] jobs by storing their note in the plugin's key-value store. Delivery
//! is at least once, so the effect is keyed by the job's id: a repeat changes nothing.

use ava_sdk::jobs::{Job, JobHandler, JobOutcome};
use ava_sdk::{PluginInfo, kv};

/// The one kind of job this plugin handles.
pub const KIND: &str = "note.save";

/// The payload of a [`KIND`] job.
#[derive(Debug, serde::Deserialize)]
struct Payload {
    note: String,
}

/// The plugin.
pub struct {{type}};

impl JobHandler for {{type}} {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("{{description}}")
    }

    fn kinds() -> Vec<String> {
        vec![KIND.into()]
    }

    fn handle(job: Job) -> JobOutcome {
        // A payload that does not parse never will: fail the job for good.
        let payload: Payload = match job.payload() {
            Ok(payload) => payload,
            Err(err) => return JobOutcome::Failed(err.message()),
        };
        if payload.note.trim().is_empty() {
            return JobOutcome::Failed("the note is empty".into());
        }
        match kv::add(&format!("note:{}", job.id), payload.note.as_bytes(), None) {
            Ok(true) => {
                ava_sdk::info!("job {}: note saved", job.id);
                JobOutcome::Done
            }
            Ok(false) => {
                ava_sdk::info!("job {}: already done", job.id);
                JobOutcome::Done
            }
            // The store is down: try again later.
            Err(err) => JobOutcome::retry(1_000, err.message()),
        }
    }
}

ava_sdk::export_job_handler!({{type}});
