//! The reload watcher: which file changes bring a reload, and how soon. Only `ava.toml` and
//! the plugin binaries it names count; anything else written beside them neither brings a
//! reload nor holds one back.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ava_host::plugins::watch;
use common::{TestHost, chat, plugin_path, render};

/// How soon an edit must bring its reload: the watcher's quiet period (0.3 s) and the reload
/// itself, with room for a loaded two-core machine. (Before this bound existed, a file written
/// every 100 ms beside `ava.toml` postponed the reload for as long as the writes went on.)
const PROMPTLY: Duration = Duration::from_secs(3);

/// How soon a file rewritten without pause must bring its reload: the watcher's max delay
/// (2 s), and the same room.
const WITHIN_MAX_DELAY: Duration = Duration::from_secs(5);

/// How often the background writes happen.
const BUSY: Duration = Duration::from_millis(50);

fn persona_config(active: &str) -> String {
    format!(
        r#"
        [plugins.persona]
        use = "{active}"

        [plugin.first]
        path = "{{plugins}}/local-persona.wasm"

        [plugin.second]
        path = "{{plugins}}/misbehave.wasm"
        "#
    )
}

fn single_persona_config(name: &str, binary: &Path) -> String {
    format!(
        "[plugins.persona]\nuse = \"{name}\"\n[plugin.{name}]\npath = \"{}\"\n",
        binary.display()
    )
}

/// Writes files on a thread of its own, one round every `every`, until dropped.
struct Scribbler {
    stop: Arc<AtomicBool>,
    rounds: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scribbler {
    fn start(every: Duration, round: impl Fn(u64) + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicU64::new(0));
        let (stopping, counting) = (stop.clone(), rounds.clone());
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                round(counting.fetch_add(1, Ordering::SeqCst));
                std::thread::sleep(every);
            }
        });
        Self {
            stop,
            rounds,
            thread: Some(thread),
        }
    }

    fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::SeqCst)
    }
}

impl Drop for Scribbler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a log and an editor write in `dir` while ava.toml is open: a log line, the swap file,
/// and the file vim creates and deletes to test it may write there.
fn log_and_editor_noise(dir: PathBuf) -> impl Fn(u64) + Send + 'static {
    move |round| {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("ava.log"))
            .unwrap();
        writeln!(log, "line {round}").unwrap();
        std::fs::write(dir.join(".ava.toml.swp"), format!("swap {round}")).unwrap();
        std::fs::write(dir.join("4913"), "").unwrap();
        std::fs::remove_file(dir.join("4913")).unwrap();
    }
}

