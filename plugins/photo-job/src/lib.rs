//! The `photo.generate` job: draws a photo a persona decided to send, with whichever image
//! plugin is active, and stores it for the user.
//!
//! Payload: `{"photo_id": "<id>"}`. The photo's prompt, appearance, seed and size come from
//! the host (`photos::get`), never from the payload.

mod failure;
mod marker;
mod prompt;

use ava_sdk::images::{self, ImageRequest};
use ava_sdk::jobs::{Job, JobHandler, JobOutcome};
use ava_sdk::{PluginError, PluginInfo, photos};
use serde::Deserialize;

/// The job kind this plugin handles.
pub const KIND: &str = "photo.generate";

#[derive(Debug, Deserialize)]
struct Payload {
    photo_id: String,
}

/// The plugin.
pub struct PhotoJob;

impl JobHandler for PhotoJob {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("Generates the photos a persona sends (job `photo.generate`)")
    }

    fn kinds() -> Vec<String> {
        vec![KIND.to_string()]
    }

    fn handle(job: Job) -> JobOutcome {
        let photo_id = match job.payload::<Payload>() {
            Ok(payload) if !payload.photo_id.trim().is_empty() => payload.photo_id,
            Ok(_) => return failed(&job, "the payload's photo_id is empty".into()),
            Err(err) => return failed(&job, err.message()),
        };
        if marker::is_done(&job.id) {
            ava_sdk::info!("job {}: photo {photo_id} was already generated", job.id);
            return JobOutcome::Done;
        }
        match generate(&job, &photo_id) {
            Ok(()) => {
                marker::mark_done(&job.id);
                JobOutcome::Done
            }
            Err(Step::Gone(err)) => failed(
                &job,
                format!("photo {photo_id} is not available: {}", err.message()),
            ),
            Err(Step::Failed(err)) => settle(&job, &photo_id, &err),
        }
    }
}

/// Why generating stopped: the photo is gone (nothing to mark), or a step failed.
enum Step {
    Gone(PluginError),
    Failed(PluginError),
}

fn generate(job: &Job, photo_id: &str) -> Result<(), Step> {
    let spec = photos::get(photo_id).map_err(|err| match err {
        PluginError::InvalidInput(_) => Step::Gone(err),
        other => Step::Failed(other),
    })?;
    let request = ImageRequest {
        prompt: prompt::compose(&spec.appearance, &spec.prompt),
        negative_prompt: spec
            .negative_prompt
            .clone()
            .filter(|n| !n.trim().is_empty()),
        seed: Some(spec.seed),
        width: spec.width,
        height: spec.height,
    };
    ava_sdk::info!(
        "job {} (attempt {}/{}): generating photo {photo_id}, {}x{}, seed {}",
        job.id,
        job.attempt,
        job.max_attempts,
        spec.width,
        spec.height,
        spec.seed
    );
    let image = images::generate(&request).map_err(Step::Failed)?;
    photos::save(photo_id, &image).map_err(Step::Failed)?;
    ava_sdk::info!(
        "job {}: photo {photo_id} saved ({} bytes of {}, by {})",
        job.id,
        image.image.data.len(),
        image.image.content_type,
        image.provider
    );
    Ok(())
}

/// The outcome of a failed step: a retry while attempts remain and the error is temporary;
/// otherwise the photo is marked failed, so the user is not left waiting, and the job fails.
fn settle(job: &Job, photo_id: &str, err: &PluginError) -> JobOutcome {
    let outcome = JobOutcome::from_error(err);
    if let JobOutcome::Retry(retry) = &outcome
        && !job.is_last_attempt()
    {
        ava_sdk::warn!(
            "job {}: photo {photo_id} will be retried in {} ms: {}",
            job.id,
            retry.delay_ms,
            err.message()
        );
        return outcome;
    }
    let reason = failure::user_reason(err);
    if let Err(fail_err) = photos::fail(photo_id, &reason) {
        ava_sdk::error!(
            "job {}: cannot mark photo {photo_id} failed: {}",
            job.id,
            fail_err.message()
        );
        // Leaving the photo pending forever is worse than one more attempt.
        if fail_err.is_retryable() && !job.is_last_attempt() {
            return JobOutcome::from_error(&fail_err);
        }
    }
    let detail = match outcome {
        JobOutcome::Retry(_) => format!("gave up after attempt {}: {}", job.attempt, err.message()),
        _ => err.message(),
    };
    failed(job, format!("photo {photo_id}: {detail}"))
}

