//! Photos: the store job handlers complete photos through, the image files, and the live
//! updates the SPA listens to.

pub mod events;
pub mod redis_bus;
pub mod storage;

use std::sync::Arc;

use async_trait::async_trait;

use crate::db::photos::{Photo, StoredImage};
use crate::db::{self, Db, DbError, now_ms};
use crate::plugins::PhotoStore;
use crate::plugins::types::{GeneratedImage, PhotoSpec, PluginError, Unavailable};
use events::{PhotoBus, PhotoEvent};
use storage::{PhotoStorage, StorageError};

/// Why a photo could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("photo not found")]
    NotFound,
    /// The photo is not ready, so it has no image (yet).
    #[error("the photo is {0}")]
    NotReady(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The photos service: rows in the database, bytes in storage, events on the bus.
pub struct Photos {
    db: Db,
    storage: Arc<dyn PhotoStorage>,
    bus: Arc<dyn PhotoBus>,
}

impl Photos {
    pub fn new(db: Db, storage: Arc<dyn PhotoStorage>, bus: Arc<dyn PhotoBus>) -> Arc<Self> {
        Arc::new(Self { db, storage, bus })
    }

    /// A page of the user's photos, newest first.
    pub async fn list(
        &self,
        user_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Photo>, PhotoError> {
        Ok(db::photos::page(self.db.pool(), user_id, before, limit).await?)
    }

    /// The user's photo `id`; another user's is not found.
    pub async fn get(&self, user_id: &str, id: &str) -> Result<Photo, PhotoError> {
        db::photos::get(self.db.pool(), user_id, id)
            .await?
            .ok_or(PhotoError::NotFound)
    }

    /// The user's photos among `ids`, by id.
    pub async fn by_ids(
        &self,
        user_id: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Photo>, PhotoError> {
        Ok(
            db::photos::get_many(self.db.pool(), self.db.backend(), user_id, ids)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
        )
    }

    /// The image bytes of `photo` (read by the caller), when it is ready.
    pub async fn image(&self, photo: &Photo) -> Result<Vec<u8>, PhotoError> {
        match (&photo.status[..], &photo.storage_key) {
            ("ready", Some(key)) => Ok(self.storage.get(key).await?),
            _ => Err(PhotoError::NotReady(photo.status.clone())),
        }
    }

    /// Marks the pending photo `id` failed (the job that drew it was given up) and tells
    /// its owner; a photo already ready or failed stays as it is.
    pub async fn give_up(&self, id: &str, reason: &str) -> Result<bool, PhotoError> {
        let failed = {
            let _lock = self.db.statement_lock().await;
            db::photos::mark_failed(self.db.pool(), id, reason, now_ms()).await?
        };
        match failed {
            Some(photo) => {
                self.announce(photo).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Publishes the photo's new state to its owner's streams, wherever they are.
    async fn announce(&self, photo: Photo) {
        let id = photo.id.clone();
        let event = PhotoEvent {
            user_id: photo.user_id,
            photo_id: photo.id,
            status: photo.status,
            message_id: photo.message_id,
            failure_reason: photo.failure_reason,
            updated_at: photo.updated_at,
        };
        // The row is the truth: a lost event only delays the SPA until it lists again.
        if let Err(err) = self.bus.publish(event).await {
            tracing::warn!(photo = %id, error = %err, "cannot publish a photo event");
        }
    }
}

fn plugin_error(err: impl std::fmt::Display) -> PluginError {
    PluginError::Unavailable(Unavailable {
        message: format!("the photo store failed: {err}"),
        retry_after_ms: None,
    })
}

/// The file extension of an image type.
fn extension(content_type: &str) -> Option<&'static str> {
    match content_type {
        "image/png" => Some("png"),
        "image/jpeg" => Some("jpg"),
        "image/webp" => Some("webp"),
        _ => None,
    }
}

/// What a job handler sees: idempotent by photo, as jobs are delivered at least once.
#[async_trait]
impl PhotoStore for Photos {
    async fn get(&self, id: &str) -> Result<PhotoSpec, PluginError> {
        let (photo, appearance) = db::photos::get_for_job(self.db.pool(), id)
            .await
            .map_err(plugin_error)?
            .ok_or_else(|| PluginError::InvalidInput(format!("photo {id} does not exist")))?;
        Ok(PhotoSpec {
            id: photo.id,
            prompt: photo.prompt,
            negative_prompt: photo.negative_prompt,
            appearance,
            seed: photo.seed as u64,
            width: photo.width.clamp(1, 4096) as u32,
            height: photo.height.clamp(1, 4096) as u32,
        })
    }

    async fn save(&self, id: &str, image: GeneratedImage) -> Result<(), PluginError> {
        let (photo, _) = db::photos::get_for_job(self.db.pool(), id)
            .await
            .map_err(plugin_error)?
            .ok_or_else(|| PluginError::InvalidInput(format!("photo {id} does not exist")))?;
        if photo.status == "ready" {
            return Ok(());
        }
        let content_type = image.image.content_type.as_str();
        let ext = extension(content_type).ok_or_else(|| {
            PluginError::InvalidInput(format!("{content_type:?} is not a photo type Ava serves"))
        })?;
        // The key is the photo's: a second delivery overwrites the same file with the same
        // picture, never adds one.
        let key = format!("{}/{}.{ext}", photo.user_id, photo.id);
        self.storage
            .put(&key, &image.image.data)
            .await
            .map_err(plugin_error)?;
        let stored = StoredImage {
            content_type,
            byte_size: image.image.data.len() as i64,
            storage_key: &key,
            provider: &image.provider,
            model: image.model.as_deref(),
            seed: image.seed.map(|s| s as i64),
        };
        let changed = {
            let _lock = self.db.statement_lock().await;
            db::photos::mark_ready(self.db.pool(), id, &stored, now_ms())
                .await
                .map_err(plugin_error)?
        };
        if let Some(photo) = changed {
            metrics::counter!("ava_photos_total", "status" => "ready").increment(1);
            self.announce(photo).await;
        }
        Ok(())
    }

    async fn fail(&self, id: &str, reason: &str) -> Result<(), PluginError> {
        let reason = ava_sdk::text::truncate(reason, 500);
        if self.give_up(id, reason).await.map_err(plugin_error)? {
            metrics::counter!("ava_photos_total", "status" => "failed").increment(1);
        }
        Ok(())
    }
}
