//! The active plugin set, behind an atomic swap.
//!
//! A reload reads the configuration, loads and validates the whole new set, and only then
//! swaps it in; a bad configuration leaves the running set serving and is reported. Calls
//! in flight hold the set they started with and finish on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use super::error::{CallError, LoadError};
use super::grants::Grants;
use super::handles::{Billing, Images, JobHandler, Persona};
use super::limits::Limits;
use super::module::{Description, World};
use super::plugin::LoadedPlugin;
use super::runtime::Runtime;
use crate::config::{self, AvaConfig, PluginConfig};

/// The slots of `[plugins]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Billing,
    Persona,
    Images,
    Jobs,
}

impl Slot {
    /// The world a plugin must implement to serve this slot.
    pub fn world(self) -> World {
        match self {
            Self::Billing => World::BillingProvider,
            Self::Persona => World::ChatPersona,
            Self::Images => World::ImageProvider,
            Self::Jobs => World::JobHandler,
        }
    }

    /// The slot's name in `ava.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Billing => "billing",
            Self::Persona => "persona",
            Self::Images => "images",
            Self::Jobs => "jobs",
        }
    }
}

/// A loaded, validated set of plugins and the slots they serve.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: BTreeMap<String, Arc<LoadedPlugin>>,
    disabled: BTreeMap<String, PathBuf>,
    slots: BTreeMap<Slot, Vec<String>>,
    /// Which job handler handles each kind.
    routes: BTreeMap<String, String>,
    /// Counts successful loads: 1 for the first set, then one more per reload.
    pub generation: u64,
}

impl PluginSet {
    fn slot(&self, slot: Slot) -> Result<Arc<LoadedPlugin>, CallError> {
        self.slots
            .get(&slot)
            .and_then(|names| names.first())
            .and_then(|name| self.plugins.get(name))
            .cloned()
            .ok_or_else(|| {
                CallError::NotAvailable(format!(
                    "no plugin serves the {} slot: set [plugins.{}] in ava.toml",
                    slot.name(),
                    slot.name()
                ))
            })
    }

    /// The active persona.
    pub fn persona(&self) -> Result<Persona, CallError> {
        self.slot(Slot::Persona).map(Persona)
    }

    /// The active billing provider.
    pub fn billing(&self) -> Result<Billing, CallError> {
        self.slot(Slot::Billing).map(Billing)
    }

    /// The active image provider.
    pub fn images(&self) -> Result<Images, CallError> {
        self.slot(Slot::Images).map(Images)
    }

    /// The job handler for jobs of `kind`.
    pub fn job_handler(&self, kind: &str) -> Result<JobHandler, CallError> {
        self.routes
            .get(kind)
            .and_then(|name| self.plugins.get(name))
            .cloned()
            .map(JobHandler)
            .ok_or_else(|| CallError::NotAvailable(format!("no job handler handles `{kind}` jobs")))
    }

    fn named(&self, name: &str, world: World) -> Result<Arc<LoadedPlugin>, CallError> {
        match self.plugins.get(name) {
            Some(p) if p.world() == world => Ok(p.clone()),
            Some(p) => Err(CallError::NotAvailable(format!(
                "plugin `{name}` is a {} plugin, not a {world} plugin",
                p.world()
            ))),
            None => Err(CallError::NotAvailable(format!(
                "no plugin `{name}` is loaded"
            ))),
        }
    }

    /// A loaded billing provider by name, active or not (for `/webhook/{plugin}`).
    pub fn billing_named(&self, name: &str) -> Result<Billing, CallError> {
        self.named(name, World::BillingProvider).map(Billing)
    }

    /// A loaded persona plugin by name, active or not.
    pub fn persona_named(&self, name: &str) -> Result<Persona, CallError> {
        self.named(name, World::ChatPersona).map(Persona)
    }

    /// A loaded plugin by name.
    pub fn plugin(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.get(name)
    }

    /// Every loaded plugin, by name.
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.plugins.values()
    }

    /// Plugins present in the configuration but disabled, with their paths.
    pub fn disabled(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.disabled.iter().map(|(n, p)| (n.as_str(), p.as_path()))
    }

    /// The slots `name` serves.
    pub fn slots_of(&self, name: &str) -> Vec<Slot> {
        self.slots
            .iter()
            .filter(|(_, names)| names.iter().any(|n| n == name))
            .map(|(slot, _)| *slot)
            .collect()
    }

    /// Every job kind and the plugin that handles it.
    pub fn job_routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.routes.iter().map(|(k, p)| (k.as_str(), p.as_str()))
    }

    /// The binaries this set was loaded from, enabled or not: what a watcher watches.
    pub fn plugin_paths(&self) -> Vec<PathBuf> {
        self.plugins
            .values()
            .map(|p| p.module.path.clone())
            .chain(self.disabled.values().cloned())
            .collect()
    }
}

