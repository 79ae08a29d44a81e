//! Photo events across processes through Redis pub/sub.
//!
//! The worker that finishes a photo is usually not the process that serves its owner's SSE
//! stream. Each process publishes its events on one channel (`ava:photos` by default) and
//! subscribes to it, and every message it receives goes into its own [`PhotoFeed`], its own
//! events included, so publishing and delivering take one path.
//!
//! Pub/sub is fire and forget: an event published while a subscriber is disconnected is not
//! delivered to it. The subscriber reconnects and subscribes again on its own; the photo rows
//! stay the truth, and the SPA reloads them when its event stream reconnects.

use async_trait::async_trait;
use fred::clients::SubscriberClient;
use fred::prelude::*;
use fred::types::ConnectHandle;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use super::events::{PhotoBus, PhotoEvent, PhotoFeed};

/// The channel photo events go on unless told otherwise.
pub const DEFAULT_CHANNEL: &str = "ava:photos";

/// Messages the subscriber may hold before the task delivering them falls behind.
const MESSAGE_BUFFER: usize = 1024;

/// How long a publish waits for Redis, through a reconnect, before it fails: a worker that
/// finished a photo must not hang on its announcement while Redis is down.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Publishes photo events on a Redis channel and delivers the channel's events to this
/// process's feed.
pub struct RedisBus {
    channel: String,
    publisher: Client,
    subscriber: SubscriberClient,
    /// The tasks that drive the two connections, the resubscription after a reconnect, and
    /// the delivery into the feed: ended when the bus is dropped.
    tasks: Vec<JoinHandle<()>>,
    connections: Vec<ConnectHandle>,
}

impl RedisBus {
    /// Connects to `url`, subscribes to `channel` and starts delivering its events into
    /// `feed`. When this returns, the subscription is in place: an event published from
    /// then on reaches the feed. Fails when Redis cannot be reached now; after that, both
    /// connections reconnect on their own.
    pub async fn connect(url: &str, channel: &str, feed: PhotoFeed) -> Result<Self, String> {
        let config = Config::from_url(url).map_err(|e| e.to_string())?;
        let mut builder = Builder::from_config(config);
        builder
            // Forever, 50 ms doubling to 2 s: a restart of Redis is waited out, not fatal.
            .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
            .with_performance_config(|performance| {
                performance.broadcast_channel_capacity = MESSAGE_BUFFER;
                performance.default_command_timeout = COMMAND_TIMEOUT;
            });
        let publisher = builder.build().map_err(|e| e.to_string())?;
        let subscriber = builder
            .build_subscriber_client()
            .map_err(|e| e.to_string())?;
        let publisher_connection = publisher.init().await.map_err(|e| e.to_string())?;
        let subscriber_connection = match subscriber.init().await {
            Ok(connection) => connection,
            Err(error) => {
                publisher_connection.abort();
                return Err(error.to_string());
            }
        };
        // The receiver exists before the subscription, so no message falls between them.
        let messages = subscriber.message_rx();
        let resubscribe = subscriber.manage_subscriptions();
        let delivery = tokio::spawn(deliver(messages, channel.to_string(), feed));
        let bus = Self {
            channel: channel.to_string(),
            publisher,
            subscriber,
            tasks: vec![resubscribe, delivery],
            connections: vec![publisher_connection, subscriber_connection],
        };
        bus.subscriber
            .subscribe(channel)
            .await
            .map_err(|e| e.to_string())?;
        Ok(bus)
    }
}

/// Hands every event on `channel` to `feed` until the subscriber closes.
async fn deliver(
    mut messages: tokio::sync::broadcast::Receiver<fred::types::Message>,
    channel: String,
    feed: PhotoFeed,
) {
    loop {
        match messages.recv().await {
            Ok(message) if *message.channel == *channel => {
                let Some(text) = message.value.as_str() else {
                    tracing::warn!(%channel, "a photo event that is not text was ignored");
                    continue;
                };
                match serde_json::from_str::<PhotoEvent>(&text) {
                    Ok(event) => feed.deliver(event),
                    Err(error) => {
                        tracing::warn!(%channel, %error, "a photo event that is not one was ignored")
                    }
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(%channel, missed, "photo events were missed: the feed fell behind")
            }
            Err(RecvError::Closed) => return,
        }
    }
}

#[async_trait]
impl PhotoBus for RedisBus {
    async fn publish(&self, event: PhotoEvent) -> Result<(), String> {
        let json = serde_json::to_string(&event).map_err(|e| e.to_string())?;
        let _receivers: i64 = self
            .publisher
            .publish(self.channel.as_str(), json)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // A fred client's connection task outlives its handles: end it, after a polite QUIT
        // when a runtime is there to send it.
        let clients = [self.publisher.clone(), self.subscriber.to_client()];
        let connections = std::mem::take(&mut self.connections);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    for client in &clients {
                        let _ = client.quit().await;
                    }
                    for connection in connections {
                        connection.abort();
                    }
                });
            }
            Err(_) => connections.iter().for_each(JoinHandle::abort),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_event_on_the_channel_reaches_the_feed_and_others_do_not() {
        let feed = PhotoFeed::default();
        let mut events = feed.subscribe();
        let (tx, rx) = tokio::sync::broadcast::channel(8);
        let task = tokio::spawn(deliver(rx, "ava:photos".to_string(), feed));
        let event = PhotoEvent {
            user_id: "u1".into(),
            photo_id: "p1".into(),
            status: "ready".into(),
            message_id: None,
            failure_reason: None,
            updated_at: 7,
        };
        let message = |channel: &str, value: Value| fred::types::Message {
            channel: channel.into(),
            value,
            kind: fred::types::MessageKind::Message,
            server: fred::types::config::Server::new("127.0.0.1", 6379),
        };
        tx.send(message(
            "elsewhere",
            serde_json::to_string(&event).unwrap().into(),
        ))
        .unwrap();
        tx.send(message("ava:photos", "not json".into())).unwrap();
        tx.send(message(
            "ava:photos",
            serde_json::to_string(&event).unwrap().into(),
        ))
        .unwrap();
        drop(tx);
        task.await.unwrap();
        assert_eq!(events.recv().await.unwrap(), event);
        assert!(events.try_recv().is_err(), "only the one event arrives");
    }
}
