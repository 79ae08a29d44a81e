//! Where image bytes live. A trait, so S3-compatible storage can replace the disk later; the
//! database keeps only the key.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage key {0:?}")]
    InvalidKey(String),
    #[error("no object under {0:?}")]
    NotFound(String),
    #[error("storage failed for {0:?}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// An object store for photos.
#[async_trait]
pub trait PhotoStorage: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what is there; whole or not at all.
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// The bytes under `key`.
    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError>;
}

/// Files under a folder (`<data dir>/photos`).
pub struct DiskStorage {
    root: PathBuf,
}

impl DiskStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file of `key`. Keys are ours (`<user>/<photo>.<ext>`), but a key that could leave
    /// the folder is refused all the same.
    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        let safe = !key.is_empty()
            && Path::new(key).components().all(|c| {
                matches!(c, std::path::Component::Normal(part)
                    if part.to_str().is_some_and(|p| !p.starts_with('.')))
            });
        if !safe {
            return Err(StorageError::InvalidKey(key.to_string()));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl PhotoStorage for DiskStorage {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let io = |e| StorageError::Io(key.to_string(), e);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        // A unique temporary name, then a rename: a reader never sees half a file, and two
        // deliveries of one job writing at once do not interleave.
        let tmp = path.with_extension(format!("tmp-{}", crate::db::new_id()));
        tokio::fs::write(&tmp, bytes).await.map_err(io)?;
        if let Err(err) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(err));
        }
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let path = self.path(key)?;
        tokio::fs::read(&path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StorageError::NotFound(key.to_string()),
            _ => StorageError::Io(key.to_string(), e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_round_trip_and_keys_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::new(dir.path());
        storage.put("u1/p1.png", b"png").await.unwrap();
        storage.put("u1/p1.png", b"png2").await.unwrap();
        assert_eq!(storage.get("u1/p1.png").await.unwrap(), b"png2");
        assert!(matches!(
            storage.get("u1/none.png").await,
            Err(StorageError::NotFound(_))
        ));
        for bad in ["", "../x", "/etc/passwd", "u1/../../x", "u1/.hidden"] {
            assert!(
                matches!(
                    storage.put(bad, b"x").await,
                    Err(StorageError::InvalidKey(_))
                ),
                "{bad}"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("u1"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["p1.png"]);
    }
}