/// One configured plugin and how loading it went.
pub struct PluginReport {
    pub name: String,
    pub path: PathBuf,
    pub enabled: bool,
    /// The slots `ava.toml` gives it.
    pub slots: Vec<Slot>,
    /// The loaded plugin, or why it did not load; `None` when disabled.
    pub outcome: Option<Result<Arc<LoadedPlugin>, LoadError>>,
}

/// Everything loading a configuration found: per plugin, and across plugins.
pub struct LoadReport {
    pub plugins: Vec<PluginReport>,
    /// Problems between plugins: a slot given a plugin of the wrong kind, a job kind handled
    /// twice.
    pub problems: Vec<LoadError>,
    set: PluginSet,
}

impl LoadReport {
    /// Every problem, per plugin and across plugins.
    pub fn errors(&self) -> Vec<LoadError> {
        self.plugins
            .iter()
            .filter_map(|p| p.outcome.as_ref()?.as_ref().err().cloned())
            .chain(self.problems.iter().cloned())
            .collect()
    }

    /// The set, when nothing went wrong.
    pub fn into_set(self) -> Result<PluginSet, LoadError> {
        let mut errors = self.errors();
        match errors.len() {
            0 => Ok(self.set),
            1 => Err(errors.remove(0)),
            _ => Err(LoadError::Many(errors)),
        }
    }
}

/// Loads every enabled plugin of `config` and checks the slots. All problems are reported
/// together, each naming its plugin.
pub async fn load_set(
    rt: &Arc<Runtime>,
    config: &AvaConfig,
    generation: u64,
) -> Result<PluginSet, LoadError> {
    check(rt, config, generation).await.into_set()
}

/// Loads `config` and reports on every plugin, whatever fails.
pub async fn check(rt: &Arc<Runtime>, config: &AvaConfig, generation: u64) -> LoadReport {
    let mut reports = Vec::new();
    let mut set = PluginSet {
        generation,
        ..PluginSet::default()
    };
    for (name, plugin) in &config.plugin {
        let slots = configured_slots(config, name);
        let outcome = if !plugin.enabled {
            set.disabled.insert(name.clone(), plugin.path.clone());
            None
        } else if plugin.limits.memory_mib > rt.options.max_memory_mib {
            Some(Err(LoadError::plugin(
                name,
                format!(
                    "limits.memory_mib = {} is over this process's runtime.max_memory_mib ({}); \
                     raising it needs a restart",
                    plugin.limits.memory_mib, rt.options.max_memory_mib
                ),
            )))
        } else {
            Some(load_plugin(rt, name, plugin).await.map(Arc::new))
        };
        if let Some(Ok(loaded)) = &outcome {
            set.plugins.insert(name.clone(), loaded.clone());
        }
        reports.push(PluginReport {
            name: name.clone(),
            path: plugin.path.clone(),
            enabled: plugin.enabled,
            slots,
            outcome,
        });
    }
    let problems = assign_slots(&mut set, config);
    LoadReport {
        plugins: reports,
        problems,
        set,
    }
}

fn configured_slots(config: &AvaConfig, name: &str) -> Vec<Slot> {
    let singles = [
        (Slot::Billing, &config.plugins.billing),
        (Slot::Persona, &config.plugins.persona),
        (Slot::Images, &config.plugins.images),
    ];
    let mut slots: Vec<Slot> = singles
        .into_iter()
        .filter(|(_, used)| used.as_ref().is_some_and(|u| u.plugin == name))
        .map(|(slot, _)| slot)
        .collect();
    if config.plugins.jobs.plugins.iter().any(|p| p == name) {
        slots.push(Slot::Jobs);
    }
    slots
}

/// Fills the set's slots and job routes; returns what does not fit.
fn assign_slots(set: &mut PluginSet, config: &AvaConfig) -> Vec<LoadError> {
    let mut problems = Vec::new();
    let singles = [
        (Slot::Billing, &config.plugins.billing),
        (Slot::Persona, &config.plugins.persona),
        (Slot::Images, &config.plugins.images),
    ];
    let wanted = singles
        .into_iter()
        .filter_map(|(slot, used)| used.as_ref().map(|u| (slot, u.plugin.clone())))
        .chain(
            config
                .plugins
                .jobs
                .plugins
                .iter()
                .map(|n| (Slot::Jobs, n.clone())),
        );
    for (slot, name) in wanted {
        // A plugin that failed to load was reported already.
        let Some(plugin) = set.plugins.get(&name) else {
            continue;
        };
        if plugin.world() != slot.world() {
            problems.push(LoadError::plugin(
                &name,
                format!(
                    "it serves [plugins.{}], which needs a {} plugin, but it is a {} plugin",
                    slot.name(),
                    slot.world(),
                    plugin.world()
                ),
            ));
            continue;
        }
        set.slots.entry(slot).or_default().push(name);
    }
    for name in set.slots.get(&Slot::Jobs).cloned().unwrap_or_default() {
        for kind in set.plugins[&name].kinds() {
            if let Some(other) = set.routes.insert(kind.clone(), name.clone()) {
                problems.push(LoadError::plugin(
                    &name,
                    format!("it handles `{kind}` jobs, and so does `{other}`: keep one in [plugins.jobs]"),
                ));
            }
        }
    }
    problems
}

