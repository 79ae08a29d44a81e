//! Live figures per plugin since the process started, for the operator dashboard: calls,
//! errors, faults by kind, and latency quantiles. Kept by name on the runtime, so a reload
//! of the same plugin keeps counting. Lock-free on the call path: atomics only, into a
//! fixed set of latency buckets (quantiles read from the buckets, as Prometheus does).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

/// Upper bounds of the latency buckets, in microseconds: about 25% apart from 10 µs to
/// ~2 min, so a quantile read from them is within a quarter of the true value.
fn bucket_bounds() -> &'static [u64] {
    static BOUNDS: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut bounds = Vec::new();
        let mut bound = 10.0_f64;
        while bound < 120_000_000.0 {
            bounds.push(bound.round() as u64);
            bound *= 1.25;
        }
        bounds.push(u64::MAX);
        bounds
    })
}

/// One plugin's counters.
#[derive(Debug)]
pub struct PluginCounters {
    calls: AtomicU64,
    errors: AtomicU64,
    traps: AtomicU64,
    timeouts: AtomicU64,
    limit_hits: AtomicU64,
    buckets: Vec<AtomicU64>,
}

impl PluginCounters {
    fn new() -> Self {
        Self {
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            traps: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            limit_hits: AtomicU64::new(0),
            buckets: bucket_bounds().iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Counts one call; `outcome` is `ok` or a `CallError::kind()`.
    pub fn record(&self, outcome: &str, elapsed: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let counter = match outcome {
            "ok" => None,
            "timeout" => Some(&self.timeouts),
            "trap" | "panic" | "stack_overflow" => Some(&self.traps),
            "memory_limit" | "fuel_exhausted" | "output_too_large" => Some(&self.limit_hits),
            _ => Some(&self.errors),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = bucket_bounds().partition_point(|&bound| bound < micros);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// The figures now.
    pub fn snapshot(&self) -> PluginStats {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        PluginStats {
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            traps: self.traps.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            limit_hits: self.limit_hits.load(Ordering::Relaxed),
            p50_ms: quantile_ms(&counts, 0.50),
            p99_ms: quantile_ms(&counts, 0.99),
            kv: None,
        }
    }
}

/// The upper bound (ms) of the bucket holding quantile `q`; `None` before any call.
fn quantile_ms(counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (count, bound) in counts.iter().zip(bucket_bounds()) {
        seen += count;
        if seen >= rank {
            // The last bucket is open-ended: report the bound below it.
            let micros = if *bound == u64::MAX {
                bucket_bounds()[bucket_bounds().len() - 2]
            } else {
                *bound
            };
            return Some((micros as f64 / 10.0).round() / 100.0);
        }
    }
    None
}

/// A plugin's figures since the process started.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PluginStats {
    pub calls: u64,
    /// Calls that answered an error (the plugin's own, busy, unavailable).
    pub errors: u64,
    /// Traps, panics and stack overflows.
    pub traps: u64,
    /// Calls stopped at the plugin's deadline.
    pub timeouts: u64,
    /// Calls stopped at a memory, fuel or output limit.
    pub limit_hits: u64,
    /// Latency quantiles in ms, to within 25%; `null` before the first call.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Its key-value store against its quota; `null` when the store did not answer.
    pub kv: Option<KvStats>,
}

/// A plugin's key-value store: what it keeps (in the database, as every process sees it),
/// its quota, and the writes this process refused for the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct KvStats {
    /// Keys it keeps.
    pub keys: u64,
    /// Bytes of its keys and values.
    pub bytes: u64,
    /// `limits.kv_max_keys`.
    pub max_keys: u64,
    /// `limits.kv_max_bytes`.
    pub max_bytes: u64,
    /// Writes refused for the quota since this process started.
    pub refusals: u64,
}

impl KvStats {
    pub fn new(figures: super::kv::KvFigures, quota: super::kv::KvQuota) -> Self {
        Self {
            keys: figures.usage.keys,
            bytes: figures.usage.bytes,
            max_keys: quota.max_keys,
            max_bytes: quota.max_bytes,
            refusals: figures.refusals,
        }
    }
}

/// The counters of every plugin of the process, by name.
#[derive(Debug, Default)]
pub struct StatsRegistry {
    by_name: RwLock<HashMap<String, Arc<PluginCounters>>>,
}

impl StatsRegistry {
    /// The counters of `name`, created on first use.
    pub fn counters(&self, name: &str) -> Arc<PluginCounters> {
        if let Some(found) = self.by_name.read().expect("stats lock").get(name) {
            return Arc::clone(found);
        }
        let mut all = self.by_name.write().expect("stats lock");
        Arc::clone(
            all.entry(name.to_string())
                .or_insert_with(|| Arc::new(PluginCounters::new())),
        )
    }

    /// The figures of `name` (zeros for a plugin never called).
    pub fn snapshot(&self, name: &str) -> PluginStats {
        self.counters(name).snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn outcomes_are_counted_by_kind() {
        let c = PluginCounters::new();
        for outcome in [
            "ok",
            "ok",
            "plugin_error",
            "busy",
            "timeout",
            "trap",
            "panic",
            "memory_limit",
        ] {
            c.record(outcome, ms(1));
        }
        let s = c.snapshot();
        assert_eq!(
            (s.calls, s.errors, s.traps, s.timeouts, s.limit_hits),
            (8, 2, 2, 1, 1)
        );
    }

    #[test]
    fn no_calls_have_no_quantiles() {
        let s = PluginCounters::new().snapshot();
        assert_eq!((s.calls, s.p50_ms, s.p99_ms), (0, None, None));
    }

    #[test]
    fn quantiles_are_within_a_bucket_of_the_truth() {
        let c = PluginCounters::new();
        // 98 fast calls of 2 ms, 2 slow ones of 400 ms: p50 ~2 ms, p99 ~400 ms.
        for _ in 0..98 {
            c.record("ok", ms(2));
        }
        c.record("ok", ms(400));
        c.record("ok", ms(400));
        let s = c.snapshot();
        let p50 = s.p50_ms.unwrap();
        let p99 = s.p99_ms.unwrap();
        assert!((2.0..=2.5).contains(&p50), "p50 {p50}");
        assert!((400.0..=500.0).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn the_registry_keeps_counting_under_one_name() {
        let r = StatsRegistry::default();
        r.counters("a").record("ok", ms(1));
        r.counters("a").record("ok", ms(1));
        r.counters("b").record("ok", ms(1));
        assert_eq!(
            (
                r.snapshot("a").calls,
                r.snapshot("b").calls,
                r.snapshot("c").calls
            ),
            (2, 1, 0)
        );
    }
}
