//! `ava worker` as a real process, on the embedded queue and on Redis: a job survives
//! `kill -9` of its worker mid-handling (its lease runs out, a new worker reclaims it, and
//! exactly one photo results), and SIGTERM lets the job in flight finish before exiting.
//!
//! The worker draws with the real `replicate` plugin against a local server speaking the
//! Replicate predictions API, which holds a request open for as long as the test wants: that
//! is how the test knows the worker is in the middle of a job.

mod common;
#[path = "common/redis.rs"]
mod redis;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ava_host::db::photos::Photo;
use ava_host::db::users::{self, User};
use ava_host::db::{self, Db, now_ms};
use ava_host::jobs::NewJob;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::LocalServer;
use serde_json::json;
use tokio::sync::Notify;

const PNG: &[u8] = include_bytes!("../../plugins/replicate/tests/fixtures/out-0.png");

/// A Replicate that holds the first `hold` creates until `release` is notified (or forever),
/// refuses the next `refuse` (a failed prediction), and answers every other at once with a
/// succeeded one.
#[derive(Clone)]
struct SlowReplicate {
    base: Arc<std::sync::OnceLock<String>>,
    creates: Arc<AtomicUsize>,
    hold: usize,
    refuse: usize,
    arrived: Arc<Notify>,
    release: Arc<Notify>,
}

async fn create(State(r): State<SlowReplicate>) -> impl IntoResponse {
    let n = r.creates.fetch_add(1, Ordering::SeqCst);
    if n < r.hold {
        r.arrived.notify_one();
        r.release.notified().await;
    }
    let base = r.base.get().unwrap();
    if (r.hold..r.hold + r.refuse).contains(&n) {
        return axum::Json(json!({
            "id": format!("pred{n}"),
            "model": "test/portrait",
            "status": "failed",
            "error": "NSFW content detected",
            "urls": { "get": format!("{base}/v1/predictions/pred{n}") },
        }));
    }
    axum::Json(json!({
        "id": format!("pred{n}"),
        "model": "test/portrait",
        "status": "succeeded",
        "output": [format!("{base}/files/out.png")],
        "urls": { "get": format!("{base}/v1/predictions/pred{n}") },
    }))
}

async fn file() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png")], PNG)
}

impl SlowReplicate {
    async fn start(hold: usize) -> (Self, LocalServer) {
        Self::refusing(hold, 0).await
    }

    async fn refusing(hold: usize, refuse: usize) -> (Self, LocalServer) {
        let fake = Self {
            base: Default::default(),
            creates: Default::default(),
            hold,
            refuse,
            arrived: Default::default(),
            release: Default::default(),
        };
        let router = Router::new()
            .route("/v1/models/test/portrait/predictions", post(create))
            .route("/files/out.png", get(file))
            .with_state(fake.clone());
        let server = LocalServer::start(router).await;
        fake.base.set(server.url("")).unwrap();
        (fake, server)
    }
}

/// The folder a worker runs in: its `ava.toml`, its data, and a database with one pending
/// photo and its job, as a chat turn leaves them.
struct Site {
    dir: tempfile::TempDir,
    redis_url: Option<String>,
    /// This test's Redis keys and channel.
    redis_prefix: String,
    db: Db,
    photo_id: String,
    user_id: String,
}

impl Site {
    async fn new(replicate: &str, redis_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ava.toml"),
            common::render(&format!(
                r#"
[plugins.images]
use = "replicate"

[plugins.jobs]
use = ["photo-job"]

[plugin.photo-job]
path = "{{plugins}}/photo-job.wasm"
limits = {{ timeout_ms = 60000 }}

[plugin.replicate]
path = "{{plugins}}/replicate.wasm"
allow_hosts = ["{replicate}"]
limits = {{ timeout_ms = 60000 }}
config = {{ api_base = "{replicate}", model = "test/portrait", api_token = {{ env = "REPLICATE_API_TOKEN" }} }}
"#
            )),
        )
        .unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::symlink(common::shared_cache_dir(), data.join("plugin-cache")).unwrap();
        let db = Db::connect_embedded(&data).await.unwrap();
        db.migrate().await.unwrap();

