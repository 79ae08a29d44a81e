//! Photos through the API on both databases, with the real plugins: a chat turn that asks
//! for a photo → a pending photo and its job in the same transaction → the in-process
//! worker runs `photo-job`, which draws with `local-images` → the photo is ready, the
//! owner's event stream says so, and the image is served to the owner only.

mod common;
#[path = "common/redis.rs"]
mod redis;

use std::time::Duration;

use common::app::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PHOTO_PLUGINS: &str = r#"
[plugins.persona]
use = "local-persona"

[plugins.images]
use = "local-images"

[plugins.jobs]
use = ["photo-job"]

[plugin.local-persona]
path = "{plugins}/local-persona.wasm"

[plugin.local-images]
path = "{plugins}/local-images.wasm"
limits = { memory_mib = 128, timeout_ms = 20000 }

[plugin.photo-job]
path = "{plugins}/photo-job.wasm"
limits = { timeout_ms = 30000 }
"#;

/// The same, without an image plugin: every photo job fails for want of one.
const NO_IMAGES: &str = r#"
[plugins.persona]
use = "local-persona"

[plugins.jobs]
use = ["photo-job"]

[plugin.local-persona]
path = "{plugins}/local-persona.wasm"

[plugin.photo-job]
path = "{plugins}/photo-job.wasm"
"#;

