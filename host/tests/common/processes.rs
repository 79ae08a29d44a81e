//! Processes of the production topology on this machine, shared by the topology test and
//! the topology benchmark: children stopped on drop, a test CA and its certificate, and
//! nginx running the project's nginx.conf as scripts/nginx-conf.sh renders it.

#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process stopped with SIGTERM (then killed) on drop, its output in `log`.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, mut command: Command, logs: &Path) -> Self {
        let log = logs.join(format!("{name}.log"));
        let out = File::create(&log).unwrap();
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            name: name.into(),
            child,
            log,
        }
    }

    /// Panics with the end of its log when it has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{} exited ({status}):\n{}", self.name, tail(&self.log));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA of the test's own and a certificate it signed for localhost and 127.0.0.1, in
/// `dir` as nginx.conf names them (fullchain.pem, privkey.pem). Returns the CA's PEM.
pub fn make_certificates(dir: &Path) -> Vec<u8> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"]);
    ca.extend(["-subj", "/CN=Ava topology test CA"]);
    openssl(&ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "privkey.pem",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&csr, dir);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
        dir,
    );
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    let mut chain = std::fs::read(dir.join("leaf.pem")).unwrap();
    chain.extend_from_slice(&ca);
    std::fs::write(dir.join("fullchain.pem"), chain).unwrap();
    ca
}

/// `ava args` as compose starts it: only the environment given here (production, the
/// config, the data folder, the database), run from the repository's root. Callers add what
/// their run needs.
pub fn ava_command(
    args: &[&str],
    home: &Path,
    config: &Path,
    data: &Path,
    database_url: &str,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ava"));
    command
        .args(args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("APP_ENV", "production")
        .env("AVA_CONFIG", config)
        .env("AVA_DATA_DIR", data)
        .env("DATABASE_URL", database_url);
    command
}

/// The user this process runs as, for nginx's `user` directive.
pub fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Where nginx listens and what it serves; everything else is nginx.conf as committed.
pub struct NginxLayout<'a> {
    pub upstreams: &'a [String],
    pub certs: &'a Path,
    pub http_port: u16,
    pub https_port: u16,
    /// The pid file and the rendered nginx.conf go here.
    pub dir: &'a Path,
}

/// Renders nginx.conf for `layout` with scripts/nginx-conf.sh and starts nginx on it in the
/// foreground, its output in `logs`.
pub fn start_nginx(name: &str, layout: &NginxLayout, logs: &Path) -> Proc {
    let mut render = Command::new(repo().join("scripts/nginx-conf.sh"));
    for upstream in layout.upstreams {
        render.args(["--upstream", upstream.trim_start_matches("http://")]);
    }
    let rendered = render
        .arg("--root")
        .arg(repo().join("frontend/dist"))
        .arg("--certs")
        .arg(layout.certs)
        .args(["--http-port", &layout.http_port.to_string()])
        .args(["--https-port", &layout.https_port.to_string()])
        .arg("--pid")
        .arg(layout.dir.join(format!("{name}.pid")))
        .args(["--user", &whoami()])
        .output()
        .expect("scripts/nginx-conf.sh runs");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let conf = layout.dir.join(format!("{name}.conf"));
    std::fs::write(&conf, &rendered.stdout).unwrap();
    let mut nginx = Command::new("nginx");
    nginx.arg("-c").arg(&conf).args(["-g", "daemon off;"]);
    Proc::spawn(name, nginx, logs)
}
