//! What the HTTP benchmarks share: settings from the environment, the process's memory, the
//! plugin folder, a scratch PostgreSQL database.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The runtime the server runs on in a benchmark: two workers, as on this machine's two
/// vCPUs.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `name` from the environment, parsed, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's resident memory and its peak, in MiB.
pub fn rss_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (kib("VmRSS:") / 1024, kib("VmHWM:") / 1024)
}

/// The settings of a benchmarked server: production logging (errors only), no Redis, no
/// operator token; callers change what their run needs.
pub fn settings(
    addr: std::net::SocketAddr,
    data_dir: PathBuf,
    config: PathBuf,
    database_url: Option<String>,
) -> ava_host::config::Settings {
    ava_host::config::Settings {
        addr,
        data_dir,
        config,
        database_url,
        redis_url: None,
        redis_prefix: "ava".into(),
        public_url: None,
        operator_token: None,
        web_dir: "frontend/dist".into(),
        sentry_dsn: None,
        app_env: "production".into(),
        log: "error".into(),
        http: Default::default(),
        worker: Default::default(),
    }
}

/// Where `scripts/build-plugins.sh` puts the plugins.
pub fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins")
}

/// A fresh database on the PostgreSQL server at `AVA_TEST_POSTGRES_URL` (`off` skips it),
/// named after `prefix` and this process: its URL, or `None` without a server.
pub async fn postgres_database(prefix: &str) -> Option<String> {
    use sqlx::{Connection, Executor};
    let admin_url = std::env::var("AVA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if admin_url == "off" {
        return None;
    }
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
    let name = format!("{prefix}_{}", std::process::id());
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .ok()?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .ok()?;
    let mut url = url::Url::parse(&admin_url).ok()?;
    url.set_path(&name);
    Some(url.to_string())
}

/// Registers `users` accounts (`bench{i}@example.com`) and gives each an active subscription:
/// their session tokens, one a line, for wrk's script.
pub async fn subscribers(state: &ava_host::app::AppState, users: usize) -> String {
    use ava_host::db::subscriptions::{Subscription, upsert};
    let mut registrations = Vec::new();
    for i in 0..users {
        let accounts = state.accounts.clone();
        registrations.push(tokio::spawn(async move {
            accounts
                .register(
                    &format!("bench{i}@example.com"),
                    "correct horse battery",
                    None,
                )
                .await
                .unwrap()
        }));
    }
    let mut tokens = String::new();
    let now = ava_host::db::now_ms();
    for registration in registrations {
        let session = registration.await.unwrap();
        let mut tx = state.db.write().await.unwrap();
        upsert(
            &mut **tx,
            &Subscription {
                user_id: session.user.id.clone(),
                provider: "bench".into(),
                customer_id: None,
                subscription_id: None,
                status: "active".into(),
                current_period_end: Some(now + 86_400_000),
                cancel_at_period_end: false,
                price_id: None,
                state_as_of: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        tokens.push_str(&session.token);
        tokens.push('\n');
    }
    tokens
}

/// wrk's script for `POST /chat`: each request a turn of the next user in the tokens file
/// (its argument), starting at a random one per thread.
pub const CHAT_LUA: &str = r#"
local tokens = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  i = math.random(1, #tokens)
end
function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/chat",
    { ["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json" },
    '{"message":"How was your day? Tell me something nice."}')
end
"#;

/// What one wrk run measured.
pub struct Load {
    pub rps: f64,
    pub p50: String,
    pub p99: String,
    pub errors: u64,
    pub requests: u64,
    /// CPU seconds each command (by `/proc/<pid>/comm`) used during the run, wrk's own
    /// included.
    pub cpu: BTreeMap<String, f64>,
    /// The machine's CPU seconds over the run: busy, and busy + idle.
    pub machine: (f64, f64),
}

impl Load {
    /// CPU microseconds per request spent by processes named `command`.
    pub fn cpu_us_per_request(&self, command: &str) -> f64 {
        self.cpu.get(command).copied().unwrap_or(0.0) * 1e6 / self.requests.max(1) as f64
    }
}

/// Runs wrk with `script` against `url` (its script argument: `tokens`) and reads what it
/// printed, with the CPU every process used meanwhile.
pub fn wrk(url: &str, script: &Path, tokens: &Path, seconds: u64, connections: u64) -> Load {
    let before = cpu_by_command();
    let machine_before = machine_cpu();
    let child = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .arg("--")
        .arg(tokens)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("wrk is installed (apt-get install wrk)");
    // Read wrk's CPU once it has exited but before it is reaped: a zombie's stat still
    // holds its threads' times.
    let stat = format!("/proc/{}/stat", child.id());
    while std::fs::read_to_string(&stat).is_ok_and(|s| stat_state(&s) != Some('Z')) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = cpu_by_command();
    let machine_after = machine_cpu();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.trim_start()[prefix.len()..].trim().to_string())
            .unwrap_or_else(|| panic!("wrk printed no {prefix:?}:\n{text}"))
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let cpu = after
        .iter()
        .map(|(command, t)| (command.clone(), t - before.get(command).unwrap_or(&0.0)))
        .filter(|(_, t)| *t > 0.0)
        .collect();
    Load {
        rps: field("Requests/sec:").parse().unwrap(),
        p50: field("50%"),
        p99: field("99%"),
        errors: text
            .lines()
            .find(|l| l.contains("Non-2xx or 3xx responses:"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0),
        requests,
        cpu,
        machine: (
            machine_after.0 - machine_before.0,
            machine_after.1 - machine_before.1,
        ),
    }
}

/// The state letter of a `/proc/<pid>/stat` line (after the parenthesised command).
fn stat_state(stat: &str) -> Option<char> {
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Clock ticks per second of `/proc`'s CPU times (USER_HZ, 100 on Linux's usual builds).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds (user + system, every thread) used so far by the live processes, summed by
/// command name.
pub fn cpu_by_command() -> BTreeMap<String, f64> {
    let mut by_command = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return by_command;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some((_, rest))) = (stat.find('('), stat.rsplit_once(") ")) else {
            continue;
        };
        let command = stat[open + 1..stat.len() - rest.len() - 2].to_string();
        // After the command: state is field 3, utime 14 and stime 15 (1-based).
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i - 3)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        *by_command.entry(command).or_insert(0.0) += (ticks(14) + ticks(15)) / clock_ticks();
    }
    by_command
}

/// The machine's CPU seconds so far, from `/proc/stat`: busy, and busy + idle.
pub fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0.0, 0.0);
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let idle = v.get(3).unwrap_or(&0.0) + v.get(4).unwrap_or(&0.0);
    let total: f64 = v.iter().take(8).sum();
    ((total - idle) / clock_ticks(), total / clock_ticks())
}