/// Replaces `path` with `contents` as an editor or a build does: a temporary file beside it,
/// renamed into place.
fn replace(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Waits until the registry reaches `generation`, at most `within`; returns how long it took.
async fn wait_for_generation(host: &TestHost, generation: u64, within: Duration) -> Duration {
    let start = Instant::now();
    while host.registry.current().generation < generation {
        assert!(
            start.elapsed() < within,
            "no reload to generation {generation} within {within:?}; status: {:?}",
            host.registry.status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

fn persona_name(host: &TestHost) -> String {
    host.registry
        .current()
        .persona()
        .unwrap()
        .name()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_reloads_promptly_while_other_files_in_its_folder_are_written() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    let _noise = Scribbler::start(BUSY, log_and_editor_noise(host.dir.path().to_path_buf()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    host.write_config(&persona_config("second"));
    let took = wait_for_generation(&host, 2, PROMPTLY).await;
    eprintln!("reloaded {took:?} after the edit, with a write every {BUSY:?} beside it");
    assert_eq!(persona_name(&host), "second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_other_files_beside_the_watched_ones_never_reload() {
    let bin = tempfile::tempdir().unwrap();
    let binary = bin.path().join("persona.wasm");
    std::fs::copy(plugin_path("local-persona"), &binary).unwrap();
    let host = TestHost::start(&single_persona_config("p", &binary), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();

    let editor = log_and_editor_noise(host.dir.path().to_path_buf());
    let bin_dir = bin.path().to_path_buf();
    let noise = Scribbler::start(BUSY, move |round| {
        editor(round);
        // A build writing other outputs beside the plugin's binary.
        std::fs::write(bin_dir.join("other.wasm"), round.to_le_bytes()).unwrap();
        std::fs::write(bin_dir.join("build.log"), format!("step {round}")).unwrap();
    });
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert!(noise.rounds() > 20, "the writes did not happen");
    let status = host.registry.status();
    assert_eq!(host.registry.current().generation, 1);
    assert_eq!(
        status.last_attempt_at, status.loaded_at,
        "a reload was attempted: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_file_rewritten_without_pause_still_reloads_within_the_max_delay() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();

    // Every rewrite is whole (renamed into place), so whichever one a reload reads applies.
    let config_path = host.config_path.clone();
    let config = render(&persona_config("second"));
    let writes = Scribbler::start(BUSY, move |_| replace(&config_path, config.as_bytes()));
    let took = wait_for_generation(&host, 2, WITHIN_MAX_DELAY).await;
    eprintln!("reloaded {took:?} after the first of writes every {BUSY:?}");

    let rounds = writes.rounds();
    tokio::time::sleep(BUSY * 4).await;
    assert!(
        writes.rounds() > rounds,
        "the writes had stopped: the reload did not happen while they went on"
    );
    assert_eq!(persona_name(&host), "second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_named_by_a_refused_config_reloads_when_it_appears() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    // A folder of its own, watched by nothing so far.
    let bin = tempfile::tempdir().unwrap();
    let binary = bin.path().join("extra.wasm");

    host.write_config(&single_persona_config("extra", &binary));
    let start = Instant::now();
    while host.registry.status().last_refused.is_none() {
        assert!(start.elapsed() < PROMPTLY, "the edit brought no reload");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(host.registry.current().generation, 1);
    // The watcher takes up the refused configuration's binaries as that reload ends.
    tokio::time::sleep(Duration::from_millis(300)).await;

    std::fs::copy(plugin_path("local-persona"), &binary).unwrap();
    let took = wait_for_generation(&host, 2, PROMPTLY).await;
    eprintln!("reloaded {took:?} after the missing binary appeared");
    assert_eq!(persona_name(&host), "extra");
    let reply = host
        .registry
        .current()
        .persona()
        .unwrap()
        .reply(&chat("hi"))
        .await;
    assert!(reply.is_ok(), "{reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_replaced_in_another_busy_folder_reloads_promptly() {
    let bin = tempfile::tempdir().unwrap();
    let binary = bin.path().join("persona.wasm");
    std::fs::copy(plugin_path("local-persona"), &binary).unwrap();
    let host = TestHost::start(&single_persona_config("p", &binary), &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    let bin_dir = bin.path().to_path_buf();
    let _noise = Scribbler::start(BUSY, move |round| {
        std::fs::write(bin_dir.join("build.log"), format!("step {round}")).unwrap();
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    replace(&binary, &std::fs::read(plugin_path("misbehave")).unwrap());
    let took = wait_for_generation(&host, 2, PROMPTLY).await;
    eprintln!("reloaded {took:?} after the binary was replaced");
    let reply = host
        .registry
        .current()
        .persona()
        .unwrap()
        .reply(&chat("hello"))
        .await
        .unwrap();
    assert_eq!(reply.text, "misbehave: hello");
}

/// Publishes `config` as Kubernetes updates a mounted ConfigMap: a new folder, a `..data`
/// symlink to it swapped in by a rename, the old folder deleted.
#[cfg(unix)]
fn publish_configmap(dir: &Path, version: &str, config: &str, old: Option<&str>) {
    let folder = format!("..{version}");
    std::fs::create_dir(dir.join(&folder)).unwrap();
    std::fs::write(dir.join(&folder).join("ava.toml"), render(config)).unwrap();
    std::os::unix::fs::symlink(&folder, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(format!("..{old}"))).unwrap();
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_update_reloads() {
    let host = TestHost::start(&persona_config("first"), &[]).await;
    let dir = host.dir.path();
    // ava.toml -> ..data/ava.toml, ..data -> ..v1
    publish_configmap(dir, "v1", &persona_config("first"), None);
    std::fs::remove_file(&host.config_path).unwrap();
    std::os::unix::fs::symlink("..data/ava.toml", &host.config_path).unwrap();
    let _watcher = watch(host.registry.clone()).unwrap();

    publish_configmap(dir, "v2", &persona_config("second"), Some("v1"));
    let took = wait_for_generation(&host, 2, PROMPTLY).await;
    eprintln!("reloaded {took:?} after the ConfigMap update");
    assert_eq!(persona_name(&host), "second");

    // The watcher follows the link to its new folder as that reload ends.
    tokio::time::sleep(Duration::from_millis(300)).await;
    publish_configmap(dir, "v3", &persona_config("first"), Some("v2"));
    wait_for_generation(&host, 3, PROMPTLY).await;
    assert_eq!(persona_name(&host), "first");
}
