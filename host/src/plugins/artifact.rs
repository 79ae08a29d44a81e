//! Inspecting a plugin binary before the runtime sees it: it must be a component and carry
//! a contract version this host implements. Bad bytes are an error here, never a panic later.

use semver::Version;
use sha2::{Digest, Sha256};
use wasmparser::{Encoding, Parser, Payload};

/// What the host learns from a binary without compiling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// Hex SHA-256 of the bytes: the key of the compile cache.
    pub sha256: String,
    /// The `ava:plugin` contract version the plugin was built against.
    pub contract: Version,
}

/// Reads the binary's shape and its `ava:contract-version` section.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, String> {
    if bytes.is_empty() {
        return Err("not a valid WebAssembly binary: the file is empty".into());
    }
    let mut encoding = None;
    let mut contract = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| format!("not a valid WebAssembly binary: {e}"))?;
        match payload {
            Payload::Version { encoding: e, .. } if encoding.is_none() => encoding = Some(e),
            Payload::CustomSection(section)
                if section.name() == ava_sdk::contract::VERSION_SECTION =>
            {
                let text = std::str::from_utf8(section.data())
                    .map_err(|_| "its contract version section is not UTF-8".to_string())?;
                contract = Some(Version::parse(text.trim()).map_err(|e| {
                    format!("its contract version {text:?} is not a semver version: {e}")
                })?);
            }
            _ => {}
        }
    }
    match encoding {
        Some(Encoding::Component) => {}
        Some(Encoding::Module) => {
            return Err(
                "it is a core WebAssembly module, not a component: build it for the \
                 wasm32-wasip2 target with ava-sdk"
                    .into(),
            );
        }
        None => return Err("not a valid WebAssembly binary: it has no header".into()),
    }
    let contract = contract.ok_or_else(|| {
        format!(
            "it is not an Ava plugin: it has no `{}` section (plugins are built with ava-sdk's \
             export_*! macros)",
            ava_sdk::contract::VERSION_SECTION
        )
    })?;
    Ok(Inspected {
        sha256: hex::encode(Sha256::digest(bytes)),
        contract,
    })
}

/// The contract version this host implements natively: what the SDK builds.
pub fn host_contract() -> Version {
    Version::parse(ava_sdk::contract::VERSION).expect("the SDK's contract version is semver")
}

/// Every contract line this host runs, each at the newest version it implements. Older lines
/// stay: `sdk/wit/since_v*` keeps each frozen, and the host adapts a plugin of an older line
/// (the exports a newer line added are missing from it, see [`LoadedPlugin::check`]).
///
/// [`LoadedPlugin::check`]: super::LoadedPlugin::check
pub fn host_contracts() -> [Version; 2] {
    [Version::new(0, 1, 0), host_contract()]
}

/// Whether a plugin built for `plugin` runs on this host.
pub fn check_contract(plugin: &Version) -> Result<(), String> {
    check_contract_against(plugin, &host_contracts())
}

/// Whether a plugin built for `plugin` runs on a host implementing the lines `lines`: on
/// one of them (same major; for 0.x, the same minor) and not newer than what the host has of
/// it, since a newer plugin may import functions this host does not have.
pub fn check_contract_against(plugin: &Version, lines: &[Version]) -> Result<(), String> {
    let runs_on = |host: &Version| {
        let same_line =
            plugin.major == host.major && (host.major > 0 || plugin.minor == host.minor);
        let not_newer =
            (plugin.major, plugin.minor, plugin.patch) <= (host.major, host.minor, host.patch);
        same_line && not_newer && plugin.pre.is_empty()
    };
    if lines.iter().any(runs_on) {
        return Ok(());
    }
    let lines: Vec<String> = lines
        .iter()
        .map(|host| {
            let line = if host.major > 0 {
                format!("{}.x", host.major)
            } else {
                format!("{}.{}.x", host.major, host.minor)
            };
            format!("{line} up to {host}")
        })
        .collect();
    Err(format!(
        "it was built against contract ava:plugin@{plugin}, but this host runs plugins built \
         for {}: rebuild it with a matching ava-sdk",
        lines.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn same_version_and_older_patches_are_compatible() {
        assert!(check_contract_against(&v("0.1.0"), &[v("0.1.0")]).is_ok());
        assert!(check_contract_against(&v("0.1.0"), &[v("0.1.3")]).is_ok());
        assert!(check_contract_against(&v("1.0.0"), &[v("1.4.0")]).is_ok());
    }

    #[test]
    fn newer_or_other_lines_are_refused_with_a_reason() {
        let err = check_contract_against(&v("0.2.0"), &[v("0.1.0")]).unwrap_err();
        assert!(
            err.contains("ava:plugin@0.2.0") && err.contains("0.1.x"),
            "{err}"
        );
        assert!(check_contract_against(&v("0.1.1"), &[v("0.1.0")]).is_err());
        assert!(check_contract_against(&v("1.0.0"), &[v("0.1.0")]).is_err());
        assert!(check_contract_against(&v("2.0.0"), &[v("1.0.0")]).is_err());
        assert!(check_contract_against(&v("0.1.0-rc.1"), &[v("0.1.0")]).is_err());
    }

    #[test]
    fn this_host_runs_both_lines_and_names_them_when_refusing() {
        assert!(check_contract(&v("0.1.0")).is_ok());
        assert!(check_contract(&v("0.2.0")).is_ok());
        let err = check_contract(&v("0.3.0")).unwrap_err();
        assert!(
            err.contains("0.1.x up to 0.1.0") && err.contains("0.2.x up to 0.2.0"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(inspect(b"").unwrap_err().contains("empty"));
        assert!(
            inspect(b"not wasm at all")
                .unwrap_err()
                .contains("not a valid")
        );
        assert!(inspect(&[0, b'a', b's', b'm', 1, 0, 0]).is_err());
    }

    #[test]
    fn a_core_module_is_refused() {
        // The smallest core module: magic + version 1.
        let err = inspect(&[0, b'a', b's', b'm', 1, 0, 0, 0]).unwrap_err();
        assert!(err.contains("core WebAssembly module"), "{err}");
    }

    #[test]
    fn a_component_without_the_section_is_not_a_plugin() {
        // The smallest component: magic + component version/layer.
        let err = inspect(&[0, b'a', b's', b'm', 0x0d, 0, 1, 0]).unwrap_err();
        assert!(err.contains("not an Ava plugin"), "{err}");
    }
}
