//! `ava plugin new NAME --kind KIND`: a ready plugin crate, from the templates in
//! `templates/` (plain files with `{{placeholder}}`s, filled in here).
//!
//! Everything is checked before anything is written, and the crate is written into a
//! temporary folder beside its destination and renamed into place, so a failure leaves
//! nothing behind.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::config::valid_plugin_name;

/// What kind of plugin to create: one per world of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    BillingProvider,
    ChatPersona,
    ImageProvider,
    JobHandler,
}

impl Kind {
    /// The world's name, which is also the SDK feature.
    pub fn name(self) -> &'static str {
        match self {
            Self::BillingProvider => "billing-provider",
            Self::ChatPersona => "chat-persona",
            Self::ImageProvider => "image-provider",
            Self::JobHandler => "job-handler",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::BillingProvider => {
                "A billing provider: checkout and portal through the provider's API, HMAC-signed webhooks"
            }
            Self::ChatPersona => "A chat persona that answers from its persona card",
            Self::ImageProvider => {
                "An image provider that fetches pictures from a configurable URL"
            }
            Self::JobHandler => "A job handler that saves notes in its key-value store",
        }
    }

    /// The crates its template uses besides ava-sdk.
    fn dependencies(self) -> &'static [&'static str] {
        match self {
            Self::BillingProvider => &["serde", "serde_json"],
            Self::JobHandler => &["serde"],
            Self::ChatPersona | Self::ImageProvider => &[],
        }
    }

    /// `(lib.rs, tests, about, call example, ava.toml snippet)`.
    fn templates(self) -> [&'static str; 5] {
        macro_rules! kind {
            ($dir:literal) => {
                [
                    include_str!(concat!("templates/", $dir, "/lib.rs")),
                    include_str!(concat!("templates/", $dir, "/tests.rs")),
                    include_str!(concat!("templates/", $dir, "/about.md")),
                    include_str!(concat!("templates/", $dir, "/call.sh")),
                    include_str!(concat!("templates/", $dir, "/ava.toml")),
                ]
            };
        }
        match self {
            Self::BillingProvider => kind!("billing-provider"),
            Self::ChatPersona => kind!("chat-persona"),
            Self::ImageProvider => kind!("image-provider"),
            Self::JobHandler => kind!("job-handler"),
        }
    }
}

const CARGO_TOML: &str = include_str!("templates/Cargo.toml.in");
const STANDALONE: &str = include_str!("templates/standalone.toml.in");
const README: &str = include_str!("templates/README.md.in");
const GITIGNORE: &str = include_str!("templates/gitignore.in");

/// The SDK this `ava` was built from.
const BUILT_WITH_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

/// `ava plugin new`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plugin's name: lowercase letters, digits and dashes, starting with a letter. It is
    /// the crate's name, its folder's and its name in `ava.toml`.
    #[arg(value_parser = parse_name)]
    pub name: String,
    /// The kind of plugin.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// The folder to create the crate in (NAME is created inside it).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub path: PathBuf,
    /// The ava-sdk crate to depend on [default: the SDK this `ava` was built from].
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// Crate names a plugin may not take: the language's and the template's own crates.
const RESERVED: &[&str] = &[
    "ava-sdk",
    "ava-host",
    "serde",
    "serde-json",
    "core",
    "std",
    "alloc",
    "test",
    "proc-macro",
    "self",
    "super",
    "crate",
];

