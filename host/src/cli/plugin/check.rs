//! `ava plugin check` and `ava plugin list`: the operator's view of `ava.toml`.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::app;
use crate::config::Settings;
use crate::plugins::{self, ConfigSource, MemoryKv, Services};

/// Loads every plugin of the configuration and prints a table; false when anything is wrong.
/// With `upstream`, each plugin is also asked to verify itself with its upstream (its
/// `check` export): off by default, since that reaches out to Stripe, OpenAI and the like.
pub async fn check(settings: &Settings, upstream: bool) -> anyhow::Result<bool> {
    let services = Services {
        kv: Arc::new(MemoryKv::default()),
        photos: None,
    };
    let source = ConfigSource::file(&settings.config, false);
    let config = source.read()?;
    let runtime = app::runtime(settings, &config, services)?;
    let report = plugins::check(&runtime, &config, 0).await;

    let mut rows = vec![
        [
            "SLOT", "PLUGIN", "VERSION", "CONTRACT", "GRANTS", "LIMITS", "STATUS",
        ]
        .map(String::from),
    ];
    let mut failed_checks = 0;
    for p in &report.plugins {
        let slots = if p.slots.is_empty() {
            "-".to_string()
        } else {
            p.slots
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(",")
        };
        let row = match &p.outcome {
            None => [
                slots,
                p.name.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "disabled".into(),
            ],
            Some(Err(err)) => [
                slots,
                p.name.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("ERROR: {err}"),
            ],
            Some(Ok(loaded)) => {
                let info = loaded.info();
                let grants = loaded.grants();
                let mut g = String::new();
                let hosts = grants.allowlist.describe();
                let _ = write!(
                    g,
                    "net: {}",
                    if hosts.is_empty() {
                        "none".into()
                    } else {
                        hosts.join(" ")
                    }
                );
                let secrets: Vec<&str> = grants.secret_names().collect();
                if !secrets.is_empty() {
                    let _ = write!(g, "; secrets: {}", secrets.join(" "));
                }
                let loaded_in = match loaded.module().provenance {
                    plugins::Provenance::Cached { load } => {
                        format!("{} µs from cache", load.as_micros())
                    }
                    plugins::Provenance::Compiled { compile } => {
                        format!("compiled in {} ms", compile.as_millis())
                    }
                };
                // The plugin's own verdict on its configuration (credentials, model, price).
                let verdict = if upstream {
                    loaded.check().await
                } else {
                    Ok(false)
                };
                let status = match verdict {
                    Ok(true) => format!("ok, checked upstream ({loaded_in})"),
                    Ok(false) if upstream => {
                        format!("ok, not checked: contract 0.1.0 has no check ({loaded_in})")
                    }
                    Ok(false) => format!("ok ({loaded_in})"),
                    Err(err) => {
                        failed_checks += 1;
                        format!("CHECK FAILED: {err}")
                    }
                };
                [
                    slots,
                    format!("{} ({})", p.name, loaded.world()),
                    info.version.clone(),
                    info.contract.clone(),
                    g,
                    loaded.limits().describe(),
                    status,
                ]
            }
        };
        rows.push(row);
    }
    print!("{}", table(&rows));
    for problem in &report.problems {
        println!("ERROR: {problem}");
    }
    let problems = report.errors().len() + failed_checks;
    if problems == 0 {
        println!("{}: all plugins valid", settings.config.display());
    } else {
        println!("{}: {problems} problem(s)", settings.config.display());
    }
    Ok(problems == 0)
}

/// Lists the configured plugins without compiling them.
pub fn list(settings: &Settings) -> anyhow::Result<()> {
    let config = ConfigSource::file(&settings.config, false).read()?;
    let mut rows =
        vec![["PLUGIN", "ENABLED", "SLOT", "CONTRACT", "SIZE", "PATH"].map(String::from)];
    for (name, plugin) in &config.plugin {
        let mut slots = Vec::new();
        for (slot, used) in [
            ("billing", &config.plugins.billing),
            ("persona", &config.plugins.persona),
            ("images", &config.plugins.images),
        ] {
            if used.as_ref().is_some_and(|u| &u.plugin == name) {
                slots.push(slot);
            }
        }
        if config.plugins.jobs.plugins.contains(name) {
            slots.push("jobs");
        }
        let (contract, size) = match std::fs::read(&plugin.path) {
            Ok(bytes) => (
                plugins::inspect(&bytes)
                    .map(|i| i.contract.to_string())
                    .unwrap_or_else(|e| format!("invalid: {e}")),
                format!("{} KiB", bytes.len() / 1024),
            ),
            Err(e) => (format!("missing: {e}"), "-".into()),
        };
        rows.push([
            name.clone(),
            plugin.enabled.to_string(),
            if slots.is_empty() {
                "-".into()
            } else {
                slots.join(",")
            },
            contract,
            size,
            plugin.path.display().to_string(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn columns_line_up() {
        let rows = [
            ["A".to_string(), "BB".to_string()],
            ["ccc".to_string(), "d".to_string()],
        ];
        assert_eq!(table(&rows), "A    BB\nccc  d\n");
    }
}
