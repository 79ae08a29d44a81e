//! Prometheus metrics: the process-wide recorder behind every `metrics::` call, rendered at
//! `/metrics`, plus the gauges read at scrape time (queue depth, database pool) and the
//! stream connection gauge.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from a cached page (1 ms) to a slow image (2 min).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The recorder's handle, installing it on first use. `None` when another recorder was
/// installed first (an embedding program's): its metrics are then its own to export.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .expect("the buckets are not empty");
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "a metrics recorder is already installed; /metrics is off");
                    None
                }
            }
        })
        .as_ref()
}

/// Help texts, so a scrape explains itself.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "ava_http_requests_total",
        "HTTP requests answered, by matched route, method and status"
    );
    describe_histogram!(
        "ava_http_request_duration_seconds",
        "Time to answer an HTTP request (to the headers, for streams)"
    );
    describe_counter!(
        "ava_plugin_calls_total",
        "Plugin calls by plugin, export and outcome (ok, plugin_error, trap, timeout, memory_limit, ...)"
    );
    describe_histogram!(
        "ava_plugin_call_duration_seconds",
        "Duration of plugin calls"
    );
    describe_counter!(
        "ava_plugin_reloads_total",
        "Reloads of ava.toml and the plugins, by outcome (applied, refused: the running set kept serving)"
    );
    describe_gauge!(
        "ava_plugin_generation",
        "The plugin set serving: 1 at start, +1 per applied reload"
    );
    describe_gauge!(
        "ava_plugin_kv_keys",
        "Keys in each plugin's key-value store (quota: limits.kv_max_keys), read at scrape time"
    );
    describe_gauge!(
        "ava_plugin_kv_bytes",
        "Bytes of keys and values in each plugin's key-value store (quota: limits.kv_max_bytes), read at scrape time"
    );
    describe_counter!(
        "ava_plugin_kv_refusals_total",
        "Key-value writes refused for the plugin's quota, by plugin and limit (kv_max_keys, kv_max_bytes)"
    );
    describe_counter!(
        "ava_jobs_total",
        "Jobs settled, by kind and outcome (done, retried, dead, lost)"
    );
    describe_histogram!("ava_job_seconds", "Duration of job attempts");
    describe_gauge!(
        "ava_queue_depth",
        "Jobs waiting in the queue, read at scrape time"
    );
    describe_counter!(
        "ava_billing_webhooks_total",
        "Billing webhooks by plugin and outcome"
    );
    describe_gauge!("ava_sse_connections", "Open event streams, by stream");
    describe_gauge!(
        "ava_db_pool_connections",
        "Database pool connections, by state (idle, in_use)"
    );
}

/// One open event stream, counted in `ava_sse_connections` while it lives.
pub struct StreamGauge(&'static str);

impl StreamGauge {
    pub fn open(stream: &'static str) -> Self {
        metrics::gauge!("ava_sse_connections", "stream" => stream).increment(1.0);
        Self(stream)
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        metrics::gauge!("ava_sse_connections", "stream" => self.0).decrement(1.0);
    }
}

/// Sets the scrape-time gauges from what the process can see now.
pub async fn refresh(db: &crate::db::Db, queue: &dyn crate::jobs::Queue) {
    let pool = db.pool();
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("ava_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("ava_db_pool_connections", "state" => "in_use").set((size - idle).max(0.0));
    let depth = tokio::time::timeout(std::time::Duration::from_secs(2), queue.depth()).await;
    match depth {
        Ok(Ok(depth)) => metrics::gauge!("ava_queue_depth").set(depth as f64),
        Ok(Err(err)) => tracing::warn!(error = %err, "cannot read the queue depth for /metrics"),
        Err(_) => tracing::warn!("the queue depth did not answer within 2 s"),
    }
    // One row per plugin (`plugin_kv_usage`), not a sum over the values.
    let usage = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        crate::db::kv::usage_by_plugin(db),
    )
    .await;
    match usage {
        Ok(Ok(usage)) => {
            for (plugin, usage) in usage {
                metrics::gauge!("ava_plugin_kv_keys", "plugin" => plugin.clone())
                    .set(usage.keys as f64);
                metrics::gauge!("ava_plugin_kv_bytes", "plugin" => plugin).set(usage.bytes as f64);
            }
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "cannot read the plugins' key-value usage for /metrics")
        }
        Err(_) => tracing::warn!("the plugins' key-value usage did not answer within 2 s"),
    }
}

/// The text exposition, after the scrape-time gauges are refreshed.
pub async fn render(db: &crate::db::Db, queue: &dyn crate::jobs::Queue) -> Option<String> {
    let handle = handle()?;
    refresh(db, queue).await;
    handle.run_upkeep();
    Some(handle.render())
}
