//! Hot reload: a change to `ava.toml` or to a plugin binary it names, or a SIGHUP, reloads the
//! plugins.
//!
//! - **What is watched.** Editors and build scripts replace a file by writing a temporary one
//!   and renaming it into place, which a watch on the file itself would miss; so the folders
//!   holding the watched files are watched (non-recursively, each once, by its real path),
//!   and their events are filtered down to the watched files ([`relevant`]). Plugin binaries
//!   may live in other folders than `ava.toml` (`dist/plugins/`): each such folder is watched
//!   too, and only the binaries named there count. Anything else written in these folders (a
//!   log, an editor's swap file, a build's other outputs) is ignored, so it can neither start
//!   a reload nor hold one back.
//! - **Which files.** `ava.toml` and the binaries named by the latest configuration read,
//!   applied or refused, and by the running set ([`Registry::named_paths`]): a refused
//!   configuration naming a binary not built yet reloads when the binary appears. They follow
//!   every reload, whoever asked for it (this watcher, SIGHUP, the admin API).
//! - **Symlinks.** A watched path that is a symlink is watched as the link (replacing the link
//!   is a change) and as the file it resolves to (a change behind the link is one too). A
//!   Kubernetes ConfigMap mounts `ava.toml -> ..data/ava.toml` with `..data` a symlink to a
//!   timestamped folder, and an update swaps `..data` and deletes the old folder: the deletion
//!   of the resolved file is the event, and the next resolution follows the new folder.
//! - **When.** A burst of events (an editor's save, a build writing a binary) brings one
//!   reload, [`QUIET`] after its last event; a file rewritten without pause still brings one
//!   within [`MAX_DELAY`] of its first change ([`Debounce`]).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::registry::Registry;

/// Quiet time after the last relevant event before reloading: long enough for an editor's
/// save or a build copying a binary to end, short enough to feel immediate.
const QUIET: Duration = Duration::from_millis(300);

/// The longest a reload waits after the first relevant event, however long the events go on.
/// Several quiet periods, so an ordinary burst ends well before it; a file still being written
/// then is read half-written, which refuses the reload (the running set keeps serving) and the
/// end of the writes brings another.
const MAX_DELAY: Duration = Duration::from_secs(2);
const _: () = assert!(
    MAX_DELAY.as_millis() >= 4 * QUIET.as_millis(),
    "an ordinary burst would be cut short"
);

/// Watches while alive; dropping it stops the watching (a reload already started finishes).
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
    let (tx, rx) = mpsc::unbounded_channel::<Change>();
    // The notify thread filters, so the noise of a busy folder never reaches the debounce.
    let filter = Arc::new(Mutex::new(BTreeSet::<PathBuf>::new()));
    let files = filter.clone();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                let files = files.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(change) = relevant(&event, &files) {
                    let _ = tx.send(change);
                }
            }
            Err(err) => tracing::warn!("watching for plugin changes: {err}"),
        })
        .map_err(|e| format!("cannot watch files: {e}"))?;

    // Watch before returning, so a change made right after `watch` returns is seen.
    let mut named = registry.named_paths();
    let mut watched = Watched {
        filter,
        folders: BTreeSet::new(),
    };
    watched.sync(&mut watcher, &registry, &named.borrow_and_update());
    let mut tasks = vec![tokio::spawn(watch_files(
        registry.clone(),
        watcher,
        watched,
        named,
        rx,
    ))];
    #[cfg(unix)]
    tasks.push(tokio::spawn(reload_on_sighup(registry)));
    Ok(ReloadWatcher { tasks })
}

/// What an event says about the watched files.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// This watched file was created, written, renamed, removed or had its metadata changed.
    File(PathBuf),
    /// The system dropped events: anything may have changed.
    Lost,
}

