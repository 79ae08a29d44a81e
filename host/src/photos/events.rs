//! Live photo updates: when a photo becomes ready or failed, every process that serves an
//! SSE stream to its owner must hear of it. One local fan-out per process ([`PhotoFeed`]);
//! a bus carries events into it: directly with the embedded default, through Redis pub/sub
//! when the worker is another process.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// A photo changed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoEvent {
    pub user_id: String,
    pub photo_id: String,
    /// `ready` or `failed`.
    pub status: String,
    /// The chat message the photo belongs to, when there is one.
    pub message_id: Option<String>,
    /// Why it failed, in words the user may read.
    pub failure_reason: Option<String>,
    pub updated_at: i64,
}

/// How many events a slow subscriber may fall behind before it misses some (it is told,
/// and the SPA reloads the list).
const FEED_CAPACITY: usize = 1024;

/// The events this process's SSE streams read: every user's, each stream keeps its own.
#[derive(Clone)]
pub struct PhotoFeed {
    tx: broadcast::Sender<PhotoEvent>,
}

impl Default for PhotoFeed {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(FEED_CAPACITY).0,
        }
    }
}

impl PhotoFeed {
    /// Hands `event` to every stream open in this process.
    pub fn deliver(&self, event: PhotoEvent) {
        // No receiver is not an error: nobody is watching right now.
        let _ = self.tx.send(event);
    }

    /// A receiver of every event delivered from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PhotoEvent> {
        self.tx.subscribe()
    }
}

/// Where a process publishes photo events.
#[async_trait]
pub trait PhotoBus: Send + Sync + 'static {
    /// Publishes `event` to every process's feed (this one's included).
    async fn publish(&self, event: PhotoEvent) -> Result<(), String>;
}

/// The bus of a single process: events go straight into its feed.
pub struct LocalBus(pub PhotoFeed);

#[async_trait]
impl PhotoBus for LocalBus {
    async fn publish(&self, event: PhotoEvent) -> Result<(), String> {
        self.0.deliver(event);
        Ok(())
    }
}