/// A plugin name: what the host accepts in `ava.toml`, and also a crate name whose
/// component file (`name_with_underscores.wasm`) maps back to it, so dashes but no
/// underscores, starting with a letter.
pub fn parse_name(name: &str) -> Result<String, String> {
    let shape = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--");
    if !shape || !valid_plugin_name(name) {
        return Err(format!(
            "`{name}` is not a plugin name: use lowercase letters, digits and single dashes, \
             starting with a letter and at most 64 characters, e.g. `my-persona`"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` is taken by a crate the plugin depends on or by Rust itself: choose \
             another name"
        ));
    }
    Ok(name.to_string())
}

/// Creates the crate; prints where, and the `ava.toml` snippet.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let plan = plan(args)?;
    write(&plan)?;
    println!(
        "created {} ({} plugin `{}`)",
        plan.dest.display(),
        args.kind.name(),
        args.name
    );
    println!();
    println!("  cd {}", plan.dest.display());
    println!("  cargo test          # the plugin's tests, natively");
    println!("  ava plugin build    # the component, validated as the host loads it");
    println!();
    println!("To enable it, add this to ava.toml (also in its README.md):");
    println!();
    print!("{}", plan.snippet);
    Ok(())
}

/// Everything to write, decided and checked before writing anything.
#[derive(Debug)]
struct Plan {
    dest: PathBuf,
    files: Vec<(&'static str, String)>,
    snippet: String,
}

/// How the crate relates to a Cargo workspace around it.
#[derive(Debug, PartialEq)]
enum Home {
    /// Outside any workspace: it gets its own `[workspace]` and `[profile.plugin]`.
    Standalone,
    /// A member of the workspace at this root (matched by its `members`), which declares
    /// these of the template's dependencies in `[workspace.dependencies]`.
    Member { root: PathBuf, shared: Vec<String> },
}

fn plan(args: &Args) -> anyhow::Result<Plan> {
    let parent = args.path.canonicalize().with_context(|| {
        format!(
            "--path {}: no such folder (create it first)",
            args.path.display()
        )
    })?;
    if !parent.is_dir() {
        bail!("--path {}: not a folder", args.path.display());
    }
    let dest = parent.join(&args.name);
    if dest.symlink_metadata().is_ok() {
        bail!(
            "{} already exists: choose another name or --path, or remove it first",
            dest.display()
        );
    }
    let home = home_of(&dest)?;
    let crate_name = args.name.replace('-', "_");
    let wasm = match &home {
        Home::Member { root, .. } if root.join("scripts/build-plugins.sh").is_file() => {
            format!("dist/plugins/{}.wasm", args.name)
        }
        Home::Member { root, .. } => target_dir(root)
            .join(format!("wasm32-wasip2/plugin/{crate_name}.wasm"))
            .display()
            .to_string(),
        Home::Standalone => target_dir(&dest)
            .join(format!("wasm32-wasip2/plugin/{crate_name}.wasm"))
            .display()
            .to_string(),
    };
    let dependencies = dependencies(args, &home)?;
    let [lib, tests, about, call, snippet] = args.kind.templates();
    let vars = [
        ("name", args.name.as_str()),
        ("crate", crate_name.as_str()),
        ("type", &type_name(&args.name)),
        ("kind", args.kind.name()),
        ("description", args.kind.description()),
        ("env", &args.name.replace('-', "_").to_uppercase()),
        ("wasm", &wasm),
        ("dependencies", &dependencies),
        (
            "standalone",
            if home == Home::Standalone {
                STANDALONE
            } else {
                ""
            },
        ),
    ];
    let render = |template: &str| fill(template, &vars);
    let snippet = render(snippet);
    let call = render(call);
    let about = render(about);
    let readme = fill(
        README,
        &[
            ("name", args.name.as_str()),
            ("kind", args.kind.name()),
            ("description", args.kind.description()),
            ("about", about.trim_end()),
            ("call", call.trim_end()),
            ("snippet", snippet.trim_end()),
        ],
    );
    let mut files = vec![
        ("Cargo.toml", render(CARGO_TOML)),
        ("src/lib.rs", render(lib)),
        ("tests/plugin.rs", render(tests)),
        ("README.md", readme),
    ];
    if home == Home::Standalone {
        files.push((".gitignore", GITIGNORE.to_string()));
    }
    Ok(Plan {
        dest,
        files,
        snippet,
    })
}

/// Writes the crate into a temporary folder beside its destination, then renames it there.
fn write(plan: &Plan) -> anyhow::Result<()> {
    let parent = plan.dest.parent().expect("the destination has a parent");
    let name = plan.dest.file_name().expect("a name").to_string_lossy();
    let tmp = parent.join(format!(".{name}.ava-new-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        for (path, text) in &plan.files {
            let path = tmp.join(path);
            std::fs::create_dir_all(path.parent().expect("files are in the crate"))?;
            std::fs::write(&path, text)?;
        }
        format(&tmp);
        std::fs::rename(&tmp, &plan.dest)
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(err).with_context(|| format!("cannot write {}", plan.dest.display()));
    }
    Ok(())
}

/// Formats the Rust files with rustfmt when there is one: how long a line gets depends on
/// the name. Best effort: unformatted code builds as well.
fn format(dir: &Path) {
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(dir.join("src/lib.rs"))
        .arg(dir.join("tests/plugin.rs"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// The `[dependencies]` lines.
fn dependencies(args: &Args, home: &Home) -> anyhow::Result<String> {
    let feature = args.kind.name();
    let mut lines = Vec::new();
    let shared = |name: &str| matches!(home, Home::Member { shared, .. } if shared.iter().any(|s| s == name));
    if shared("ava-sdk") && args.sdk.is_none() {
        lines.push(format!(
            "ava-sdk = {{ workspace = true, features = [\"{feature}\"] }}"
        ));
    } else {
        let sdk = sdk_path(args.sdk.as_deref())?;
        lines.push(format!(
            "ava-sdk = {{ path = {}, features = [\"{feature}\"] }}",
            toml_string(&sdk.display().to_string())
        ));
    }
    for dep in args.kind.dependencies() {
        let line = if shared(dep) {
            format!("{dep} = {{ workspace = true }}")
        } else if *dep == "serde" {
            "serde = { version = \"1\", features = [\"derive\"] }".to_string()
        } else {
            format!("{dep} = \"1\"")
        };
        lines.push(line);
    }
    Ok(lines.join("\n") + "\n")
}

/// The SDK to depend on: `--sdk`, or the one this `ava` was built from.
fn sdk_path(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let (path, origin) = match given {
        Some(path) => (path.to_path_buf(), "--sdk"),
        None => (
            PathBuf::from(BUILT_WITH_SDK),
            "the SDK this ava was built from",
        ),
    };
    let manifest = path.join("Cargo.toml");
    let is_sdk = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|t| {
            t.get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                == Some("ava-sdk")
        });
    if !is_sdk {
        bail!(
            "{origin} ({}) is not an ava-sdk crate (no longer there?): pass --sdk PATH, the \
             folder of ava-sdk (`sdk/` in Ava's repository)",
            path.display()
        );
    }
    Ok(path.canonicalize()?)
}

/// Where `dest` stands among Cargo workspaces: the nearest `Cargo.toml` with a
/// `[workspace]` above it decides.
fn home_of(dest: &Path) -> anyhow::Result<Home> {
    for dir in dest.ancestors().skip(1) {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let table: toml::Table = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
        let Some(workspace) = table.get("workspace").and_then(|w| w.as_table()) else {
            continue;
        };
        let relative = dest.strip_prefix(dir).expect("an ancestor");
        let listed = |key: &str| {
            workspace
                .get(key)
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str())
                .any(|pattern| member_matches(pattern, relative))
        };
        if !listed("members") || listed("exclude") {
            bail!(
                "{} is inside the Cargo workspace of {}, which does not list it as a member: \
                 add it to `members` there, or create the plugin elsewhere with --path",
                dest.display(),
                manifest.display()
            );
        }
        let shared = workspace
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default();
        return Ok(Home::Member {
            root: dir.to_path_buf(),
            shared,
        });
    }
    Ok(Home::Standalone)
}

/// Whether a workspace `members` entry (a path, or a path ending in `/*`) names `relative`.
fn member_matches(pattern: &str, relative: &Path) -> bool {
    let pattern = pattern.trim_end_matches('/');
    match pattern.strip_suffix("/*") {
        Some(parent) => relative.parent() == Some(Path::new(parent)),
        None if pattern == "*" => relative.components().count() == 1,
        None => relative == Path::new(pattern),
    }
}

/// Where cargo puts builds of the workspace at `root`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// `my-persona` → `MyPersona`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `template` with every `{{key}}` replaced by its value.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_lowercase_words_joined_by_dashes() {
        for good in ["my-persona", "a", "images2", "x-1-y"] {
            assert_eq!(parse_name(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "My-Persona",
            "my_persona",
            "-x",
            "x-",
            "a--b",
            "1abc",
            "my persona",
            "é",
        ] {
            let err = parse_name(bad).unwrap_err();
            assert!(err.contains("not a plugin name"), "{bad}: {err}");
        }
        assert!(parse_name(&"a".repeat(65)).is_err());
        assert!(
            parse_name("ava-sdk")
                .unwrap_err()
                .contains("choose another name")
        );
    }

    #[test]
    fn every_name_accepted_here_is_accepted_by_the_host() {
        assert!(valid_plugin_name("my-persona"));
        assert!(!valid_plugin_name("My Persona"));
    }

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("my-persona"), "MyPersona");
        assert_eq!(type_name("x2-y"), "X2Y");
    }

    #[test]
    fn workspace_members_are_matched_by_path_or_glob() {
        assert!(member_matches("plugins/*", Path::new("plugins/new-one")));
        assert!(!member_matches("plugins/*", Path::new("other/new-one")));
        assert!(!member_matches("plugins/*", Path::new("plugins/a/b")));
        assert!(member_matches("host", Path::new("host")));
        assert!(member_matches("*", Path::new("x")));
    }

    fn args(dir: &Path, kind: Kind) -> Args {
        Args {
            name: "my-plugin".into(),
            kind,
            path: dir.to_path_buf(),
            sdk: None,
        }
    }

    #[test]
    fn every_template_is_filled_in_completely() {
        let dir = tempfile::tempdir().unwrap();
        for kind in [
            Kind::BillingProvider,
            Kind::ChatPersona,
            Kind::ImageProvider,
            Kind::JobHandler,
        ] {
            let plan = plan(&args(dir.path(), kind)).unwrap();
            for (file, text) in &plan.files {
                assert!(!text.contains("{{"), "{kind:?} {file}:\n{text}");
            }
            let manifest: toml::Table = plan.files[0].1.parse().unwrap();
            assert_eq!(manifest["package"]["name"].as_str(), Some("my-plugin"));
            let sdk = &manifest["dependencies"]["ava-sdk"];
            assert_eq!(sdk["features"][0].as_str(), Some(kind.name()));
            assert!(
                manifest.contains_key("workspace"),
                "standalone: {manifest:?}"
            );
            assert!(manifest["profile"]["plugin"].is_table());
            let snippet: toml::Table = plan.snippet.parse().unwrap();
            assert!(snippet["plugin"]["my-plugin"]["path"].is_str());
        }
    }

    #[test]
    fn inside_this_repository_s_plugins_folder_the_crate_is_a_workspace_member() {
        let plugins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
        let plan = plan(&args(&plugins, Kind::BillingProvider)).unwrap();
        let manifest: toml::Table = plan.files[0].1.parse().unwrap();
        assert!(!manifest.contains_key("workspace"));
        assert!(!manifest.contains_key("profile"));
        let deps = &manifest["dependencies"];
        assert_eq!(deps["ava-sdk"]["workspace"].as_bool(), Some(true));
        assert_eq!(deps["serde"]["workspace"].as_bool(), Some(true));
        assert!(plan.snippet.contains("dist/plugins/my-plugin.wasm"));
    }

    #[test]
    fn an_existing_folder_or_a_missing_sdk_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("my-plugin")).unwrap();
        let err = plan(&args(dir.path(), Kind::JobHandler)).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");

        let mut args = args(dir.path(), Kind::JobHandler);
        args.name = "other".into();
        args.sdk = Some(dir.path().join("nowhere"));
        let err = plan(&args).unwrap_err();
        assert!(err.to_string().contains("pass --sdk PATH"), "{err}");
    }
}
