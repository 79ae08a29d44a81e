//! A job handler that does nothing: about the smallest possible plugin call (`kinds()`) and
//! the smallest possible job (`noop` jobs are done at once). It measures the runtime's and
//! the queue's own cost.

use ava_sdk::PluginInfo;
use ava_sdk::jobs::{Job, JobHandler, JobOutcome};

struct Noop;

impl JobHandler for Noop {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("Benchmark plugin: does nothing")
    }

    fn kinds() -> Vec<String> {
        vec!["noop".into()]
    }

    fn handle(_job: Job) -> JobOutcome {
        JobOutcome::Done
    }
}

ava_sdk::export_job_handler!(Noop);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_is_done_at_once() {
        let job = Job {
            id: "j1".into(),
            kind: "noop".into(),
            payload: "{}".into(),
            attempt: 1,
            max_attempts: 3,
            enqueued_at_ms: 0,
        };
        assert_eq!(Noop::handle(job), JobOutcome::Done);
        assert_eq!(Noop::kinds(), ["noop"]);
    }
}