async fn load_plugin(
    rt: &Arc<Runtime>,
    name: &str,
    config: &PluginConfig,
) -> Result<LoadedPlugin, LoadError> {
    let fail = |message: String| LoadError::plugin(name, message);
    let path = config.path.clone();
    let compiler = rt.clone();
    let (module, _reused) = tokio::task::spawn_blocking(move || compiler.compile(&path))
        .await
        .map_err(|e| fail(format!("compilation crashed: {e}")))?
        .map_err(fail)?;

    if module.description.get().is_none() {
        let limits = Limits::from(&config.limits);
        let grants = Grants::unconfigured(name, limits);
        let probe = LoadedPlugin::new(name, module.clone(), grants, rt.clone());
        let info = probe
            .metadata()
            .await
            .map_err(|e| fail(format!("metadata() failed: {e}")))?;
        validate_info(&info, &module.contract).map_err(fail)?;
        let kinds = if module.world == World::JobHandler {
            probe
                .job_kinds()
                .await
                .map_err(|e| fail(format!("kinds() failed: {e}")))?
        } else {
            Vec::new()
        };
        // Two loads racing on one binary describe it the same way; the first one wins.
        let _ = module.description.set(Description { info, kinds });
        rt.remember(module.clone());
    }

    let info = &module.description.get().expect("described above").info;
    let grants = Grants::resolve(
        name,
        config,
        info,
        &rt.options.env,
        &rt.options.secrets_dir,
        &rt.options.public_url,
    )
    .map_err(|problems| fail(problems.join("; ")))?;
    Ok(LoadedPlugin::new(name, module, grants, rt.clone()))
}

fn validate_info(info: &super::types::PluginInfo, section: &semver::Version) -> Result<(), String> {
    let declared = semver::Version::parse(&info.contract).map_err(|e| {
        format!(
            "metadata() gives contract {:?}, not semver: {e}",
            info.contract
        )
    })?;
    if &declared != section {
        return Err(format!(
            "metadata() says contract {declared} but the binary is marked {section}: it was \
             not built with a consistent ava-sdk"
        ));
    }
    semver::Version::parse(&info.version)
        .map_err(|e| format!("its version {:?} is not semver: {e}", info.version))?;
    let mut seen = std::collections::BTreeSet::new();
    for key in &info.config {
        if !seen.insert(key.name.as_str()) {
            return Err(format!(
                "metadata() declares config key `{}` twice",
                key.name
            ));
        }
    }
    Ok(())
}

/// The binaries `config` names, enabled or not.
fn config_paths(config: &AvaConfig) -> impl Iterator<Item = PathBuf> + '_ {
    config.plugin.values().map(|p| p.path.clone())
}

/// Where the configuration comes from, so a reload can read it again.
#[derive(Clone)]
pub struct ConfigSource {
    pub path: PathBuf,
    /// The environment at reload time (for `AVA__` overrides).
    pub env: Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>,
    /// Whether a missing file means "no plugins" rather than an error.
    pub optional: bool,
}

impl ConfigSource {
    /// The file at `path`, overridden by the process environment.
    pub fn file(path: &Path, optional: bool) -> Self {
        Self {
            path: path.to_path_buf(),
            env: Arc::new(|| std::env::vars().collect()),
            optional,
        }
    }

    pub fn read(&self) -> Result<AvaConfig, LoadError> {
        config::load(&self.path, (self.env)(), self.optional)
            .map_err(|e| LoadError::Config(e.to_string()))
    }
}

/// The outcome of the last reload, for the operator.
#[derive(Debug, Clone)]
pub struct ReloadStatus {
    pub generation: u64,
    pub loaded_at: SystemTime,
    /// Why the last reload was refused, if it was; cleared by the next success.
    pub last_error: Option<String>,
    pub last_attempt_at: SystemTime,
    /// The last refused reload, kept after later successes: what an operator looks for
    /// after an edit "did nothing".
    pub last_refused: Option<RefusedReload>,
}

/// A reload that was refused: when, and why.
#[derive(Debug, Clone)]
pub struct RefusedReload {
    pub at: SystemTime,
    pub error: String,
}

