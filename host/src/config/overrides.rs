//! Environment overrides of `ava.toml`: `AVA__PLUGINS__PERSONA__USE=openai-persona` sets
//! `plugins.persona.use`. Path segments are matched case-insensitively, with `_` and `-`
//! interchangeable (environment variable names cannot hold `-`). Values are TOML
//! (`false`, `3`, `["a", "b"]`) or, when they do not parse as TOML, plain strings.

use super::ConfigError;

const PREFIX: &str = "AVA__";

/// Applies every `AVA__...` variable of `env` to `table`, in name order so the result does
/// not depend on the environment's iteration order.
pub(super) fn apply(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let path: Vec<String> = var[PREFIX.len()..]
            .split("__")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if path.iter().any(|s| s.is_empty()) {
            return Err(ConfigError::Override {
                var,
                message: "empty path segment".into(),
            });
        }
        set(table, &path, parse_value(&raw)).map_err(|message| ConfigError::Override {
            var: var.clone(),
            message,
        })?;
    }
    Ok(())
}

fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn same_key(existing: &str, wanted: &str) -> bool {
    existing.len() == wanted.len()
        && existing.bytes().zip(wanted.bytes()).all(|(a, b)| {
            let norm = |c: u8| {
                if c == b'-' {
                    b'_'
                } else {
                    c.to_ascii_lowercase()
                }
            };
            norm(a) == norm(b)
        })
}

fn set(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (head, rest) = path.split_first().expect("path is not empty");
    let key = table
        .keys()
        .find(|k| same_key(k, head))
        .cloned()
        .unwrap_or_else(|| head.clone());
    if rest.is_empty() {
        table.insert(key, value);
        return Ok(());
    }
    let entry = table
        .entry(key.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(inner) => set(inner, rest, value),
        _ => Err(format!("`{key}` is not a table")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn applied(text: &str, pairs: &[(&str, &str)]) -> toml::Table {
        let mut table: toml::Table = toml::from_str(text).unwrap();
        apply(&mut table, env(pairs)).unwrap();
        table
    }

    #[test]
    fn a_bare_word_becomes_a_string() {
        let t = applied(
            "[plugins.persona]\nuse = \"local-persona\"\n",
            &[("AVA__PLUGINS__PERSONA__USE", "openai-persona")],
        );
        assert_eq!(
            t["plugins"]["persona"]["use"].as_str(),
            Some("openai-persona")
        );
    }

    #[test]
    fn toml_values_keep_their_type() {
        let t = applied(
            "[plugin.stripe]\nenabled = true\n",
            &[
                ("AVA__PLUGIN__STRIPE__ENABLED", "false"),
                ("AVA__PLUGINS__JOBS__USE", "[\"photo-job\"]"),
            ],
        );
        assert_eq!(t["plugin"]["stripe"]["enabled"].as_bool(), Some(false));
        assert_eq!(t["plugins"]["jobs"]["use"][0].as_str(), Some("photo-job"));
    }

    #[test]
    fn underscores_match_dashes_in_existing_keys() {
        let t = applied(
            "[plugin.local-persona]\nenabled = true\n",
            &[("AVA__PLUGIN__LOCAL_PERSONA__ENABLED", "false")],
        );
        assert_eq!(
            t["plugin"]["local-persona"]["enabled"].as_bool(),
            Some(false)
        );
        assert!(
            !t["plugin"]
                .as_table()
                .unwrap()
                .contains_key("local_persona")
        );
    }

    #[test]
    fn other_variables_are_ignored() {
        let t = applied("", &[("AVA_ADDR", "0.0.0.0:1"), ("PATH", "/bin")]);
        assert!(t.is_empty());
    }

    #[test]
    fn descending_into_a_scalar_is_an_error() {
        let mut table: toml::Table = toml::from_str("plugins = 3").unwrap();
        let err = apply(&mut table, env(&[("AVA__PLUGINS__PERSONA__USE", "x")])).unwrap_err();
        assert!(err.to_string().contains("AVA__PLUGINS__PERSONA__USE"));
    }
}
