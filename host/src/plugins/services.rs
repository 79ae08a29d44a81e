//! Host services that plugin capabilities are backed by, and which the rest of the host
//! provides: key-value storage and the photo store.

use std::sync::Arc;

use async_trait::async_trait;

use super::kv::KvStore;
use super::types::{GeneratedImage, PhotoSpec, PluginError};

/// The photos a job handler may read and complete (backed by the database).
#[async_trait]
pub trait PhotoStore: Send + Sync + 'static {
    /// The pending photo `id`.
    async fn get(&self, id: &str) -> Result<PhotoSpec, PluginError>;
    /// Stores the image and marks the photo ready; a photo already ready stays as it is.
    async fn save(&self, id: &str, image: GeneratedImage) -> Result<(), PluginError>;
    /// Marks the photo failed; a photo already ready stays as it is.
    async fn fail(&self, id: &str, reason: &str) -> Result<(), PluginError>;
}

/// Everything the capabilities need from the rest of the host.
#[derive(Clone)]
pub struct Services {
    pub kv: Arc<dyn KvStore>,
    pub photos: Option<Arc<dyn PhotoStore>>,
}
