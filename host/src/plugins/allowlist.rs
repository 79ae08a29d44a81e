//! Which destinations a plugin may reach over HTTP.
//!
//! Entries are `host` (https, port 443), `host:port` (https), `scheme://host[:port]`,
//! `*.domain` (any subdomain of `domain`, not `domain` itself, https), or `self` (this host's
//! own public URL, e.g. for the development billing provider posting its webhooks). Scheme,
//! host and port must all match; there is no allow-everything entry.

use url::Url;

/// A parsed allowlist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    scheme: String,
    host: HostPattern,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.domain`: stored as `.domain`.
    Subdomains(String),
}

impl Allowlist {
    /// Parses `entries`; `self_url` is what `self` stands for.
    pub fn parse(entries: &[String], self_url: &Url) -> Result<Self, String> {
        let rules = entries
            .iter()
            .map(|entry| parse_entry(entry.trim(), self_url))
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Whether `url` may be requested.
    pub fn permits(&self, url: &Url) -> bool {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.rules.iter().any(|rule| {
            rule.scheme == url.scheme()
                && rule.port == port
                && match &rule.host {
                    HostPattern::Exact(h) => *h == host,
                    HostPattern::Subdomains(suffix) => {
                        host.ends_with(suffix.as_str()) && host.len() > suffix.len()
                    }
                }
        })
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The entries in canonical form (`scheme://host:port`), for `ava plugins check`.
    pub fn describe(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| match &r.host {
                HostPattern::Exact(h) => format!("{}://{}:{}", r.scheme, h, r.port),
                HostPattern::Subdomains(s) => format!("{}://*{}:{}", r.scheme, s, r.port),
            })
            .collect()
    }
}

fn parse_entry(entry: &str, self_url: &Url) -> Result<Rule, String> {
    if entry == "self" {
        return rule_from_url(self_url, entry);
    }
    if entry.is_empty() || entry == "*" || entry.contains("://*") && !entry.contains("://*.") {
        return Err(format!(
            "allow_hosts entry {entry:?}: name the hosts; there is no allow-everything entry"
        ));
    }
    let with_scheme = if entry.contains("://") {
        entry.to_string()
    } else {
        format!("https://{entry}")
    };
    let (scheme, rest) = with_scheme.split_once("://").expect("scheme added above");
    if let Some(domain_and_port) = rest.strip_prefix("*.") {
        let url = Url::parse(&format!("{scheme}://{domain_and_port}"))
            .map_err(|e| format!("allow_hosts entry {entry:?}: {e}"))?;
        let mut rule = rule_from_url(&url, entry)?;
        let HostPattern::Exact(domain) = rule.host else {
            unreachable!("rule_from_url gives exact hosts")
        };
        rule.host = HostPattern::Subdomains(format!(".{domain}"));
        return Ok(rule);
    }
    let url = Url::parse(&with_scheme).map_err(|e| format!("allow_hosts entry {entry:?}: {e}"))?;
    rule_from_url(&url, entry)
}

fn rule_from_url(url: &Url, entry: &str) -> Result<Rule, String> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "allow_hosts entry {entry:?}: only http and https are supported"
        ));
    }
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(format!(
            "allow_hosts entry {entry:?}: give a scheme, host and port only, no path"
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("allow_hosts entry {entry:?}: no host"))?
        .to_ascii_lowercase();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("allow_hosts entry {entry:?}: no port"))?;
    Ok(Rule {
        scheme: url.scheme().to_string(),
        host: HostPattern::Exact(host),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Allowlist {
        let me = Url::parse("http://127.0.0.1:8080").unwrap();
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        Allowlist::parse(&entries, &me).unwrap()
    }

    fn permits(list: &Allowlist, url: &str) -> bool {
        list.permits(&Url::parse(url).unwrap())
    }

    #[test]
    fn a_bare_host_means_https_on_443() {
        let l = list(&["api.stripe.com"]);
        assert!(permits(&l, "https://api.stripe.com/v1/checkout/sessions"));
        assert!(permits(&l, "https://API.Stripe.com:443/x"));
        assert!(!permits(&l, "http://api.stripe.com/x"));
        assert!(!permits(&l, "https://api.stripe.com:8443/x"));
    }

    #[test]
    fn other_hosts_and_lookalikes_are_refused() {
        let l = list(&["api.stripe.com"]);
        assert!(!permits(&l, "https://stripe.com/"));
        assert!(!permits(&l, "https://api.stripe.com.evil.test/"));
        assert!(!permits(&l, "https://evilapi.stripe.com/"));
    }

    #[test]
    fn explicit_scheme_and_port_must_match_exactly() {
        let l = list(&["http://127.0.0.1:9000"]);
        assert!(permits(&l, "http://127.0.0.1:9000/v1"));
        assert!(!permits(&l, "http://127.0.0.1:9001/v1"));
        assert!(!permits(&l, "https://127.0.0.1:9000/v1"));
    }

    #[test]
    fn wildcard_covers_subdomains_only() {
        let l = list(&["*.replicate.delivery"]);
        assert!(permits(&l, "https://pbxt.replicate.delivery/a.webp"));
        assert!(permits(&l, "https://a.b.replicate.delivery/a.webp"));
        assert!(!permits(&l, "https://replicate.delivery/a.webp"));
        assert!(!permits(&l, "https://xreplicate.delivery/a.webp"));
    }

    #[test]
    fn self_is_the_public_url() {
        let l = list(&["self"]);
        assert!(permits(&l, "http://127.0.0.1:8080/billing/webhook"));
        assert!(!permits(&l, "http://127.0.0.1:8081/billing/webhook"));
    }

    #[test]
    fn ipv6_hosts_work() {
        let l = list(&["http://[::1]:7000"]);
        assert!(permits(&l, "http://[::1]:7000/"));
        assert!(!permits(&l, "http://[100::1]:7000/"));
    }

    #[test]
    fn an_empty_list_refuses_everything() {
        assert!(!permits(&list(&[]), "https://example.com/"));
    }

    #[test]
    fn allow_everything_and_paths_are_rejected() {
        let me = Url::parse("http://localhost:8080").unwrap();
        for bad in ["*", "https://*", "api.stripe.com/v1", "ftp://x.test", ""] {
            let err = Allowlist::parse(&[bad.to_string()], &me);
            assert!(err.is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn describe_is_canonical() {
        let l = list(&["api.stripe.com", "*.example.com", "http://localhost:9000"]);
        assert_eq!(
            l.describe(),
            [
                "https://api.stripe.com:443",
                "https://*.example.com:443",
                "http://localhost:9000"
            ]
        );
    }
}
