//! One wasmtime `Engine` per process, its linker, the compile cache and the epoch ticker.
//!
//! The engine uses the pooling allocator sized to the configured concurrency, with memories,
//! tables and stacks kept resident (reset with `memset`, guided by `PAGEMAP_SCAN` where the
//! kernel has it) so concurrent calls do not contend on `madvise`; epoch interruption gives
//! every call a deadline and lets CPU-bound plugins yield; fuel is available per plugin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use url::Url;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
    ProfilingStrategy,
};

use super::artifact;
use super::cache::CompileCache;
use super::ctx::CallCtx;
use super::grants::EnvLookup;
use super::module::{Module, World, WorldPre};
use super::services::Services;

/// How often the epoch advances: the granularity of deadlines, and how often a CPU-bound
/// plugin yields to other tasks.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Bytes of each linear memory kept resident between instances
/// (`AVA_WASM_MEMORY_KEEP_RESIDENT`). Rust plugins touch their stack, data and first heap
/// pages; resetting those in place beats unmapping them, and with `PAGEMAP_SCAN` only the
/// pages a call dirtied are reset.
const MEMORY_KEEP_RESIDENT: usize = 2 << 20;
/// Bytes of each table kept resident (`AVA_WASM_TABLE_KEEP_RESIDENT`).
const TABLE_KEEP_RESIDENT: usize = 64 << 10;
/// Bytes of each async stack kept resident (`AVA_WASM_STACK_KEEP_RESIDENT`).
const STACK_KEEP_RESIDENT: usize = 128 << 10;
/// The wasm stack a plugin may use; the async stack holds it plus host frames.
const MAX_WASM_STACK: usize = 1 << 20;
const ASYNC_STACK: usize = 2 << 20;

/// What a runtime needs from the process.
#[derive(Clone)]
pub struct RuntimeOptions {
    /// Instances that may exist at once, across plugins (the pool's size).
    pub max_instances: u32,
    /// The largest memory any plugin may have, in MiB.
    pub max_memory_mib: u32,
    /// Where compiled plugins are cached.
    pub cache_dir: PathBuf,
    /// Where generated secrets are kept.
    pub secrets_dir: PathBuf,
    /// What `self` means in allowlists, and the base of relative checkout URLs.
    pub public_url: Url,
    /// How configuration values `{ env = "NAME" }` are read.
    pub env: EnvLookup,
    /// The services behind the capabilities.
    pub services: Services,
}

/// The plugin runtime of this process.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallCtx>,
    pub(crate) services: Services,
    /// The one HTTP client behind every plugin's `http-fetch`. It follows no redirects:
    /// the capability follows them itself, checking each hop against the plugin's allowlist.
    pub(crate) http: reqwest::Client,
    /// One permit per pool slot, so a burst waits for a slot instead of failing.
    pub(crate) instances: Arc<Semaphore>,
    pub(crate) options: RuntimeOptions,
    cache: CompileCache,
    /// Compiled, validated modules by content hash: a reload that keeps a plugin's binary
    /// reuses it, and `metadata()` is asked once per binary.
    modules: Mutex<HashMap<String, Arc<Module>>>,
    ticker: EpochTicker,
    /// Every plugin's live figures, by name: they outlive the plugin sets of reloads.
    pub(crate) stats: super::stats::StatsRegistry,
}

impl Runtime {
    /// The live figures of every plugin since the process started.
    pub fn stats(&self) -> &super::stats::StatsRegistry {
        &self.stats
    }

    /// Builds the engine, the linker and the epoch ticker.
    pub fn new(options: RuntimeOptions) -> Result<Arc<Self>, String> {
        let engine = Engine::new(&engine_config(
            options.max_instances,
            options.max_memory_mib,
        ))
        .map_err(|e| format!("cannot start the WebAssembly engine: {e:#}"))?;
        let mut linker = Linker::new(&engine);
        super::imports::add_to_linker(&mut linker)
            .map_err(|e| format!("cannot link the host imports: {e:#}"))?;
        let cache = CompileCache::new(&options.cache_dir, &engine);
        let ticker = EpochTicker::start(engine.clone());
        let http = http_client()?;
        Ok(Arc::new(Self {
            http,
            instances: Arc::new(Semaphore::new(options.max_instances as usize)),
            services: options.services.clone(),
            cache,
            engine,
            linker,
            options,
            modules: Mutex::new(HashMap::new()),
            ticker,
            stats: Default::default(),
        }))
    }

