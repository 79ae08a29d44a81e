//! Issue 20, item 3: host calls with the largest inputs a plugin can build, from many users
//! at once (the `hostile` persona). Each input over its limit is refused, each one within it
//! is served, every call ends within its wall-clock limit including the host's work, the
//! process's memory grows by no more than the limits allow, and `/health` and another user's
//! chat stay fast throughout.
//!
//! Alone in its test binary, and one test: it measures the process's memory and latencies,
//! which tests running beside it in the same process would disturb.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ava_host::plugins::CallError;
use axum::Router;
use axum::body::Body;
use axum::routing::post;
use common::app::{Backend, TestApp};
use common::{LocalServer, chat};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Users attacking at once.
const ATTACKERS: usize = 16;
/// The hostile plugin's limits.
const TIMEOUT_MS: u64 = 2_000;
const MEMORY_MIB: usize = 32;
const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// The largest message or body the plugin can build in its 32 MiB (less what it needs
/// besides): above every limit, as an attacker would send.
const LARGEST: usize = 28 << 20;
const HMAC_LIMIT: usize = ava_sdk::crypto::MAX_HMAC_MESSAGE_BYTES;
/// The default `limits.max_http_request_bytes`.
const BODY_LIMIT: usize = 8 << 20;
/// What one host call may pass to the host: the largest input or output limit, plus 1 MiB
/// (`Limits::host_call_bytes`).
const HOST_CALL_BYTES: usize = BODY_LIMIT + (1 << 20);

/// The issue's acceptance figures.
const HEALTH_P99: Duration = Duration::from_millis(50);
const OVERRUN: f64 = 0.10;
/// A harmless chat turn of another user, on a two-core machine under the attack. Before the
/// limits such a turn waited up to 7 s here (11 s in the issue's report).
const VICTIM_MAX: Duration = Duration::from_millis(1_000);

/// One attack turn: what the user sends, and what the answer must be.
struct Attack {
    message: String,
    expect: Expect,
}

enum Expect {
    /// A reply that starts with this.
    Reply(&'static str),
    /// A reply that contains this.
    ReplyContaining(String),
    /// The call fails with this status.
    Status(StatusCode),
    /// A call cut off at its deadline: 504, or the plugin's own reply to the timed-out request.
    Deadline,
}

fn attacks(sink: &str, slow: &str) -> Vec<Attack> {
    use Expect::*;
    vec![
        // Over every limit: refused before the host copies it, the call ended.
        Attack {
            message: format!("hmac:{LARGEST}"),
            expect: Status(StatusCode::BAD_GATEWAY),
        },
        Attack {
            message: format!("post:{LARGEST}@{sink}"),
            expect: Status(StatusCode::BAD_GATEWAY),
        },
        // Over the import's own limit: refused by the import, with the limit named.
        Attack {
            message: format!("hmac:{}", HMAC_LIMIT + 1),
            expect: ReplyContaining(format!(
                "over the {HMAC_LIMIT}-byte (1 MiB) limit of hmac-sha256"
            )),
        },
        Attack {
            message: format!("post:{}@{sink}", BODY_LIMIT + 1),
            expect: ReplyContaining(format!("max_http_request_bytes ({BODY_LIMIT})")),
        },
        // Within the limits: served.
        Attack {
            message: format!("hmac:{HMAC_LIMIT}"),
            expect: ReplyContaining(format!("1 digests of {HMAC_LIMIT} bytes")),
        },
        Attack {
            message: format!("post:{BODY_LIMIT}@{sink}"),
            expect: Reply("status 200"),
        },
        // Within the limits, but more host work than the call has time for.
        Attack {
            message: format!("hmac:{HMAC_LIMIT}*100000"),
            expect: Deadline,
        },
        Attack {
            message: format!("post:{BODY_LIMIT}@{slow}"),
            expect: Deadline,
        },
    ]
}

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes.
fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} is not in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib << 10
}

/// Resets the process's peak resident size (`VmHWM`) to its current size.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// Runs `work` on a thread of its own with its own runtime, as a client outside the
/// server's runtime would: its timings are the server's, not this runtime's scheduling.
fn outside<T: Send + 'static>(
    work: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T>>> + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work())
    })
}