/// A reader of a server-sent event stream.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, token: &str) -> Self {
        let response = app
            .client
            .get(app.url("/photos/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (name, JSON data) within `wait`, skipping keep-alive comments.
    async fn next(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(name) = name {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next `photo` event about `id`, within `wait`.
    async fn photo(&mut self, id: &str, wait: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let (name, data) = self
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no event about photo {id}"));
            if name == "photo" && data["id"] == id {
                return data;
            }
        }
    }
}

/// A subscriber with photos on.
async fn photo_user(app: &TestApp, email: &str) -> (String, String) {
    let (token, id) = app.subscriber(email).await;
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            "/preferences",
            Some(&token),
            Some(json!({ "photos_enabled": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (token, id)
}

/// Asks for a selfie; returns the reply's photo id.
async fn ask_for_a_photo(app: &TestApp, token: &str) -> String {
    let (status, turn) = app
        .post(
            "/chat",
            token,
            json!({ "message": "send me a selfie at the beach please" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["reply"]["photo"]["status"], "pending", "{turn}");
    turn["reply"]["photo"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the reply sends no photo: {turn}"))
        .to_string()
}

/// Which queue carries the photo jobs.
#[derive(Clone, Copy, PartialEq)]
enum Queue {
    Embedded,
    /// The Redis stream (with the jobs table as its outbox) and Redis pub/sub for the events;
    /// this server runs a worker too.
    Redis,
}

async fn start(
    backend: Backend,
    queue: Queue,
    config: &str,
    backoff_ms: u64,
) -> (TestApp, Option<String>) {
    let prefix = (queue == Queue::Redis).then(|| redis::unique_prefix("api-photos"));
    let app = TestApp::with_settings(backend, config, |s| {
        s.worker.job_backoff_ms = backoff_ms;
        if let Some(prefix) = &prefix {
            s.redis_url = Some(redis::url());
            s.redis_prefix = prefix.clone();
            s.worker.serve_worker = Some(true);
        }
    })
    .await;
    let expected = match queue {
        Queue::Embedded => "embedded",
        Queue::Redis => "redis",
    };
    assert_eq!(app.app.state.queue.backend(), expected);
    (app, prefix)
}

async fn cleanup(prefix: Option<String>) {
    if let Some(prefix) = prefix {
        redis::delete_prefix(&redis::url(), &prefix).await;
    }
}

async fn the_photo_pipeline_serves_the_owner_only(backend: Backend, queue: Queue) {
    let (app, prefix) = start(backend, queue, PHOTO_PLUGINS, 2000).await;
    let (token, _) = photo_user(&app, "owner@example.com").await;
    let (other, _) = photo_user(&app, "other@example.com").await;
    let mut owner_events = Events::open(&app, &token).await;
    let mut other_events = Events::open(&app, &other).await;

    let id = ask_for_a_photo(&app, &token).await;
    let ready = owner_events.photo(&id, Duration::from_secs(30)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["provider"], "local-images");
    assert_eq!(ready["content_type"], "image/png");
    assert_eq!(ready["image_url"], format!("/photos/{id}/image"));
    assert!(
        ready["prompt"].as_str().unwrap().contains("beach"),
        "{ready}"
    );
    assert_eq!(
        (ready["width"].as_i64(), ready["height"].as_i64()),
        (Some(768), Some(1024))
    );

    // The other user's stream heard nothing of it.
    assert_eq!(other_events.next(Duration::from_millis(500)).await, None);

    let (status, one) = app.get(&format!("/photos/{id}"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, ready);
    let (_, list) = app.get("/photos", &token).await;
    assert_eq!(list["photos"].as_array().unwrap().len(), 1);
    assert_eq!(list["photos"][0]["id"], id);
    assert_eq!(list["next_cursor"], Value::Null);

    // The reply in the conversation points at the photo.
    let (_, page) = app.get("/messages", &token).await;
    let reply = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(reply["photo"]["id"], id);
    assert_eq!(reply["photo"]["status"], "ready");
    assert_eq!(reply["photo"]["image_url"], format!("/photos/{id}/image"));
    assert_eq!(one["message_id"], reply["id"]);

    let image = app
        .client
        .get(app.url(&format!("/photos/{id}/image")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    let cache = image.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cache.starts_with("private"), "{cache}");
    let etag = image.headers()["etag"].clone();
    let bytes = image.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(ready["byte_size"].as_u64(), Some(bytes.len() as u64));
    let again = app
        .client
        .get(app.url(&format!("/photos/{id}/image")))
        .bearer_auth(&token)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // Another user: not found, whatever the route; nothing in their list.
    for path in [format!("/photos/{id}"), format!("/photos/{id}/image")] {
        let (status, body) = app.get(&path, &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["detail"], "Photo not found");
    }
    let (_, theirs) = app.get("/photos", &other).await;
    assert_eq!(theirs["photos"], json!([]));
    // Without a token: 401 everywhere.
    for path in ["/photos", "/photos/events", &format!("/photos/{id}")] {
        let (status, _) = app.call(reqwest::Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }

    // The job is done and gone; exactly one photo exists.
    assert_eq!(app.app.state.queue.depth().await.unwrap(), 0);
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos")
        .fetch_one(app.app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(photos, 1);
    drop(app);
    cleanup(prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photo_pipeline_serves_the_owner_only_on_sqlite() {
    the_photo_pipeline_serves_the_owner_only(Backend::Sqlite, Queue::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photo_pipeline_serves_the_owner_only_on_postgres() {
    the_photo_pipeline_serves_the_owner_only(Backend::Postgres, Queue::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photo_pipeline_serves_the_owner_only_through_redis_on_sqlite() {
    the_photo_pipeline_serves_the_owner_only(Backend::Sqlite, Queue::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photo_pipeline_serves_the_owner_only_through_redis_on_postgres() {
    the_photo_pipeline_serves_the_owner_only(Backend::Postgres, Queue::Redis).await;
}

async fn a_photo_that_cannot_be_drawn_fails_after_its_attempts(backend: Backend, queue: Queue) {
    let (app, prefix) = start(backend, queue, NO_IMAGES, 20).await;
    let (token, _) = photo_user(&app, "owner@example.com").await;
    let mut events = Events::open(&app, &token).await;
    let id = ask_for_a_photo(&app, &token).await;
    let (_, pending) = app.get(&format!("/photos/{id}"), &token).await;
    assert_eq!(pending["image_url"], Value::Null);

    let failed = events.photo(&id, Duration::from_secs(30)).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let (_, page) = app.get("/messages", &token).await;
    let reply = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(reply["photo"]["status"], "failed");
    assert_eq!(reply["photo"]["image_url"], Value::Null);
    assert_eq!(reply["photo"]["failure_reason"], failed["failure_reason"]);
    let reason = failed["failure_reason"].as_str().unwrap();
    assert!(reason.contains("could not be made"), "{reason}");
    let (status, body) = app.get(&format!("/photos/{id}/image"), &token).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["detail"], "The photo could not be generated");

    // The job went to the dead letters after every attempt. The handler marks the photo
    // failed (the event above) before the worker buries the job: wait for the second step.
    let mut dead = Vec::new();
    for _ in 0..100 {
        dead = app.app.state.queue.dead(10).await.unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].attempts, ava_host::jobs::DEFAULT_MAX_ATTEMPTS);
    assert!(dead[0].job.payload.contains(&id));

    // `ava jobs retry` revives it: with a working image plugin it would be drawn now; here
    // it fails again after its attempts, and the photo stays failed (it was not pending).
    assert!(app.app.state.queue.revive(&dead[0].job.id).await.unwrap());
    assert!(app.app.state.queue.dead(10).await.unwrap().is_empty());
    drop(app);
    cleanup(prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_that_cannot_be_drawn_fails_after_its_attempts_on_sqlite() {
    a_photo_that_cannot_be_drawn_fails_after_its_attempts(Backend::Sqlite, Queue::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_that_cannot_be_drawn_fails_after_its_attempts_on_postgres() {
    a_photo_that_cannot_be_drawn_fails_after_its_attempts(Backend::Postgres, Queue::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_that_cannot_be_drawn_fails_after_its_attempts_through_redis() {
    a_photo_that_cannot_be_drawn_fails_after_its_attempts(Backend::Sqlite, Queue::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_photo_without_the_users_consent_and_bad_pages_are_refused() {
    let app = TestApp::with_config(Backend::Sqlite, PHOTO_PLUGINS).await;
    let (token, _) = app.subscriber("shy@example.com").await;
    let (status, turn) = app
        .post("/chat", &token, json!({ "message": "send me a selfie" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["reply"]["photo"], Value::Null);
    let (_, list) = app.get("/photos", &token).await;
    assert_eq!(list["photos"], json!([]));
    assert_eq!(app.app.state.queue.depth().await.unwrap(), 0);

    let (status, body) = app.get("/photos?limit=0", &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "limit");
    let (status, _) = app.get("/photos/nope", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_page_newest_first() {
    let app = TestApp::with_config(Backend::Sqlite, PHOTO_PLUGINS).await;
    let (token, _) = photo_user(&app, "many@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(ask_for_a_photo(&app, &token).await);
    }
    let (_, first) = app.get("/photos?limit=2", &token).await;
    let got: Vec<&str> = first["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app
        .get(&format!("/photos?limit=2&before={cursor}"), &token)
        .await;
    assert_eq!(second["photos"][0]["id"], ids[0]);
    assert_eq!(second["photos"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
}
