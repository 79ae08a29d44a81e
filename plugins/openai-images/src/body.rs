//! The JSON body of `POST /v1/images/generations` for one request, shaped for the model.
//!
//! No `user` is sent: image requests carry no user id (the host derives them from a persona).

use ava_sdk::images::ImageRequest;
use ava_sdk::{PluginError, warn};
use serde_json::{Map, Value};

use crate::settings::Settings;
use crate::size;

/// Builds the body for `request`.
pub fn build(
    settings: &Settings,
    request: &ImageRequest,
) -> Result<Map<String, Value>, PluginError> {
    let family = settings.family;
    let mut body = Map::new();
    body.insert("model".into(), settings.model.clone().into());
    body.insert("prompt".into(), prompt(settings, request)?.into());
    body.insert("n".into(), 1.into());
    if let Some(size) = size::choose(family, settings.size, request.width, request.height) {
        body.insert("size".into(), size.to_string().into());
    }
    if let Some(quality) = &settings.quality {
        body.insert("quality".into(), quality.clone().into());
    }
    if family.takes_response_format() {
        // Bytes now rather than a link that expires after an hour.
        body.insert("response_format".into(), "b64_json".into());
    }
    if let (true, Some(format)) = (family.takes_output_format(), &settings.output_format) {
        body.insert("output_format".into(), format.clone().into());
    }
    Ok(body)
}

/// The prompt, with the negative prompt folded in as an instruction where the model reads
/// one (see [`Family::folds_negative_prompt`](crate::model::Family::folds_negative_prompt)).
/// The negative prompt is a refinement: when folding it in would make the prompt longer than
/// the model takes, it is left out rather than the image refused.
fn prompt(settings: &Settings, request: &ImageRequest) -> Result<String, PluginError> {
    let prompt = request.prompt.trim();
    if prompt.is_empty() {
        return Err(PluginError::invalid_input("the prompt is empty"));
    }
    let negative = request
        .negative_prompt
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty() && settings.family.folds_negative_prompt());
    let Some(negative) = negative else {
        return Ok(prompt.to_string());
    };
    let folded = format!("{prompt}\n\nAvoid: {negative}");
    match settings.family.max_prompt_chars() {
        Some(max) if folded.chars().count() > max => {
            warn!("the negative prompt is left out: with it the prompt is over {max} characters");
            Ok(prompt.to_string())
        }
        _ => Ok(folded),
    }
}