    /// The pool's size.
    pub fn max_instances(&self) -> u32 {
        self.options.max_instances
    }

    /// Reads, inspects, compiles (or loads from cache) and links the component at `path`.
    /// Blocking: compiling takes seconds. The caller asks `metadata()` afterwards.
    pub(crate) fn compile(&self, path: &Path) -> Result<(Arc<Module>, bool), String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let inspected = artifact::inspect(&bytes)?;
        if let Some(module) = self
            .modules
            .lock()
            .expect("modules lock")
            .get(&inspected.sha256)
        {
            return Ok((module.clone(), true));
        }
        artifact::check_contract(&inspected.contract)?;
        let (component, provenance) =
            self.cache
                .load_or_compile(&self.engine, &bytes, &inspected.sha256)?;
        let world = detect_world(&self.engine, &component)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| format!("it needs imports this host does not provide: {e:#}"))?;
        let pre = WorldPre::new(world, instance_pre).map_err(|e| {
            format!(
                "its exports do not match the {} world: {e:#}",
                world.wit_name()
            )
        })?;
        Ok((
            Arc::new(Module {
                sha256: inspected.sha256,
                contract: inspected.contract,
                world,
                pre,
                provenance,
                path: path.to_path_buf(),
                description: Default::default(),
            }),
            false,
        ))
    }

    /// Remembers a described module for later reloads.
    pub(crate) fn remember(&self, module: Arc<Module>) {
        self.modules
            .lock()
            .expect("modules lock")
            .insert(module.sha256.clone(), module);
    }

    /// Forgets modules no loaded plugin uses any more.
    pub(crate) fn retain_modules(&self, keep: &[&str]) {
        self.modules
            .lock()
            .expect("modules lock")
            .retain(|sha, _| keep.contains(&sha.as_str()));
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker.stop();
    }
}

fn http_client() -> Result<reqwest::Client, String> {
    crate::tls::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("ava/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

fn engine_config(max_instances: u32, max_memory_mib: u32) -> Config {
    let instances = max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(8))
        .max_core_instances_per_component(16)
        .total_memories(instances.saturating_mul(2))
        .max_memories_per_component(2)
        .total_tables(instances.saturating_mul(4))
        .max_tables_per_component(4)
        .table_elements(20_000)
        .total_stacks(instances)
        .max_memory_size((max_memory_mib as usize) << 20)
        .linear_memory_keep_resident(env_bytes(
            "AVA_WASM_MEMORY_KEEP_RESIDENT",
            MEMORY_KEEP_RESIDENT,
        ))
        .table_keep_resident(env_bytes(
            "AVA_WASM_TABLE_KEEP_RESIDENT",
            TABLE_KEEP_RESIDENT,
        ))
        .async_stack_keep_resident(env_bytes(
            "AVA_WASM_STACK_KEEP_RESIDENT",
            STACK_KEEP_RESIDENT,
        ))
        // `AVA_WASM_PAGEMAP_SCAN=no` turns it off; by default it is used where the kernel
        // (Linux 6.7+) has it.
        .pagemap_scan(match std::env::var("AVA_WASM_PAGEMAP_SCAN").as_deref() {
            Ok("no") => Enabled::No,
            _ => Enabled::Auto,
        });

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .async_stack_size(ASYNC_STACK)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // `AVA_WASM_PROFILER=perfmap` writes /tmp/perf-PID.map so `perf report` names the
    // functions of plugins instead of showing anonymous JIT addresses.
    if std::env::var("AVA_WASM_PROFILER").as_deref() == Ok("perfmap") {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    config
}

/// A byte count from the environment, or `default`.
fn env_bytes(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which world a component implements, from its exports.
fn detect_world(engine: &Engine, component: &Component) -> Result<World, String> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let has = |name: &str| exports.iter().any(|e| e == name);
    let world = if has("create-checkout") {
        World::BillingProvider
    } else if has("reply") {
        World::ChatPersona
    } else if has("generate") {
        World::ImageProvider
    } else if has("handle") {
        World::JobHandler
    } else {
        return Err(format!(
            "it implements no Ava world (its exports: {})",
            if exports.is_empty() {
                "none".into()
            } else {
                exports.join(", ")
            }
        ));
    };
    Ok(world)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a thread of its own.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("ava-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn the epoch thread");
        Self { stop }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