/// Whether `event` concerns one of `files` (as [`Targets`] spells them).
///
/// Every kind counts but access: opening, reading and closing a file changes nothing, and the
/// reload itself reads every watched file. A rename counts for its destination (a temporary
/// file renamed into place) and its source (the watched file renamed away).
fn relevant(event: &notify::Event, files: &BTreeSet<PathBuf>) -> Option<Change> {
    if event.need_rescan() {
        return Some(Change::Lost);
    }
    if matches!(event.kind, EventKind::Access(_)) {
        return None;
    }
    event
        .paths
        .iter()
        .find(|path| files.contains(*path))
        .map(|path| Change::File(path.clone()))
}

/// The files whose events mean a reload, spelled as their events spell them, and the folders
/// to watch for those events.
#[derive(Debug, Default, PartialEq, Eq)]
struct Targets {
    files: BTreeSet<PathBuf>,
    folders: BTreeSet<PathBuf>,
}

impl Targets {
    /// For each of `paths`: the path itself, in its folder's real path (the folder is watched
    /// by its real path, so that is how its events name it; the name itself is kept, since it
    /// may be a symlink that gets replaced); and the file it resolves to, if it is a symlink.
    /// A file that does not exist yet counts by its name, so its creation is seen.
    fn of(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut targets = Self::default();
        for path in paths {
            let path = std::path::absolute(&path).unwrap_or(path);
            let as_named = match (path.parent(), path.file_name()) {
                (Some(folder), Some(name)) => std::fs::canonicalize(folder)
                    .map(|folder| folder.join(name))
                    .unwrap_or_else(|_| path.clone()),
                _ => path.clone(),
            };
            let resolved = std::fs::canonicalize(&path).ok();
            for file in std::iter::once(as_named).chain(resolved) {
                if let Some(folder) = file.parent() {
                    targets.folders.insert(folder.to_path_buf());
                }
                targets.files.insert(file);
            }
        }
        targets
    }
}

/// What is being watched: the filter the notify thread applies, and the folders it watches.
struct Watched {
    filter: Arc<Mutex<BTreeSet<PathBuf>>>,
    folders: BTreeSet<PathBuf>,
}

impl Watched {
    /// Watches the configuration file and `named`, resolved again (a symlink may point
    /// elsewhere since the last time).
    fn sync(
        &mut self,
        watcher: &mut notify::RecommendedWatcher,
        registry: &Registry,
        named: &BTreeSet<PathBuf>,
    ) {
        let targets = Targets::of(
            std::iter::once(registry.source().path.clone()).chain(named.iter().cloned()),
        );
        for gone in self
            .folders
            .difference(&targets.folders)
            .cloned()
            .collect::<Vec<_>>()
        {
            // Fails when the folder was deleted, which already ended its watch.
            let _ = watcher.unwatch(&gone);
            self.folders.remove(&gone);
        }
        for folder in targets
            .folders
            .difference(&self.folders)
            .cloned()
            .collect::<Vec<_>>()
        {
            match watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.folders.insert(folder);
                }
                // Tried again at the next sync.
                Err(err) => tracing::warn!(
                    folder = %folder.display(),
                    "cannot watch for plugin changes: {err}; reload with SIGHUP instead"
                ),
            }
        }
        *self.filter.lock().unwrap_or_else(PoisonError::into_inner) = targets.files;
    }
}

