//! Issue 20, item 2: a plugin filling its key-value store. The hostile persona writes 1 MiB
//! values as fast as it can; the host refuses it at its quota (`limits.kv_max_keys`,
//! `kv_max_bytes`) with a message saying so, the database grows by no more than the quota
//! allows, and other users and other plugins are served as before. On SQLite and on
//! PostgreSQL, and with two replicas writing at once.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::app::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MIB: u64 = 1 << 20;
/// The hostile plugin's quota: 4 MiB and 50 keys.
const QUOTA_BYTES: u64 = 4 * MIB;
const QUOTA_KEYS: u64 = 50;

/// The hostile persona under a small quota, beside a plugin with a store of its own.
const CONFIG: &str = r#"
[plugins.persona]
use = "hostile"

[plugin.hostile]
path = "{plugins}/hostile.wasm"
limits = { kv_max_keys = 50, kv_max_bytes = 4194304 }

[plugin.misbehave]
path = "{plugins}/misbehave.wasm"
"#;

on_both_databases!(
    filling_the_store_is_refused_at_the_quota_and_the_database_stays_within_it,
    at_the_quota_smaller_values_replace_and_deletes_free_room,
    two_replicas_filling_at_once_stay_within_the_quota,
);

/// The bytes an entry `fill:<i>` of `len` bytes counts for.
fn entry(i: u64, len: u64) -> u64 {
    format!("fill:{i}").len() as u64 + len
}

async fn say(t: &TestApp, token: &str, message: &str) -> String {
    let (status, body) = t.post("/chat", token, json!({ "message": message })).await;
    assert_eq!(status, StatusCode::OK, "{message}: {body}");
    body["reply"]["content"].as_str().unwrap().to_string()
}

/// Keys and bytes of `plugin`'s entries, summed over the entries themselves; asserts that
/// the usage row the quota reads agrees.
async fn stored(t: &TestApp, plugin: &str) -> (u64, u64) {
    let pool = t.app.state.db.pool();
    let (keys, bytes): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(octet_length(key) + octet_length(value)), 0)
         AS BIGINT) FROM plugin_kv WHERE plugin = $1",
    )
    .bind(plugin)
    .fetch_one(pool)
    .await
    .unwrap();
    let counted: (i64, i64) =
        sqlx::query_as("SELECT keys, bytes FROM plugin_kv_usage WHERE plugin = $1")
            .bind(plugin)
            .fetch_optional(pool)
            .await
            .unwrap()
            .unwrap_or((0, 0));
    assert_eq!(counted, (keys, bytes), "the usage row is out of step");
    (keys as u64, bytes as u64)
}

/// What the database takes on disk: the data folder for SQLite (the database and its WAL),
/// the key-value table with its TOAST and indexes for PostgreSQL.
async fn disk_bytes(t: &TestApp, backend: Backend) -> u64 {
    match backend {
        Backend::Sqlite => folder_bytes(&t.data_dir()),
        Backend::Postgres => {
            let size: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('plugin_kv')")
                .fetch_one(t.app.state.db.pool())
                .await
                .unwrap();
            size as u64
        }
    }
}