/// The process's plugins: the active set, and how to reload it.
pub struct Registry {
    rt: Arc<Runtime>,
    current: ArcSwap<PluginSet>,
    source: ConfigSource,
    reload_lock: tokio::sync::Mutex<AvaConfig>,
    status: Mutex<ReloadStatus>,
    /// The binaries named by the latest configuration read (applied or refused) and by the
    /// running set; see [`Registry::named_paths`].
    named: tokio::sync::watch::Sender<BTreeSet<PathBuf>>,
}

impl Registry {
    /// Loads the configuration from `source`; fails when the first set does not load.
    pub async fn start(rt: Arc<Runtime>, source: ConfigSource) -> Result<Arc<Self>, LoadError> {
        let config = source.read()?;
        let set = load_set(&rt, &config, 1).await?;
        metrics::gauge!("ava_plugin_generation").set(1.0);
        let now = SystemTime::now();
        Ok(Arc::new(Self {
            rt,
            current: ArcSwap::from_pointee(set),
            source,
            named: tokio::sync::watch::Sender::new(config_paths(&config).collect()),
            reload_lock: tokio::sync::Mutex::new(config),
            status: Mutex::new(ReloadStatus {
                generation: 1,
                loaded_at: now,
                last_error: None,
                last_attempt_at: now,
                last_refused: None,
            }),
        }))
    }

    /// The active set. Hold it for the length of one operation.
    pub fn current(&self) -> Arc<PluginSet> {
        self.current.load_full()
    }

    /// The runtime behind the plugins.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }

    /// Where the configuration is read from.
    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// The plugin binaries named by the latest configuration read, applied or refused, and by
    /// the running set: what a watcher watches besides the configuration file. It changes
    /// when a reload reads a configuration naming other binaries; a configuration that does
    /// not parse leaves it as it was.
    pub fn named_paths(&self) -> tokio::sync::watch::Receiver<BTreeSet<PathBuf>> {
        self.named.subscribe()
    }

    /// Records the binaries `config` names and those of the running set.
    fn publish_named(&self, config: &AvaConfig) {
        let named: BTreeSet<PathBuf> = config_paths(config)
            .chain(self.current.load().plugin_paths())
            .collect();
        self.named.send_if_modified(|paths| {
            let changed = *paths != named;
            *paths = named;
            changed
        });
    }

    /// How the last reload went.
    pub fn status(&self) -> ReloadStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// Reads the configuration again and swaps in the new set if it loads. On failure the
    /// running set stays and the error is recorded and returned.
    pub async fn reload(&self) -> Result<u64, LoadError> {
        let mut running = self.reload_lock.lock().await;
        let result = self.try_reload(&running).await;
        let mut status = self.status.lock().expect("status lock");
        status.last_attempt_at = SystemTime::now();
        match result {
            Ok((generation, mut config)) => {
                // `[app]` and `[runtime]` are still those read at start: keep them, so the
                // next reload compares against what is applied (reverting an edit is silent).
                config.app = running.app.clone();
                config.runtime = running.runtime.clone();
                *running = config;
                status.generation = generation;
                status.loaded_at = status.last_attempt_at;
                status.last_error = None;
                tracing::info!(generation, "plugins reloaded");
                metrics::counter!("ava_plugin_reloads_total", "outcome" => "applied").increment(1);
                metrics::gauge!("ava_plugin_generation").set(generation as f64);
                Ok(generation)
            }
            Err(err) => {
                tracing::error!(error = %err, "plugin reload refused; the running plugins keep serving");
                status.last_error = Some(err.to_string());
                status.last_refused = Some(RefusedReload {
                    at: status.last_attempt_at,
                    error: err.to_string(),
                });
                metrics::counter!("ava_plugin_reloads_total", "outcome" => "refused").increment(1);
                Err(err)
            }
        }
    }

    async fn try_reload(&self, running: &AvaConfig) -> Result<(u64, AvaConfig), LoadError> {
        let config = self.source.read()?;
        // Named even if refused: a reload waiting for a missing binary comes when it appears.
        self.publish_named(&config);
        // Read once at start (the engine; the product's limits, held by every handler), so
        // a reload cannot apply them; say so rather than let an edit look applied.
        for (section, changed) in [
            ("[runtime]", config.runtime != running.runtime),
            ("[app]", config.app != running.app),
        ] {
            if changed {
                tracing::warn!("{section} settings changed: they take effect at the next restart");
            }
        }
        let generation = self.current.load().generation + 1;
        let set = load_set(&self.rt, &config, generation).await?;
        let shas: Vec<String> = set.plugins().map(|p| p.module.sha256.clone()).collect();
        self.current.store(Arc::new(set));
        // The old set's binaries are no longer needed.
        self.publish_named(&config);
        self.rt
            .retain_modules(&shas.iter().map(String::as_str).collect::<Vec<_>>());
        Ok((generation, config))
    }
}
