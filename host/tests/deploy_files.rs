//! The deployment files say what the tests run: `.env.example` documents exactly the
//! variables something reads; docker-compose.yml has the services, health checks, volumes and
//! ordering production needs; the Dockerfile's stages build what the image must hold; the
//! nginx.conf that scripts/nginx-conf.sh renders passes `nginx -t`.
//!
//! The Dockerfile is read here rather than linted by `hadolint`: hadolint is not packaged by
//! Debian 12 nor published to PyPI or npm, and this machine reaches only those registries. The
//! rules of it that matter for this image (tagged base images, no root at run time, exec-form
//! entry points, `--no-install-recommends` with the apt lists removed, COPY over ADD, no
//! `cd` in RUN, pipefail before pipes) are checked by `dockerfile_follows_hadolints_rules`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;
use serde_norway::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(file: &str) -> String {
    std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Variables set by the platform, not by an operator.
const PLATFORM_VARS: &[(&str, &str)] = &[("HOSTNAME", "set by the container runtime")];

/// `NAME` of every `NAME=...` line of `.env.example` (comments are prose).
fn documented() -> BTreeSet<String> {
    read(".env.example")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(name, _)| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Upper-case names in double quotes in `text` that `keep` accepts.
fn quoted_names(text: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.len() > 2
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .filter(|s| keep(s))
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What is read, with where: the process settings (clap's own list), every `AVA_...` name
/// and `env::var("...")` in the host's source, every `{ env = "..." }` of the production
/// plugin file, every `${...}` of the compose file.
fn read_somewhere() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let command = ava_host::config::Settings::augment_args(clap::Command::new("ava"));
    for arg in command.get_arguments() {
        if let Some(env) = arg.get_env() {
            found.push((
                env.to_string_lossy().into_owned(),
                "host/src/config/settings.rs".into(),
            ));
        }
    }
    let mut files = Vec::new();
    rust_files(&repo().join("host/src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(repo()).unwrap().display().to_string();
        // `AVA__` is the prefix of the override family, documented as a pattern.
        for name in quoted_names(&text, |s| s.starts_with("AVA_") && !s.starts_with("AVA__")) {
            found.push((name, shown.clone()));
        }
        for part in text.split("env::var(\"").skip(1) {
            if let Some(name) = part.split('"').next() {
                found.push((name.to_string(), shown.clone()));
            }
        }
    }
    let toml = read("ava.production.toml");
    for part in toml.split("env = \"").skip(1) {
        found.push((
            part.split('"').next().unwrap().to_string(),
            "ava.production.toml".into(),
        ));
    }
    let compose = read("docker-compose.yml");
    for part in compose.split("${").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        found.push((name, "docker-compose.yml".into()));
    }
    found
}

#[test]
fn env_example_documents_exactly_what_is_read() {
    let documented = documented();
    let read = read_somewhere();
    let platform: BTreeSet<&str> = PLATFORM_VARS.iter().map(|(n, _)| *n).collect();
    let missing: Vec<String> = read
        .iter()
        .filter(|(name, _)| !documented.contains(name) && !platform.contains(name.as_str()))
        .map(|(name, file)| format!("{name} (read in {file})"))
        .collect();
    assert!(
        missing.is_empty(),
        ".env.example does not document: {missing:?}"
    );
    let read_names: BTreeSet<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
    let unread: Vec<&String> = documented
        .iter()
        .filter(|name| !read_names.contains(name.as_str()))
        .collect();
    assert!(
        unread.is_empty(),
        ".env.example documents variables nothing reads: {unread:?}"
    );
    // The sources are really scanned: the well-known ones are found where they are read.
    for name in [
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "POSTGRES_PASSWORD",
        "AVA_WASM_PROFILER",
    ] {
        assert!(read_names.contains(name), "{name} not found in the sources");
    }
}

fn compose() -> Value {
    let mut value: Value = serde_norway::from_str(&read("docker-compose.yml")).unwrap();
    value.apply_merge().unwrap();
    // The `<<: *ava` merges sit one level down, in each service.
    if let Some(services) = value.get_mut("services").and_then(Value::as_mapping_mut) {
        for (_, service) in services.iter_mut() {
            service.apply_merge().unwrap();
            if let Some(env) = service.get_mut("environment") {
                env.apply_merge().unwrap();
            }
        }
    }
    value
}

fn strs(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_runs_the_production_topology() {
    let compose = compose();
    let services = &compose["services"];
    let service = |name: &str| -> &Value {
        let s = &services[name];
        assert!(!s.is_null(), "no service {name}");
        s
    };
    for name in ["nginx", "host", "worker", "redis", "postgres", "migrate"] {
        service(name);
    }
    // One image for every Ava process, each with its command.
    for (name, command) in [
        ("host", "serve"),
        ("worker", "worker"),
        ("migrate", "migrate"),
    ] {
        let s = service(name);
        assert_eq!(s["image"], "ava:latest", "{name}");
        assert_eq!(strs(&s["command"]), [command], "{name}");
        assert_eq!(s["env_file"], ".env", "{name}");
        assert!(
            strs(&s["volumes"])
                .iter()
                .any(|v| v == "./ava.production.toml:/app/ava.production.toml:ro"),
            "{name} mounts the production plugin file"
        );
        assert!(
            s["environment"]["DATABASE_URL"]
                .as_str()
                .unwrap()
                .starts_with("postgres://"),
            "{name}"
        );
        assert!(s.get("ports").is_none(), "{name} publishes no port");
        assert!(s.get("container_name").is_none(), "{name} can scale");
    }
    for name in ["host", "worker", "nginx", "redis", "postgres"] {
        assert_eq!(service(name)["restart"], "unless-stopped", "{name}");
    }
    assert_eq!(service("migrate")["restart"], "no");
    // Start order, by health.
    let depends = |name: &str, on: &str| service(name)["depends_on"][on]["condition"].clone();
    assert_eq!(depends("migrate", "postgres"), "service_healthy");
    assert_eq!(depends("host", "migrate"), "service_completed_successfully");
    assert_eq!(depends("host", "postgres"), "service_healthy");
    assert_eq!(depends("host", "redis"), "service_healthy");
    assert_eq!(depends("worker", "redis"), "service_healthy");
    assert_eq!(depends("nginx", "host"), "service_healthy");
    for name in ["host", "worker", "redis", "postgres"] {
        assert!(
            !service(name)["healthcheck"]["test"].is_null(),
            "{name} has a health check"
        );
    }
    assert!(
        strs(&service("host")["healthcheck"]["test"])
            .iter()
            .any(|t| t.ends_with("/health"))
    );
    // Redis: AOF on a volume, not reachable from outside.
    let redis = service("redis");
    assert!(strs(&redis["command"]).contains(&"--appendonly".to_string()));
    assert!(
        strs(&redis["volumes"])
            .iter()
            .any(|v| v.ends_with(":/data"))
    );
    assert!(redis.get("ports").is_none());
    let postgres = service("postgres");
    assert!(
        strs(&postgres["volumes"])
            .iter()
            .any(|v| v.ends_with(":/var/lib/postgresql/data"))
    );
    assert!(postgres.get("ports").is_none());
    // nginx: the two ports, this nginx.conf, the certificates.
    let nginx = service("nginx");
    assert_eq!(strs(&nginx["ports"]), ["80:80", "443:443"]);
    let mounts = strs(&nginx["volumes"]);
    assert!(mounts.contains(&"./nginx.conf:/etc/nginx/nginx.conf:ro".to_string()));
    assert!(mounts.contains(&"./certs:/etc/nginx/certs:ro".to_string()));
    // The host trusts forwarding headers from the compose network only.
    let subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"].clone();
    assert_eq!(
        service("host")["environment"]["AVA_TRUSTED_PROXIES"],
        subnet
    );
    // The worker's metrics port is what Prometheus scrapes.
    assert_eq!(
        service("worker")["environment"]["AVA_METRICS_ADDR"],
        "0.0.0.0:9091"
    );
    let prometheus = read("deploy/prometheus.yml");
    assert!(prometheus.contains("port: 9091") && prometheus.contains("port: 8080"));
    for name in ["prometheus", "grafana"] {
        assert_eq!(strs(&service(name)["profiles"]), ["monitoring"], "{name}");
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/dashboards/ava.json")).unwrap();
    assert!(dashboard["panels"].as_array().unwrap().len() >= 8);
}

#[test]
fn dockerfile_builds_in_cached_stages_and_runs_unprivileged() {
    let dockerfile = read("Dockerfile");
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .filter_map(|l| l.split(" AS ").nth(1))
        .collect();
    assert_eq!(stages, ["chef", "planner", "builder", "web", "runtime"]);
    let at = |needle: &str| {
        dockerfile
            .find(needle)
            .unwrap_or_else(|| panic!("the Dockerfile has no {needle:?}"))
    };
    // Dependencies are cooked before the sources arrive, so code changes keep that layer.
    assert!(at("cargo chef cook") < at("COPY . .\nRUN cargo build --release"));
    assert!(at("rustup target add wasm32-wasip2") < at("scripts/build-plugins.sh"));
    assert!(at("npm ci") < at("npm run build"));
    let runtime = &dockerfile[at("AS runtime")..];
    for needle in [
        "COPY --from=builder /src/target/release/ava /app/ava",
        "COPY --from=builder /src/dist/plugins/ /app/dist/plugins/",
        "COPY --from=web /src/frontend/dist/ /app/frontend/dist/",
        "VOLUME [\"/data\"]",
        "USER ava",
        "HEALTHCHECK",
        "/health",
        "ENTRYPOINT [\"/app/ava\"]",
    ] {
        assert!(
            runtime.contains(needle),
            "the runtime stage lacks {needle:?}"
        );
    }
    let ignore = read(".dockerignore");
    for entry in ["target/", ".git", "**/node_modules/", ".env"] {
        assert!(
            ignore.lines().any(|l| l == entry),
            ".dockerignore lacks {entry}"
        );
    }
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped:
/// `(INSTRUCTION, arguments)`.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        let (part, continues) = match line.strip_suffix('\\') {
            Some(part) => (part, true),
            None => (line, false),
        };
        current.push_str(part.trim());
        current.push(' ');
        if !continues {
            let joined = std::mem::take(&mut current);
            let (name, args) = joined.trim().split_once(' ').unwrap_or((joined.trim(), ""));
            out.push((name.to_uppercase(), args.trim().to_string()));
        }
    }
    out
}

/// What hadolint would say about the Dockerfile, for the rules this image can break (their
/// hadolint codes in the messages).
#[test]
fn dockerfile_follows_hadolints_rules() {
    let instructions = dockerfile_instructions(&read("Dockerfile"));
    let args: std::collections::HashMap<String, String> = instructions
        .iter()
        .filter(|(name, _)| name == "ARG")
        .filter_map(|(_, a)| a.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stages: Vec<String> = instructions
        .iter()
        .filter(|(name, _)| name == "FROM")
        .filter_map(|(_, a)| a.split(" AS ").nth(1).map(str::to_string))
        .collect();
    let mut pipefail = false;
    for (name, a) in &instructions {
        match name.as_str() {
            "FROM" => {
                let image = a.split_whitespace().next().unwrap();
                let image = match image.strip_prefix("${").and_then(|i| i.strip_suffix('}')) {
                    Some(arg) => args.get(arg).unwrap_or_else(|| panic!("no ARG {arg}")),
                    None => image,
                };
                if stages.iter().any(|s| s == image) {
                    continue;
                }
                let tag = image.rsplit_once(':').map(|(_, t)| t);
                assert!(
                    tag.is_some_and(|t| t != "latest" && !t.contains('/')),
                    "DL3006/DL3007: {image} needs an explicit tag other than latest"
                );
            }
            "RUN" => {
                assert!(
                    !a.starts_with("cd ") && !a.contains("&& cd "),
                    "DL3003: {a}"
                );
                if a.contains("apt-get install") {
                    assert!(a.contains("--no-install-recommends"), "DL3015: {a}");
                    assert!(a.contains("-y"), "DL3014: {a}");
                    assert!(a.contains("rm -rf /var/lib/apt/lists/*"), "DL3009: {a}");
                }
                let piped = a.replace("||", "").contains('|');
                assert!(!piped || pipefail, "DL4006: set -o pipefail before {a}");
            }
            "SHELL" => pipefail = a.contains("pipefail"),
            "ADD" => panic!("DL3020: use COPY, not ADD {a}"),
            "ENTRYPOINT" | "CMD" => {
                assert!(a.starts_with('['), "DL3025: {name} in exec form: {a}");
            }
            _ => {}
        }
    }
    let last_user = instructions
        .iter()
        .rev()
        .find(|(name, _)| name == "USER")
        .map(|(_, a)| a.as_str());
    assert!(
        last_user.is_some_and(|u| u != "root" && u != "0"),
        "DL3002: the image must not run as root ({last_user:?})"
    );
}

#[test]
fn nginx_conf_renders_and_passes_nginx_t() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-days", "1", "-keyout"])
        .arg(dir.path().join("privkey.pem"))
        .arg("-out")
        .arg(dir.path().join("fullchain.pem"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let rendered = Command::new(repo().join("scripts/nginx-conf.sh"))
        .args(["--upstream", "127.0.0.1:1", "--upstream", "127.0.0.1:2"])
        .arg("--root")
        .arg(dir.path())
        .arg("--certs")
        .arg(dir.path())
        .args(["--http-port", "1", "--https-port", "2", "--user", "root"])
        .arg("--pid")
        .arg(dir.path().join("nginx.pid"))
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let conf = String::from_utf8(rendered.stdout).unwrap();
    assert!(conf.contains("server 127.0.0.1:1;") && conf.contains("server 127.0.0.1:2;"));
    assert!(!conf.contains("server host:8080"));
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, &conf).unwrap();
    let nginx = Command::new("nginx")
        .arg("-t")
        .arg("-c")
        .arg(&path)
        .output()
        .expect("nginx is installed (apt-get install nginx; the test command does)");
    assert!(
        nginx.status.success(),
        "{}",
        String::from_utf8_lossy(&nginx.stderr)
    );

    // The script refuses a conf it cannot substitute, instead of rendering a wrong one.
    let stale = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(stale.path().join("scripts")).unwrap();
    std::fs::copy(
        repo().join("scripts/nginx-conf.sh"),
        stale.path().join("scripts/nginx-conf.sh"),
    )
    .unwrap();
    std::fs::write(
        stale.path().join("nginx.conf"),
        read("nginx.conf").replace("server host:8080;", "server ava:8080;"),
    )
    .unwrap();
    let refused = Command::new(stale.path().join("scripts/nginx-conf.sh"))
        .args(["--upstream", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("server host:8080;"));
}