fn folder_bytes(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap().flatten() {
        // The compile cache is a symlink to a shared folder: not followed.
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            total += folder_bytes(&entry.path());
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    total
}

async fn ask_misbehave(t: &TestApp, message: &str) -> String {
    t.app
        .state
        .registry
        .current()
        .persona_named("misbehave")
        .unwrap()
        .reply(&common::chat(message))
        .await
        .unwrap()
        .text
}

async fn kv_stats(t: &TestApp, plugin: &str) -> Value {
    let stats = t.plugin_stats().await;
    let of = stats
        .get(plugin)
        .unwrap_or_else(|| panic!("{plugin} not listed: {stats:?}"));
    of["kv"].clone()
}

/// The attack of the issue: one turn writing 1 MiB values until refused. It is answered
/// (the plugin reports the refusal), stops at the quota, and the rest is unaffected.
async fn filling_the_store_is_refused_at_the_quota_and_the_database_stays_within_it(
    backend: Backend,
) {
    let t = TestApp::with_config(backend, CONFIG).await;
    let (attacker, _) = t.subscriber("attacker@example.com").await;
    let (victim, _) = t.subscriber("victim@example.com").await;
    assert_eq!(ask_misbehave(&t, "kv-set:note=kept").await, "stored");
    let disk_before = disk_bytes(&t, backend).await;

    // The victim chats while the attacker fills.
    let attack = say(&t, &attacker, "kv-fill:1000:1048576");
    let victim_turns = async {
        let mut slowest = Duration::ZERO;
        for i in 0..5 {
            let started = Instant::now();
            assert_eq!(
                say(&t, &victim, &format!("hello {i}")).await,
                format!("hostile: hello {i}")
            );
            slowest = slowest.max(started.elapsed());
        }
        slowest
    };
    let (answer, slowest) = tokio::join!(attack, victim_turns);
    // 3 values of 1 MiB and their keys fit in 4 MiB; a 4th would not.
    let kept = 3 * entry(0, MIB);
    assert_eq!(
        answer,
        format!(
            "stored 3; refused: storage refused: key-value quota exceeded: the plugin keeps \
             {kept} bytes, this write would make it {}, and its quota is {QUOTA_BYTES} bytes \
             (limits.kv_max_bytes); delete or shrink values, or raise limits.kv_max_bytes in \
             ava.toml",
            kept + entry(3, MIB)
        )
    );
    // Asked again, for new keys: nothing more.
    let again = say(&t, &attacker, "kv-fill:1000:1048576:100").await;
    assert!(
        again.starts_with("stored 0; refused: storage refused: key-value quota exceeded"),
        "{again}"
    );

    assert_eq!(stored(&t, "hostile").await, (3, kept));
    let grown = disk_bytes(&t, backend).await.saturating_sub(disk_before);
    // SQLite writes a page twice (WAL, then the database), PostgreSQL once with its
    // bookkeeping: within twice the quota either way (without it: 500 MiB in 10 s).
    assert!(
        grown <= 2 * QUOTA_BYTES + MIB,
        "{backend:?}: the database grew by {grown} bytes, for a quota of {QUOTA_BYTES}"
    );
    eprintln!(
        "{backend:?}: the attack stored {kept} bytes, the database grew by {grown}; \
         the victim's slowest turn took {slowest:?}"
    );

    // Another plugin's store is its own, quota included.
    assert_eq!(ask_misbehave(&t, "kv-get:note").await, "kept");
    assert_eq!(ask_misbehave(&t, "kv-set:after=ok").await, "stored");

    // The figures: what it keeps, its quota, and the two refusals.
    assert_eq!(
        kv_stats(&t, "hostile").await,
        json!({
            "keys": 3,
            "bytes": kept,
            "max_keys": QUOTA_KEYS,
            "max_bytes": QUOTA_BYTES,
            "refusals": 2,
        })
    );
    assert_eq!(kv_stats(&t, "misbehave").await["keys"], 2);
    let metrics = t
        .client
        .get(t.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"ava_plugin_kv_bytes{plugin="hostile"} "#,
        r#"ava_plugin_kv_keys{plugin="misbehave"} "#,
        r#"ava_plugin_kv_refusals_total{plugin="hostile",limit="kv_max_bytes"} "#,
    ] {
        assert!(metrics.contains(needle), "no {needle:?} in:\n{metrics}");
    }
}

/// A full store still takes a smaller value for an existing key, and a delete makes room.
async fn at_the_quota_smaller_values_replace_and_deletes_free_room(backend: Backend) {
    let t = TestApp::with_config(backend, CONFIG).await;
    let (token, _) = t.subscriber("full@example.com").await;
    assert_eq!(
        say(&t, &token, "kv-fill:60:100").await,
        "stored 50; refused: storage refused: key-value quota exceeded: the plugin keeps 50 \
         keys, and its quota is 50 (limits.kv_max_keys); delete keys, give them a TTL, or \
         raise limits.kv_max_keys in ava.toml"
    );
    assert_eq!(say(&t, &token, "kv-fill:10:10").await, "stored 10");
    let one_more = say(&t, &token, "kv-fill:1:10:50").await;
    assert!(one_more.starts_with("stored 0; refused"), "{one_more}");
    assert_eq!(say(&t, &token, "kv-fill:5:delete").await, "deleted 5");
    assert_eq!(
        say(&t, &token, "kv-fill:10:10:50")
            .await
            .split(';')
            .next()
            .unwrap(),
        "stored 5"
    );
    let bytes = (5..10).map(|i| entry(i, 10)).sum::<u64>()
        + (10..50).map(|i| entry(i, 100)).sum::<u64>()
        + (50..55).map(|i| entry(i, 10)).sum::<u64>();
    assert_eq!(stored(&t, "hostile").await, (QUOTA_KEYS, bytes));
    assert_eq!(kv_stats(&t, "hostile").await["refusals"], 3);
}

/// Two replicas over one database, each filling at once: the quota holds over both, to the
/// byte (the writes of one plugin take turns on its usage row).
async fn two_replicas_filling_at_once_stay_within_the_quota(backend: Backend) {
    let a = TestApp::with_config(backend, CONFIG).await;
    let b = a.replica().await;
    let (one, _) = a.subscriber("one@example.com").await;
    let (two, _) = a.subscriber("two@example.com").await;
    // 100 KiB values: 40 fit (before the 50 keys), far more are attempted from each side.
    let (on_a, on_b) = tokio::join!(
        say(&a, &one, "kv-fill:1000:102400:0"),
        say(&b, &two, "kv-fill:1000:102400:5000"),
    );
    let count = |answer: &str| -> u64 {
        let stored = answer.split(';').next().unwrap();
        stored.strip_prefix("stored ").unwrap().parse().unwrap()
    };
    let (keys, bytes) = stored(&a, "hostile").await;
    assert_eq!(keys, count(&on_a) + count(&on_b), "{on_a}\n{on_b}");
    assert!(bytes <= QUOTA_BYTES, "{bytes} bytes kept");
    assert!(
        bytes + entry(5000, 102400) > QUOTA_BYTES,
        "not even one more value would fit: {bytes}"
    );
    for answer in [&on_a, &on_b] {
        assert!(
            answer.contains("refused: storage refused: key-value quota exceeded"),
            "{answer}"
        );
    }
}

/// The figures of the issue, before and after: `cargo test -p ava-host --test containment_kv
/// -- --ignored --nocapture`. One call of the hostile plugin with the default limits writes
/// 1 MiB values until its deadline or its quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test: prints the figures"]
async fn measure_one_call_filling_the_store() {
    const DEFAULT_LIMITS: &str = r#"
[plugins.persona]
use = "hostile"

[plugin.hostile]
path = "{plugins}/hostile.wasm"
"#;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let t = TestApp::with_config(backend, DEFAULT_LIMITS).await;
        let (token, _) = t.subscriber("attacker@example.com").await;
        let before = disk_bytes(&t, backend).await;
        let started = Instant::now();
        let (status, body) = t
            .post(
                "/chat",
                &token,
                json!({ "message": "kv-fill:100000:1048576" }),
            )
            .await;
        let elapsed = started.elapsed();
        let (keys, bytes) = stored(&t, "hostile").await;
        let after = disk_bytes(&t, backend).await;
        let answer = body["reply"]["content"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_string);
        println!(
            "{backend:?}: {status} after {elapsed:.1?}: {keys} values, {:.1} MiB stored; \
             database {:.1} -> {:.1} MiB; answer: {:.160}",
            bytes as f64 / MIB as f64,
            before as f64 / MIB as f64,
            after as f64 / MIB as f64,
            answer
        );
    }
}
