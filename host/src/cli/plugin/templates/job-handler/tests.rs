//! {{name}} through the SDK's stand-in host: what it stores, and what it does with a repeat
//! or a bad payload.

use ava_sdk::jobs::{Job, JobHandler, JobOutcome};
use ava_sdk::testing::TestHost;
use {{crate}}::{KIND, {{type}}};

fn job(payload: &str) -> Job {
    Job {
        id: "job-1".into(),
        kind: KIND.into(),
        payload: payload.into(),
        attempt: 1,
        max_attempts: 5,
        enqueued_at_ms: 0,
    }
}

#[test]
fn it_handles_one_kind() {
    assert_eq!({{type}}::kinds(), [KIND]);
}

#[test]
fn the_note_is_stored_under_the_job_id() {
    let host = TestHost::new();
    let outcome = host.run(|| {{type}}::handle(job(r#"{"note": "buy milk"}"#)));
    assert_eq!(outcome, JobOutcome::Done);
    assert_eq!(host.kv("note:job-1").as_deref(), Some(&b"buy milk"[..]));
}

#[test]
fn a_repeated_delivery_changes_nothing() {
    let host = TestHost::new();
    host.run(|| {{type}}::handle(job(r#"{"note": "first"}"#)));
    let again = host.run(|| {{type}}::handle(job(r#"{"note": "second"}"#)));
    assert_eq!(again, JobOutcome::Done);
    assert_eq!(host.kv("note:job-1").as_deref(), Some(&b"first"[..]));
}

#[test]
fn a_malformed_payload_fails_for_good() {
    let outcome = TestHost::new().run(|| {{type}}::handle(job("not json")));
    assert!(matches!(outcome, JobOutcome::Failed(_)), "{outcome:?}");
}
