//! Hot reload: a change to `ava.toml` or to a plugin binary, or a SIGHUP, reloads the
//! plugins. Changes are debounced: an editor's save or a build writing a file produces a
//! burst of events, and one reload follows the burst.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::registry::Registry;

/// Quiet time after the last event before reloading.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Watches while alive; dropping it stops the watching.
pub struct ReloadWatcher {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ReloadWatcher {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts watching `registry`'s configuration file and plugin binaries, and SIGHUP.
pub fn watch(registry: Arc<Registry>) -> Result<ReloadWatcher, String> {
    let (tx, rx) = mpsc::unbounded_channel::<PathBuf>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })
    .map_err(|e| format!("cannot watch files: {e}"))?;

    // Watch before returning, so a change made right after `watch` returns is seen.
    let mut watcher = watcher;
    let mut watching = BTreeSet::new();
    let files = watched_files(&registry);
    sync_watches(&mut watcher, &mut watching, &files);
    let mut tasks = vec![tokio::spawn(watch_files(
        registry.clone(),
        watcher,
        watching,
        files,
        rx,
    ))];
    #[cfg(unix)]
    tasks.push(tokio::spawn(reload_on_sighup(registry)));
    Ok(ReloadWatcher { tasks })
}

/// The files whose change means a reload, as absolute paths.
fn watched_files(registry: &Registry) -> BTreeSet<PathBuf> {
    std::iter::once(registry.source().path.clone())
        .chain(registry.current().plugin_paths())
        .map(|p| absolute(&p))
        .collect()
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Editors replace files by renaming, so the folders are watched, not the files.
fn sync_watches(
    watcher: &mut notify::RecommendedWatcher,
    watching: &mut BTreeSet<PathBuf>,
    files: &BTreeSet<PathBuf>,
) {
    let dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    for gone in watching.difference(&dirs).cloned().collect::<Vec<_>>() {
        let _ = watcher.unwatch(&gone);
        watching.remove(&gone);
    }
    for dir in dirs.difference(watching).cloned().collect::<Vec<_>>() {
        match watcher.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                watching.insert(dir);
            }
            Err(err) => {
                tracing::warn!(dir = %dir.display(), "cannot watch for plugin changes: {err}")
            }
        }
    }
}

async fn watch_files(
    registry: Arc<Registry>,
    mut watcher: notify::RecommendedWatcher,
    mut watching: BTreeSet<PathBuf>,
    mut files: BTreeSet<PathBuf>,
    mut events: mpsc::UnboundedReceiver<PathBuf>,
) {
    while let Some(path) = events.recv().await {
        if !files.contains(&absolute(&path)) {
            continue;
        }
        // Let the burst end: a file being written fires many events.
        loop {
            match tokio::time::timeout(DEBOUNCE, events.recv()).await {
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        tracing::info!(changed = %path.display(), "plugin configuration changed; reloading");
        // A refused reload is logged and recorded by the registry.
        let _ = registry.reload().await;
        files = watched_files(&registry);
        sync_watches(&mut watcher, &mut watching, &files);
    }
}

#[cfg(unix)]
async fn reload_on_sighup(registry: Arc<Registry>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload by editing ava.toml instead");
        return;
    };
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading plugins");
        let _ = registry.reload().await;
    }
}