fn failed(job: &Job, reason: String) -> JobOutcome {
    ava_sdk::warn!("job {} failed: {reason}", job.id);
    JobOutcome::Failed(reason)
}

ava_sdk::export_job_handler!(PhotoJob);

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use ava_sdk::images::{GeneratedImage, ImageBytes};
    use ava_sdk::photos::PhotoSpec;
    use ava_sdk::testing::{PhotoState, TestHost};

    use super::*;

    fn spec(id: &str) -> PhotoSpec {
        PhotoSpec {
            id: id.into(),
            prompt: "young woman with auburn hair, at the beach, cosy romantic mood".into(),
            negative_prompt: Some("blurry, watermark".into()),
            appearance: "young woman with auburn hair".into(),
            seed: 4242,
            width: 768,
            height: 1024,
        }
    }

    fn job(payload: &str, attempt: u32, max_attempts: u32) -> Job {
        Job {
            id: "job-1".into(),
            kind: KIND.into(),
            payload: payload.into(),
            attempt,
            max_attempts,
            enqueued_at_ms: 0,
        }
    }

    fn photo_job(attempt: u32, max_attempts: u32) -> Job {
        job(r#"{"photo_id": "ph_1"}"#, attempt, max_attempts)
    }

    fn image() -> GeneratedImage {
        GeneratedImage {
            image: ImageBytes {
                content_type: "image/png".into(),
                data: vec![0x89, b'P', b'N', b'G'],
            },
            seed: Some(4242),
            model: Some("test-model".into()),
            provider: "test-images".into(),
        }
    }

    /// A host with photo `ph_1` pending and an image provider answering `answer`, recording
    /// every request it gets.
    fn host(
        answer: Result<GeneratedImage, PluginError>,
    ) -> (TestHost, Rc<RefCell<Vec<ImageRequest>>>) {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let record = seen.clone();
        let host = TestHost::new()
            .pending_photo(spec("ph_1"))
            .on_generate_image(move |req| {
                record.borrow_mut().push(req.clone());
                answer.clone()
            });
        (host, seen)
    }

    #[test]
    fn kinds_is_photo_generate() {
        assert_eq!(PhotoJob::kinds(), ["photo.generate"]);
    }

    #[test]
    fn a_generated_photo_is_saved_ready() {
        let (host, _) = host(Ok(image()));
        assert_eq!(
            host.run(|| PhotoJob::handle(photo_job(1, 3))),
            JobOutcome::Done
        );
        assert_eq!(host.photo("ph_1"), Some(PhotoState::Ready(image())));
    }

    #[test]
    fn the_request_carries_the_specs_seed_size_and_prompt() {
        let (host, seen) = host(Ok(image()));
        host.run(|| PhotoJob::handle(photo_job(1, 3)));
        let requests = seen.borrow();
        let request = &requests[0];
        assert_eq!(
            (request.seed, request.width, request.height),
            (Some(4242), 768, 1024)
        );
        assert_eq!(
            request.prompt,
            "young woman with auburn hair, at the beach, cosy romantic mood"
        );
        assert_eq!(
            request.negative_prompt.as_deref(),
            Some("blurry, watermark")
        );
    }

    #[test]
    fn the_appearance_is_put_before_a_bare_scene() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let record = seen.clone();
        let bare = PhotoSpec {
            prompt: "at the beach".into(),
            ..spec("ph_1")
        };
        let host = TestHost::new()
            .pending_photo(bare)
            .on_generate_image(move |req| {
                record.borrow_mut().push(req.clone());
                Ok(image())
            });
        host.run(|| PhotoJob::handle(photo_job(1, 3)));
        assert_eq!(
            seen.borrow()[0].prompt,
            "young woman with auburn hair, at the beach"
        );
    }

    #[test]
    fn a_temporary_failure_retries_after_the_upstreams_delay() {
        let (host, _) = host(Err(PluginError::unavailable("rate limited", Some(7_000))));
        let outcome = host.run(|| PhotoJob::handle(photo_job(1, 3)));
        assert!(
            matches!(outcome, JobOutcome::Retry(ref r) if r.delay_ms == 7_000),
            "{outcome:?}"
        );
        assert_eq!(host.photo("ph_1"), Some(PhotoState::Pending));
    }

    #[test]
    fn a_temporary_failure_on_the_last_attempt_fails_the_photo() {
        let (host, _) = host(Err(PluginError::unavailable("rate limited", Some(7_000))));
        let outcome = host.run(|| PhotoJob::handle(photo_job(3, 3)));
        assert!(matches!(outcome, JobOutcome::Failed(_)), "{outcome:?}");
        assert!(matches!(host.photo("ph_1"), Some(PhotoState::Failed(r)) if r.contains("busy")));
    }

    #[test]
    fn a_permanent_failure_fails_the_photo_at_once() {
        let (host, _) = host(Err(PluginError::upstream(
            Some(400),
            None,
            "content policy violation",
        )));
        let outcome = host.run(|| PhotoJob::handle(photo_job(1, 3)));
        assert!(
            matches!(outcome, JobOutcome::Failed(ref m) if m.contains("content policy")),
            "{outcome:?}"
        );
        assert!(
            matches!(host.photo("ph_1"), Some(PhotoState::Failed(r)) if r.contains("content policy violation"))
        );
    }

    #[test]
    fn a_malformed_payload_fails() {
        let (host, seen) = host(Ok(image()));
        for payload in ["not json", r#"{"id": "ph_1"}"#, r#"{"photo_id": "  "}"#] {
            let outcome = host.run(|| PhotoJob::handle(job(payload, 1, 3)));
            assert!(
                matches!(outcome, JobOutcome::Failed(_)),
                "{payload}: {outcome:?}"
            );
        }
        assert!(seen.borrow().is_empty());
    }

    #[test]
    fn an_unknown_photo_fails_without_generating() {
        let (host, seen) = host(Ok(image()));
        let outcome = host.run(|| PhotoJob::handle(job(r#"{"photo_id": "ph_other"}"#, 1, 3)));
        assert!(
            matches!(outcome, JobOutcome::Failed(ref m) if m.contains("ph_other")),
            "{outcome:?}"
        );
        assert!(seen.borrow().is_empty());
        assert_eq!(host.photo("ph_1"), Some(PhotoState::Pending));
    }

    #[test]
    fn a_redelivered_job_is_done_without_drawing_again() {
        let (host, seen) = host(Ok(image()));
        host.run(|| PhotoJob::handle(photo_job(1, 3)));
        assert_eq!(
            host.run(|| PhotoJob::handle(photo_job(2, 3))),
            JobOutcome::Done
        );
        assert_eq!(seen.borrow().len(), 1);
    }

    #[test]
    fn the_work_is_logged_with_the_photo_id() {
        let (host, _) = host(Ok(image()));
        host.run(|| PhotoJob::handle(photo_job(1, 3)));
        let logs = host.logs();
        assert!(
            logs.iter()
                .any(|(_, line)| line.contains("generating photo ph_1")),
            "{logs:?}"
        );
        assert!(
            logs.iter()
                .any(|(_, line)| line.contains("photo ph_1 saved")),
            "{logs:?}"
        );
    }
}
