//! The on-disk cache of compiled plugins, keyed by the binary's hash and the engine's
//! compatibility hash: compiling a Stripe-sized plugin takes seconds, loading it back
//! precompiled takes well under a millisecond.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Loaded from the cache.
    Cached { load: Duration },
    /// Compiled now (and stored).
    Compiled { compile: Duration },
}

/// A folder of `<sha256>-<engine>.cwasm` files.
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

impl CompileCache {
    pub fn new(dir: &Path, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled form of `bytes`: from the cache when present and readable, otherwise
    /// compiled and stored. A corrupt or stale entry is replaced, not trusted.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(Component, Provenance), String> {
        let path = self.path(sha256);
        if path.exists() {
            let started = Instant::now();
            // SAFETY: the file was written by `precompile_component` of an engine with the
            // same compatibility hash (its name says so) into a folder only Ava writes;
            // `deserialize_file` still checks the header and refuses a mismatched artifact.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => {
                    return Ok((
                        component,
                        Provenance::Cached {
                            load: started.elapsed(),
                        },
                    ));
                }
                Err(err) => {
                    tracing::warn!(path = %path.display(), "discarding unusable compiled plugin: {err:#}");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let started = Instant::now();
        let serialized = engine
            .precompile_component(bytes)
            .map_err(|e| format!("it does not compile: {e:#}"))?;
        let compile = started.elapsed();
        if let Err(err) = self.store(&path, &serialized) {
            tracing::warn!(path = %path.display(), "cannot cache the compiled plugin: {err}");
        }
        // SAFETY: `serialized` was produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &serialized) }
            .map_err(|e| format!("its compiled form does not load: {e:#}"))?;
        Ok((component, Provenance::Compiled { compile }))
    }

    fn store(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // A name no other writer uses, in this process or another: the finished file appears
        // whole, by rename, and a file being read (mapped) is never rewritten in place.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }
}
