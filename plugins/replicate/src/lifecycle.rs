//! One prediction from start to end: create it, follow it until it ends or the deadline
//! passes, and cancel it when this plugin stops waiting, so Replicate stops billing for it.

use ava_sdk::{PluginError, debug, info, time, warn};

use crate::api_error::DEFAULT_RETRY_AFTER_MS;
use crate::client::Client;
use crate::input::ModelInput;
use crate::prediction::{Prediction, Status};
use crate::settings::Settings;

/// Extra time for the create request beyond what `Prefer: wait` lets Replicate hold it: a
/// create that times out on our side leaves a prediction running that cannot be canceled.
const CREATE_SLACK_MS: u32 = 15_000;
/// How long one status check or cancel may take.
pub const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// Runs the prediction and returns it once it has output.
pub fn run(settings: &Settings, input: &ModelInput) -> Result<Prediction, PluginError> {
    let client = Client::new(settings);
    let started = time::now_ms();
    let deadline = started + u64::from(settings.timeout_ms);
    let wait_seconds = settings
        .wait_seconds
        .min(settings.timeout_ms.div_ceil(1_000))
        .max(1);
    let created = client.create(input, wait_seconds, wait_seconds * 1_000 + CREATE_SLACK_MS)?;
    info!(
        "prediction {} of {} created: {}",
        created.id,
        settings.target.describe(),
        status_word(created.status)
    );
    // Sync mode answers as soon as the files exist, possibly before the prediction is
    // marked as done.
    if created.status.is_running() && created.output_url().is_some() {
        return Ok(created);
    }
    let finished = follow(&client, settings, deadline, created)?;
    info!(
        "prediction {} succeeded after {} ms",
        finished.id,
        time::now_ms().saturating_sub(started)
    );
    Ok(finished)
}

/// Polls `prediction` until it ends, or cancels it at `deadline`.
fn follow(
    client: &Client<'_>,
    settings: &Settings,
    deadline: u64,
    mut prediction: Prediction,
) -> Result<Prediction, PluginError> {
    let mut pause_ms = u64::from(settings.poll_interval_ms);
    loop {
        match prediction.status {
            Status::Succeeded => return Ok(prediction),
            Status::Failed => return Err(failed(&prediction)),
            Status::Canceled | Status::Aborted => return Err(ended_elsewhere(&prediction)),
            Status::Starting | Status::Processing | Status::Unknown => {}
        }
        let now = time::now_ms();
        if now >= deadline {
            cancel(client, &prediction);
            return Err(PluginError::unavailable(
                format!(
                    "Replicate did not finish the image within {} ms (prediction {}, still {})",
                    settings.timeout_ms,
                    prediction.id,
                    status_word(prediction.status)
                ),
                None,
            ));
        }
        let pause = pause_ms.min(deadline - now);
        time::sleep_ms(u32::try_from(pause).unwrap_or(u32::MAX));
        pause_ms = u64::from(settings.poll_interval_ms);
        match client.get(&prediction, REQUEST_TIMEOUT_MS) {
            Ok(next) => {
                debug!("prediction {}: {}", next.id, status_word(next.status));
                prediction = next;
            }
            // The prediction runs on whatever happens to one status check: keep following
            // it, after the delay Replicate asked for.
            Err(err) if err.is_retryable() => {
                warn!(
                    "prediction {}: status check failed, trying again: {}",
                    prediction.id,
                    err.message()
                );
                if let PluginError::Unavailable(u) = &err {
                    pause_ms = u.retry_after_ms.unwrap_or(pause_ms).max(pause_ms);
                }
            }
            Err(err) => {
                cancel(client, &prediction);
                return Err(err);
            }
        }
    }
}

/// Cancels `prediction`, best effort: the caller's own error is what matters.
fn cancel(client: &Client<'_>, prediction: &Prediction) {
    match client.cancel(prediction, REQUEST_TIMEOUT_MS) {
        Ok(()) => info!("prediction {} canceled", prediction.id),
        Err(err) => warn!(
            "prediction {} could not be canceled: {}",
            prediction.id,
            err.message()
        ),
    }
}

/// A failed prediction. Replicate's reason is kept (e.g. an NSFW refusal, or an input the
/// model could not use). Running the same input again mostly fails the same way, and each
/// run is billed, so it is final, unless Replicate itself asks for a retry (an interrupted
/// run).
fn failed(prediction: &Prediction) -> PluginError {
    let reason = prediction
        .error_text()
        .unwrap_or_else(|| "no reason given".into());
    let reason = ava_sdk::text::truncate(&reason, 500);
    if reason.to_ascii_lowercase().contains("please retry") {
        return PluginError::unavailable(
            format!("Replicate's prediction was interrupted: {reason}"),
            Some(DEFAULT_RETRY_AFTER_MS),
        );
    }
    PluginError::invalid_input(format!("Replicate could not make the image: {reason}"))
}

/// A prediction canceled by someone else (its creator in Replicate's dashboard) or by a
/// deadline set at Replicate.
fn ended_elsewhere(prediction: &Prediction) -> PluginError {
    let word = status_word(prediction.status);
    PluginError::upstream(
        None,
        Some(word.into()),
        format!("the prediction was {word} at Replicate before it finished"),
    )
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Starting => "starting",
        Status::Processing => "processing",
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::Canceled => "canceled",
        Status::Aborted => "aborted",
        Status::Unknown => "in an unknown state",
    }
}