/// Where the plugin sends its bodies: `/sink` reads them as they come and answers how many
/// bytes it got, `/slow` reads them too slowly for any call to finish.
async fn upstream() -> LocalServer {
    async fn count(body: Body) -> String {
        let mut stream = body.into_data_stream();
        let mut received = 0;
        while let Some(Ok(chunk)) = stream.next().await {
            received += chunk.len();
        }
        format!("received {received}")
    }
    async fn trickle(body: Body) -> String {
        let mut stream = body.into_data_stream();
        while let Some(Ok(_)) = stream.next().await {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        "read it all".into()
    }
    LocalServer::start(
        Router::new()
            .route("/sink", post(count))
            .route("/slow", post(trickle)),
    )
    .await
}

async fn turn(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    message: &str,
) -> (StatusCode, Value) {
    let response = client
        .post(format!("{base}/chat"))
        .bearer_auth(token)
        .json(&json!({ "message": message }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn reply_text(body: &Value) -> &str {
    body["reply"]["content"].as_str().unwrap_or_default()
}

/// Checks one attack's answer; returns a description of what is wrong.
fn check(attack: &Attack, status: StatusCode, body: &Value) -> Result<(), String> {
    let text = reply_text(body);
    let ok = match &attack.expect {
        Expect::Reply(start) => status == StatusCode::OK && text.starts_with(start),
        Expect::ReplyContaining(part) => status == StatusCode::OK && text.contains(part.as_str()),
        Expect::Status(expected) => status == *expected,
        Expect::Deadline => {
            status == StatusCode::GATEWAY_TIMEOUT
                || status == StatusCode::OK && text.contains("timed out")
        }
    };
    if ok {
        Ok(())
    } else {
        let shown: String = body.to_string().chars().take(300).collect();
        Err(format!(
            "{}: answered {status} {shown}",
            attack.message.chars().take(60).collect::<String>()
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_host_call_inputs_from_many_users_are_bounded_and_stall_nothing() {
    let upstream = upstream().await;
    let config = format!(
        r#"
[plugins.persona]
use = "hostile"

[plugin.hostile]
path = "{{plugins}}/hostile.wasm"
allow_hosts = ["http://{addr}"]
limits = {{ timeout_ms = {TIMEOUT_MS}, memory_mib = {MEMORY_MIB}, max_output_bytes = {MAX_OUTPUT_BYTES} }}
config = {{ key = {{ generate = true }} }}
"#,
        addr = upstream.addr
    );
    let t = TestApp::with_config(Backend::Sqlite, &config).await;
    let mut attackers = Vec::new();
    for i in 0..ATTACKERS {
        attackers.push(t.subscriber(&format!("attacker{i}@example.com")).await.0);
    }
    let (victim, _) = t.subscriber("victim@example.com").await;
    // Warm: every user's conversation exists and the plugin is compiled.
    for token in attackers.iter().chain([&victim]) {
        let (status, body) = t.post("/chat", token, json!({ "message": "hello" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // The refusals name their limit (seen here, where the call's error is not hidden
    // behind the API's "The plugin failed").
    let persona = t.app.state.registry.current().persona().unwrap();
    let err = persona
        .reply(&chat(&format!("hmac:{LARGEST}")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Trap { message, .. } if message.contains(&format!("{HOST_CALL_BYTES} bytes"))),
        "{err}"
    );

    // One client for every attacker, made beforehand: making one reads the root
    // certificates, work that would weigh on the server's runtime during the attack.
    let client = reqwest::Client::new();
    let sink = upstream.url("/sink");
    let slow = upstream.url("/slow");
    let base = t.base.clone();
    let attacking = Arc::new(AtomicBool::new(true));

    // /health, sampled without pause by a client outside the server's runtime.
    let health = {
        let (base, attacking) = (base.clone(), attacking.clone());
        outside(move || {
            Box::pin(async move {
                let client = reqwest::Client::new();
                let mut samples = Vec::new();
                while attacking.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let response = client.get(format!("{base}/health")).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    samples.push(started.elapsed());
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                samples
            })
        })
    };
    // Another user chatting, also from outside.
    let victim_turns = {
        let (base, attacking, victim) = (base.clone(), attacking.clone(), victim.clone());
        outside(move || {
            Box::pin(async move {
                let client = reqwest::Client::new();
                let mut turns = Vec::new();
                while attacking.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let (status, body) = turn(&client, &base, &victim, "how are you?").await;
                    turns.push((started.elapsed(), status, reply_text(&body).to_string()));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                turns
            })
        })
    };
    // The process's memory, sampled (a fallback where the peak cannot be reset).
    let sampled_peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (attacking, peak) = (attacking.clone(), sampled_peak.clone());
        std::thread::spawn(move || {
            while attacking.load(Ordering::SeqCst) {
                peak.fetch_max(proc_status_bytes("VmRSS"), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    // The clients outside are ready.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = proc_status_bytes("VmRSS");
    let peak_reset = reset_peak_rss();
    let attack_started = Instant::now();
    let mut users = Vec::new();
    for token in attackers {
        let (base, sink, slow, client) = (base.clone(), sink.clone(), slow.clone(), client.clone());
        users.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for attack in attacks(&sink, &slow) {
                let started = Instant::now();
                let (status, body) = turn(&client, &base, &token, &attack.message).await;
                results.push((
                    started.elapsed(),
                    check(&attack, status, &body),
                    attack.message,
                ));
            }
            results
        }));
    }
    let mut results = Vec::new();
    for user in users {
        results.extend(user.await.unwrap());
    }
    let attack_took = attack_started.elapsed();
    attacking.store(false, Ordering::SeqCst);
    let peak = if peak_reset {
        proc_status_bytes("VmHWM")
    } else {
        0
    }
    .max(sampled_peak.load(Ordering::SeqCst));
    sampler.join().unwrap();
    let mut health = health.join().unwrap();
    let victim_turns = victim_turns.join().unwrap();

    // The figures first, so a failure shows all of them.
    health.sort();
    let growth = peak.saturating_sub(rss_before);
    let (slowest_attack, slowest_message) = results
        .iter()
        .map(|(took, _, message)| (*took, message.split('@').next().unwrap_or_default()))
        .max()
        .unwrap();
    let slowest_victim = victim_turns
        .iter()
        .map(|(d, ..)| *d)
        .max()
        .unwrap_or_default();
    println!(
        "attack: {ATTACKERS} users x {} turns in {attack_took:?}; slowest turn {slowest_attack:?} \
         ({slowest_message}; limit {TIMEOUT_MS} ms)\n/health: {} samples, p50 {:?}, p99 {:?}, max {:?}\n\
         victim: {} turns, slowest {slowest_victim:?}\nmemory: RSS {:.0} MiB before, \
         peak {:.0} MiB, growth {:.0} MiB (peak reset: {peak_reset})",
        attacks("", "").len(),
        health.len(),
        quantile(&health, 0.5),
        quantile(&health, 0.99),
        health.last().unwrap(),
        victim_turns.len(),
        mib(rss_before),
        mib(peak),
        mib(growth),
    );
    for (took, outcome, message) in &results {
        if let Err(e) = outcome {
            println!("  wrong answer after {took:?}: {e}");
        } else if took.as_secs_f64() * 1000.0 > TIMEOUT_MS as f64 * (1.0 + OVERRUN) {
            println!(
                "  {took:?}: {}",
                message.chars().take(60).collect::<String>()
            );
        }
    }

    let wrong: Vec<&String> = results
        .iter()
        .filter_map(|(_, r, _)| r.as_ref().err())
        .collect();
    assert!(wrong.is_empty(), "wrong answers: {wrong:#?}");
    let limit = Duration::from_millis(TIMEOUT_MS).mul_f64(1.0 + OVERRUN);
    assert!(
        slowest_attack <= limit,
        "an attack turn took {slowest_attack:?}, past {limit:?}"
    );
    assert!(
        quantile(&health, 0.99) < HEALTH_P99,
        "/health p99 {:?}",
        quantile(&health, 0.99)
    );
    for (took, status, text) in &victim_turns {
        assert_eq!(*status, StatusCode::OK, "the victim's turn failed: {text}");
        assert_eq!(text, "hostile: how are you?");
        assert!(*took < VICTIM_MAX, "a victim's turn took {took:?}");
    }
    assert!(
        victim_turns.len() >= 5,
        "only {} victim turns during the attack",
        victim_turns.len()
    );
    // Each attacker has one call at a time: its plugin's memory, and one host call's
    // argument copied out of it (a request body is sent from that copy). Before the limits
    // the attack grew the process by 861 MiB.
    let allowed = (ATTACKERS * ((MEMORY_MIB << 20) + HOST_CALL_BYTES) + (64 << 20)) as u64;
    assert!(
        growth <= allowed,
        "the process grew by {:.0} MiB during the attack, over {:.0} MiB",
        mib(growth),
        mib(allowed)
    );
}