/// When to reload after relevant events: [`QUIET`] after the last one, and no later than
/// [`MAX_DELAY`] after the first.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Debounce {
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Debounce {
    /// A relevant event at `now`.
    fn event(&mut self, now: Instant) {
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// When the reload is due; `None` without an event since the last reload.
    fn due(&self) -> Option<Instant> {
        Some((self.last? + QUIET).min(self.first? + MAX_DELAY))
    }
}

async fn watch_files(
    registry: Arc<Registry>,
    mut watcher: notify::RecommendedWatcher,
    mut watched: Watched,
    mut named: tokio::sync::watch::Receiver<BTreeSet<PathBuf>>,
    mut events: mpsc::UnboundedReceiver<Change>,
) {
    let mut debounce = Debounce::default();
    let mut changed = Change::Lost;
    // The reload runs beside this loop, so the watch list follows what it reads while it
    // loads, and events during it are kept for the next one.
    let mut reloading: Option<JoinHandle<()>> = None;
    loop {
        // One reload at a time; one that comes due meanwhile starts when it ends.
        let due = debounce.due().filter(|_| reloading.is_none());
        tokio::select! {
            event = events.recv() => {
                let Some(change) = event else { return };
                debounce.event(Instant::now());
                changed = change;
            }
            result = named.changed() => {
                if result.is_err() {
                    return;
                }
                watched.sync(&mut watcher, &registry, &named.borrow_and_update());
            }
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                debounce = Debounce::default();
                match &changed {
                    Change::File(path) => tracing::info!(
                        changed = %path.display(),
                        "plugin configuration changed; reloading"
                    ),
                    Change::Lost => tracing::info!(
                        "file events were lost; reloading in case the plugins changed"
                    ),
                }
                let registry = registry.clone();
                reloading = Some(tokio::spawn(async move {
                    // A refused reload is logged and recorded by the registry.
                    let _ = registry.reload().await;
                }));
            }
            _ = async { reloading.as_mut().expect("checked by the guard").await },
                if reloading.is_some() =>
            {
                reloading = None;
                // The paths may be the same but resolve elsewhere now (a swapped symlink).
                watched.sync(&mut watcher, &registry, &named.borrow_and_update());
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, Flag, ModifyKind};
    use notify::event::{MetadataKind, RemoveKind, RenameMode};

    fn event(kind: EventKind, paths: &[&str]) -> notify::Event {
        paths.iter().fold(notify::Event::new(kind), |e, p| {
            e.add_path(PathBuf::from(p))
        })
    }

    fn watched() -> BTreeSet<PathBuf> {
        ["/etc/ava/ava.toml", "/srv/plugins/persona.wasm"]
            .into_iter()
            .map(PathBuf::from)
            .collect()
    }

    fn file(path: &str) -> Option<Change> {
        Some(Change::File(PathBuf::from(path)))
    }

    #[test]
    fn writing_a_watched_file_is_a_change() {
        let kind = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        assert_eq!(
            relevant(&event(kind, &["/etc/ava/ava.toml"]), &watched()),
            file("/etc/ava/ava.toml")
        );
        assert_eq!(
            relevant(&event(kind, &["/srv/plugins/persona.wasm"]), &watched()),
            file("/srv/plugins/persona.wasm")
        );
    }

    #[test]
    fn creating_removing_or_touching_a_watched_file_is_a_change() {
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Remove(RemoveKind::File),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
            EventKind::Any,
        ] {
            assert_eq!(
                relevant(&event(kind, &["/etc/ava/ava.toml"]), &watched()),
                file("/etc/ava/ava.toml"),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn other_files_in_a_watched_folder_are_not_a_change() {
        for path in [
            "/etc/ava/ava.log",
            "/etc/ava/.ava.toml.swp",
            "/etc/ava/ava.toml~",
            "/etc/ava/4913",
            "/etc/ava/ava.toml.tmp",
            "/srv/plugins/other.wasm",
            "/etc/ava",
        ] {
            for kind in [
                EventKind::Create(CreateKind::File),
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                EventKind::Remove(RemoveKind::File),
            ] {
                assert_eq!(relevant(&event(kind, &[path]), &watched()), None, "{path}");
            }
        }
    }

    #[test]
    fn reading_a_watched_file_is_not_a_change() {
        for kind in [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Close(AccessMode::Read),
            AccessKind::Close(AccessMode::Write),
        ] {
            let e = event(EventKind::Access(kind), &["/etc/ava/ava.toml"]);
            assert_eq!(relevant(&e, &watched()), None, "{kind:?}");
        }
    }

    #[test]
    fn a_temporary_file_renamed_into_place_is_a_change() {
        let name = |mode| EventKind::Modify(ModifyKind::Name(mode));
        let tmp = "/etc/ava/ava.toml.tmp";
        assert_eq!(
            relevant(&event(name(RenameMode::From), &[tmp]), &watched()),
            None
        );
        assert_eq!(
            relevant(
                &event(name(RenameMode::To), &["/etc/ava/ava.toml"]),
                &watched()
            ),
            file("/etc/ava/ava.toml")
        );
        assert_eq!(
            relevant(
                &event(name(RenameMode::Both), &[tmp, "/etc/ava/ava.toml"]),
                &watched()
            ),
            file("/etc/ava/ava.toml")
        );
    }

    #[test]
    fn a_watched_file_renamed_away_is_a_change() {
        let e = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            &["/etc/ava/ava.toml"],
        );
        assert_eq!(relevant(&e, &watched()), file("/etc/ava/ava.toml"));
    }

    #[test]
    fn lost_events_are_a_change() {
        let e = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(relevant(&e, &watched()), Some(Change::Lost));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_is_watched_in_the_real_path_of_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("v1")).unwrap();
        std::fs::write(real.join("v1/ava.toml"), "").unwrap();
        std::os::unix::fs::symlink(real.join("v1"), real.join("current")).unwrap();

        let targets = Targets::of([real.join("current/ava.toml")]);
        assert_eq!(
            targets.files,
            BTreeSet::from([real.join("v1/ava.toml")]),
            "the folder is resolved, and resolving the file gives the same path"
        );
        assert_eq!(targets.folders, BTreeSet::from([real.join("v1")]));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_watched_as_itself_and_as_what_it_points_to() {
        // A Kubernetes ConfigMap's layout.
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("..2024_01")).unwrap();
        std::fs::write(real.join("..2024_01/ava.toml"), "").unwrap();
        std::os::unix::fs::symlink("..2024_01", real.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/ava.toml", real.join("ava.toml")).unwrap();

        let targets = Targets::of([real.join("ava.toml")]);
        assert_eq!(
            targets.files,
            BTreeSet::from([real.join("ava.toml"), real.join("..2024_01/ava.toml")])
        );
        assert_eq!(
            targets.folders,
            BTreeSet::from([real.clone(), real.join("..2024_01")])
        );
    }

    #[test]
    fn a_file_not_there_yet_is_watched_by_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        let targets = Targets::of([real.join("later.wasm")]);
        assert_eq!(targets.files, BTreeSet::from([real.join("later.wasm")]));
        assert_eq!(targets.folders, BTreeSet::from([real]));
    }

    #[test]
    fn nothing_is_due_without_an_event() {
        assert_eq!(Debounce::default().due(), None);
    }

    #[test]
    fn a_reload_is_due_a_quiet_period_after_the_last_event() {
        let t0 = Instant::now();
        let mut debounce = Debounce::default();
        debounce.event(t0);
        assert_eq!(debounce.due(), Some(t0 + QUIET));
        // A burst pushes it back to the burst's end.
        for ms in [50, 100, 250] {
            debounce.event(t0 + Duration::from_millis(ms));
        }
        assert_eq!(
            debounce.due(),
            Some(t0 + Duration::from_millis(250) + QUIET)
        );
    }

    #[test]
    fn events_without_pause_cannot_postpone_a_reload_past_the_max_delay() {
        let t0 = Instant::now();
        let mut debounce = Debounce::default();
        // An event every 50 ms, for far longer than the max delay: the reload is due when
        // the max delay has passed, not when the events stop.
        let mut now = t0;
        while now < t0 + 10 * MAX_DELAY {
            debounce.event(now);
            if debounce.due().is_some_and(|due| due <= now) {
                break;
            }
            now += Duration::from_millis(50);
        }
        assert_eq!(debounce.due(), Some(t0 + MAX_DELAY));
        assert!(now <= t0 + MAX_DELAY + Duration::from_millis(50));
    }
}
