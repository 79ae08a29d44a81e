//! The model's `input` object: the configured extra input, then the request's prompt, seed
//! and size under the field names this model uses.

use ava_sdk::PluginError;
use ava_sdk::images::ImageRequest;
use serde_json::{Map, Value};

use crate::aspect;
use crate::settings::Settings;

/// What is sent for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    pub input: Map<String, Value>,
    /// The seed sent to the model, when the request has one and the model takes it.
    pub seed: Option<u64>,
}

/// Builds the input for `request`. The request's values win over the same keys in the
/// configured extra input: the extra input sets a model up, the request describes one image.
pub fn build(settings: &Settings, request: &ImageRequest) -> Result<ModelInput, PluginError> {
    let prompt = request.prompt.trim();
    if prompt.is_empty() {
        return Err(PluginError::invalid_input("the prompt is empty"));
    }
    let fields = &settings.fields;
    let mut input = settings.extra_input.clone();
    input.insert(fields.prompt.clone(), prompt.into());

    let negative = request
        .negative_prompt
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let (Some(field), Some(negative)) = (&fields.negative_prompt, negative) {
        input.insert(field.clone(), negative.into());
    }

    let seed = match (&fields.seed, request.seed) {
        (Some(field), Some(seed)) => {
            let seed = fold_seed(seed, settings.seed_max);
            input.insert(field.clone(), seed.into());
            Some(seed)
        }
        _ => None,
    };

    // A side of 0 leaves the size to the model's default.
    if request.width > 0 && request.height > 0 {
        if let Some(field) = &fields.width {
            input.insert(field.clone(), request.width.into());
        }
        if let Some(field) = &fields.height {
            input.insert(field.clone(), request.height.into());
        }
        if let Some(field) = &fields.aspect_ratio
            && let Some(ratio) =
                aspect::nearest(&settings.aspect_ratios, request.width, request.height)
        {
            input.insert(field.clone(), ratio.to_string().into());
        }
    }
    Ok(ModelInput { input, seed })
}

/// `seed` within `0..=max`. The same seed always folds to the same value, so a persona keeps
/// its look; seeds already in range are sent unchanged.
fn fold_seed(seed: u64, max: u64) -> u64 {
    match max.checked_add(1) {
        Some(modulus) => seed % modulus,
        None => seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_in_range_are_unchanged_and_larger_ones_fold() {
        assert_eq!(fold_seed(42, 2_147_483_647), 42);
        assert_eq!(fold_seed(2_147_483_647, 2_147_483_647), 2_147_483_647);
        assert_eq!(fold_seed(2_147_483_648, 2_147_483_647), 0);
        assert_eq!(fold_seed(u64::MAX, u64::MAX), u64::MAX);
    }
}