        let user = User {
            id: db::new_id(),
            email: "worker@example.com".into(),
            display_name: None,
            created_at: now_ms(),
        };
        let persona =
            ava_host::personas::new_persona(&user.id, ava_host::personas::default_persona());
        let now = now_ms();
        let photo = Photo {
            id: db::new_id(),
            user_id: user.id.clone(),
            persona_id: persona.id.clone(),
            message_id: None,
            status: "pending".into(),
            prompt: "a selfie at the beach".into(),
            negative_prompt: None,
            caption: None,
            seed: persona.photo_seed,
            width: 512,
            height: 512,
            content_type: None,
            byte_size: None,
            storage_key: None,
            provider: None,
            model: None,
            failure_reason: None,
            job_id: None,
            created_at: now,
            updated_at: now,
        };
        let job = NewJob::new(
            ava_host::chat::PHOTO_JOB,
            json!({ "photo_id": photo.id }).to_string(),
        );
        let mut tx = db.write().await.unwrap();
        users::insert(&mut **tx, &user, "not-a-hash").await.unwrap();
        db::personas::insert(&mut **tx, &persona).await.unwrap();
        db::photos::insert_many(&mut **tx, db.backend(), &[&photo])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let site = Self {
            dir,
            redis_url,
            redis_prefix: redis::unique_prefix("worker-process"),
            db,
            photo_id: photo.id,
            user_id: user.id,
        };
        // Through the queue the worker will use: with Redis the job goes to the stream.
        site.enqueue(job).await;
        site
    }

    async fn enqueue(&self, job: NewJob) {
        let mut settings = self.settings();
        settings.data_dir = self.data_dir();
        let queue = ava_host::app::job_queue(&settings, &self.db).await.unwrap();
        queue.enqueue(&[job]).await.unwrap();
    }

    fn settings(&self) -> ava_host::config::Settings {
        use clap::Parser;
        #[derive(Parser)]
        struct Args {
            #[command(flatten)]
            settings: ava_host::config::Settings,
        }
        let mut args = vec![
            "ava".to_string(),
            format!("--redis-prefix={}", self.redis_prefix),
        ];
        if let Some(url) = &self.redis_url {
            args.push(format!("--redis-url={url}"));
        }
        Args::parse_from(args).settings
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts `ava worker` here, its leases lasting `visibility_secs`.
    fn worker(&self, visibility_secs: u64) -> Worker {
        let mut command = self.ava(&["worker"]);
        command.env("AVA_JOB_VISIBILITY_SECONDS", visibility_secs.to_string());
        Worker(command.spawn().unwrap())
    }

    /// `ava <args>` in this site's settings: stdout captured, stderr inherited.
    fn ava(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ava"));
        command
            .args(args)
            .env("AVA_CONFIG", self.dir.path().join("ava.toml"))
            .env("AVA_DATA_DIR", self.data_dir())
            .env("AVA_WORKER_SHUTDOWN_SECONDS", "20")
            .env("AVA_JOB_BACKOFF_MS", "50")
            .env("AVA_LOG", "warn")
            .env("REPLICATE_API_TOKEN", "r8_test")
            .env("AVA_REDIS_PREFIX", &self.redis_prefix)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null());
        match &self.redis_url {
            Some(url) => command.env("REDIS_URL", url),
            None => command.env_remove("REDIS_URL"),
        };
        command
    }

    /// Runs `ava <args>` to its end: exit success and stdout.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self.ava(args).stdout(Stdio::piped()).output().unwrap();
        (out.status.success(), String::from_utf8(out.stdout).unwrap())
    }

    async fn photo(&self) -> Photo {
        db::photos::get(self.db.pool(), &self.user_id, &self.photo_id)
            .await
            .unwrap()
            .unwrap()
    }

    /// Waits until the photo is no longer pending.
    async fn settled_photo(&self, within: Duration) -> Photo {
        let deadline = Instant::now() + within;
        loop {
            let photo = self.photo().await;
            if photo.status != "pending" {
                return photo;
            }
            assert!(Instant::now() < deadline, "the photo is still pending");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn cleanup(self) {
        if let Some(url) = &self.redis_url {
            redis::delete_prefix(url, &self.redis_prefix).await;
        }
    }

    fn photo_files(&self) -> Vec<PathBuf> {
        let dir = self.data_dir().join("photos").join(&self.user_id);
        match std::fs::read_dir(&dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A worker process, killed if the test ends (or fails) while it runs: a failed test must
/// not leave it holding the test's output open.
struct Worker(Child);

impl std::ops::Deref for Worker {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Worker {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

async fn wait_for(notify: &Notify, what: &str) {
    tokio::time::timeout(Duration::from_secs(60), notify.notified())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

fn exit_within(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the worker did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

async fn a_job_survives_kill_9_of_its_worker(redis_url: Option<String>) {
    let (replicate, server) = SlowReplicate::start(1).await;
    let site = Site::new(&server.url(""), redis_url).await;

    let mut first = site.worker(2);
    wait_for(&replicate.arrived, "the worker to start drawing").await;
    // Mid-handling: the plugin is waiting on Replicate.
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(site.photo().await.status, "pending");

    let mut second = site.worker(2);
    let photo = site.settled_photo(Duration::from_secs(60)).await;
    assert_eq!(photo.status, "ready", "{photo:?}");
    assert_eq!(photo.provider.as_deref(), Some("replicate"));
    assert_eq!(
        replicate.creates.load(Ordering::SeqCst),
        2,
        "the killed attempt and the reclaimed one"
    );
    let files = site.photo_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), PNG);
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos")
        .fetch_one(site.db.pool())
        .await
        .unwrap();
    assert_eq!(photos, 1);
    replicate.release.notify_waiters();

    // The job is acknowledged: nothing is left to do or dead.
    wait_until_empty(&site).await;
    signal(&second, "TERM");
    assert!(exit_within(&mut second, Duration::from_secs(30)).success());
    site.cleanup().await;
}

async fn wait_until_empty(site: &Site) {
    let settings = {
        let mut s = site.settings();
        s.data_dir = site.data_dir();
        s
    };
    let queue = ava_host::app::job_queue(&settings, &site.db).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue.depth().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the job was not acknowledged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(queue.dead(10).await.unwrap().is_empty());
}

async fn sigterm_lets_the_job_in_flight_finish(redis_url: Option<String>) {
    let (replicate, server) = SlowReplicate::start(1).await;
    let site = Site::new(&server.url(""), redis_url).await;
    // A long lease: only finishing, not a reclaim, can complete the job.
    let mut worker = site.worker(600);
    wait_for(&replicate.arrived, "the worker to start drawing").await;
    signal(&worker, "TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker left its job in flight"
    );
    replicate.release.notify_waiters();
    let status = exit_within(&mut worker, Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    assert_eq!(site.photo().await.status, "ready");
    assert_eq!(replicate.creates.load(Ordering::SeqCst), 1);
    wait_until_empty(&site).await;
    site.cleanup().await;
}

async fn a_dead_job_is_listed_and_retried_from_the_command_line(redis_url: Option<String>) {
    // The first prediction is refused: the photo fails and its job is dead at once.
    let (replicate, server) = SlowReplicate::refusing(0, 1).await;
    let site = Site::new(&server.url(""), redis_url).await;
    let mut worker = site.worker(30);
    let failed = site.settled_photo(Duration::from_secs(60)).await;
    assert_eq!(failed.status, "failed", "{failed:?}");
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("refused"),
        "{failed:?}"
    );

    let (ok, listed) = site.run(&["jobs", "dead"]);
    assert!(ok);
    let line = listed
        .lines()
        .find(|l| l.contains("photo.generate"))
        .unwrap_or_else(|| panic!("no dead photo job in:\n{listed}"));
    let id = line.split_whitespace().next().unwrap().to_string();
    assert!(line.contains("NSFW content detected"), "{line}");

    let (ok, _) = site.run(&["jobs", "retry", "no-such-job"]);
    assert!(!ok, "retrying an unknown job must fail");
    let (ok, said) = site.run(&["jobs", "retry", &id]);
    assert!(ok, "{said}");
    assert!(said.contains(&id), "{said}");

    // The running worker takes it again: now Replicate draws it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while site.photo().await.status != "ready" {
        assert!(
            Instant::now() < deadline,
            "the retried job did not complete"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(replicate.creates.load(Ordering::SeqCst), 2);
    wait_until_empty(&site).await;
    let (ok, listed) = site.run(&["jobs", "dead"]);
    assert!(ok);
    assert_eq!(listed, "no dead jobs\n");
    signal(&worker, "TERM");
    assert!(exit_within(&mut worker, Duration::from_secs(30)).success());
    site.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_job_is_listed_and_retried_from_the_command_line_on_the_embedded_queue() {
    a_dead_job_is_listed_and_retried_from_the_command_line(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_job_is_listed_and_retried_from_the_command_line_on_redis() {
    a_dead_job_is_listed_and_retried_from_the_command_line(Some(redis::url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_kill_9_of_its_worker_on_the_embedded_queue() {
    a_job_survives_kill_9_of_its_worker(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_job_in_flight_finish_on_the_embedded_queue() {
    sigterm_lets_the_job_in_flight_finish(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_kill_9_of_its_worker_on_redis() {
    a_job_survives_kill_9_of_its_worker(Some(redis::url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_job_in_flight_finish_on_redis() {
    sigterm_lets_the_job_in_flight_finish(Some(redis::url())).await;
}
