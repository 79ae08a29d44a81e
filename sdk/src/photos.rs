//! The user's photos, for job handlers: read what a pending photo must show, store the
//! result, or mark it failed. Only the photo named by the current job may be touched.

pub use crate::bindings::base::ava::plugin::photos::PhotoSpec;
use crate::images::GeneratedImage;
use crate::{PluginError, host_call};

/// What pending photo `id` must show.
pub fn get(id: &str) -> Result<PhotoSpec, PluginError> {
    host_call::photo_get(id)
}

/// Stores the image of photo `id` and marks it ready. Idempotent.
pub fn save(id: &str, image: &GeneratedImage) -> Result<(), PluginError> {
    host_call::photo_save(id, image)
}

/// Marks photo `id` failed with a reason the user may read. Idempotent.
pub fn fail(id: &str, reason: &str) -> Result<(), PluginError> {
    host_call::photo_fail(id, reason)
}
