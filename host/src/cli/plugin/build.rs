//! `ava plugin build [DIR]`: builds a plugin crate into a component and validates it as the
//! host does when it loads a plugin.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::config::Settings;
use crate::plugins::World;
use crate::plugins::types::PluginInfo;

/// The target plugins are built for.
const TARGET: &str = "wasm32-wasip2";

/// `ava plugin build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plugin crate's folder.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// What the host learned from a component at load time.
pub struct Described {
    pub name: String,
    pub world: World,
    pub info: PluginInfo,
    pub kinds: Vec<String>,
}

/// Builds, validates and describes the crate in `args.dir`.
pub async fn run(settings: &Settings, args: &Args) -> anyhow::Result<()> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("{}: no such folder", args.dir.display()))?;
    let manifest = dir.join("Cargo.toml");
    let package = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("package"));
    if !package {
        bail!(
            "{} is not a plugin crate (no Cargo.toml with a [package]): run `ava plugin build` \
             in one, or pass its folder",
            dir.display()
        );
    }
    ensure_target(&dir)?;
    let wasm = cargo_build(&dir, &manifest)?;
    let size = std::fs::metadata(&wasm)
        .with_context(|| format!("cannot read {}", wasm.display()))?
        .len();
    let described = describe(settings, &wasm).await?;
    print!("{}", report(&wasm, size, &described));
    Ok(())
}

/// Installs the wasm32-wasip2 target with rustup when it is missing.
fn ensure_target(dir: &Path) -> anyhow::Result<()> {
    let installed = match Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(dir)
        .output()
    {
        Ok(out) if out.status.success() => out,
        // No rustup: the toolchain may have the target anyway; cargo says so if not.
        _ => return Ok(()),
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("installing the {TARGET} target: rustup target add {TARGET}");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(dir)
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("`rustup target add {TARGET}` failed: install the target, then build again");
    }
    Ok(())
}

/// Runs cargo and returns the component it built, from cargo's own artifact messages.
fn cargo_build(dir: &Path, manifest: &Path) -> anyhow::Result<PathBuf> {
    let mut child = Command::new("cargo")
        .args(["build", "--profile", "plugin", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot run cargo")?;
    let stdout = child.stdout.take().expect("piped");
    let mut component = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(path) = component_of(&line, manifest) {
            component = Some(path);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!(
            "cargo build failed (its messages are above); a crate outside a workspace needs \
             the [workspace] and [profile.plugin] that `ava plugin new` writes"
        );
    }
    component.ok_or_else(|| {
        anyhow::anyhow!(
            "cargo built no WebAssembly component for {}: its [lib] needs crate-type = \
             [\"cdylib\", \"rlib\"]",
            manifest.display()
        )
    })
}

/// The `.wasm` file of a `compiler-artifact` message about the cdylib of `manifest`.
fn component_of(line: &str, manifest: &Path) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact"
        || Path::new(message["manifest_path"].as_str()?) != manifest
    {
        return None;
    }
    let cdylib = message["target"]["crate_types"]
        .as_array()?
        .iter()
        .any(|t| t == "cdylib");
    if !cdylib {
        return None;
    }
    message["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wasm"))
        .map(PathBuf::from)
}

/// Loads the component as the host does (contract section, world, `metadata()` validated,
/// job kinds) and says what it is. Its required configuration is not set here, so a
/// plugin that requires some is described from the load that stops at its configuration.
pub async fn describe(settings: &Settings, wasm: &Path) -> anyhow::Result<Described> {
    let rt = super::author_runtime(settings, crate::config::LimitsConfig::default().memory_mib)?;
    let name = super::plugin_name(wasm);
    let report = super::load(&rt, &name, wasm, |_| {}).await;
    let outcome = report
        .plugins
        .into_iter()
        .next()
        .and_then(|p| p.outcome)
        .expect("one enabled plugin");
    let (world, description) = match outcome {
        Ok(loaded) => (
            loaded.world(),
            (loaded.info().clone(), loaded.kinds().to_vec()),
        ),
        Err(err) => {
            // The load got as far as the configuration only if the module was described.
            let path = wasm.to_path_buf();
            let compiler = rt.clone();
            let module = tokio::task::spawn_blocking(move || compiler.compile(&path))
                .await?
                .ok()
                .map(|(module, _)| module);
            match module
                .as_ref()
                .and_then(|m| Some((m.world, m.description.get()?)))
            {
                Some((world, d)) => (world, (d.info.clone(), d.kinds.clone())),
                None => bail!("{err}"),
            }
        }
    };
    Ok(Described {
        name,
        world,
        info: description.0,
        kinds: description.1,
    })
}

fn report(wasm: &Path, size: u64, d: &Described) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let info = &d.info;
    let _ = writeln!(
        out,
        "built {} ({})",
        wasm.display(),
        super::human_bytes(size)
    );
    let _ = writeln!(
        out,
        "  plugin    {} {} ({}), contract ava:plugin@{}",
        info.name, info.version, d.world, info.contract
    );
    if !info.description.is_empty() {
        let _ = writeln!(out, "  about     {}", info.description);
    }
    if info.config.is_empty() {
        let _ = writeln!(out, "  config    none");
    }
    let width = info.config.iter().map(|k| k.name.len()).max().unwrap_or(0);
    for (i, key) in info.config.iter().enumerate() {
        let what = match (key.required, key.secret) {
            (true, true) => "required secret",
            (false, true) => "optional secret",
            (true, false) => "required",
            (false, false) => "optional",
        };
        let _ = writeln!(
            out,
            "  {:<8}  {:<width$}  {what:<15}  {}",
            if i == 0 { "config" } else { "" },
            key.name,
            key.description
        );
    }
    if d.world == World::JobHandler {
        let _ = writeln!(out, "  kinds     {}", d.kinds.join(", "));
    }
    let _ = writeln!(
        out,
        "valid: it loads as `{}` would in a server (ava.toml: [plugin.{}] path = {:?})",
        d.name,
        d.name,
        wasm.display().to_string()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_component_is_found_in_cargo_s_artifact_messages() {
        let manifest = Path::new("/p/Cargo.toml");
        let artifact = r#"{"reason":"compiler-artifact","manifest_path":"/p/Cargo.toml","target":{"crate_types":["cdylib","rlib"]},"filenames":["/t/libp.rlib","/t/p.wasm"]}"#;
        assert_eq!(
            component_of(artifact, manifest),
            Some(PathBuf::from("/t/p.wasm"))
        );
        let dependency = r#"{"reason":"compiler-artifact","manifest_path":"/sdk/Cargo.toml","target":{"crate_types":["lib"]},"filenames":["/t/libsdk.rlib"]}"#;
        assert_eq!(component_of(dependency, manifest), None);
        assert_eq!(component_of("not json", manifest), None);
        let finished = r#"{"reason":"build-finished","success":true}"#;
        assert_eq!(component_of(finished, manifest), None);
    }
}
