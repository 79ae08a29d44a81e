//! Error reports to Sentry: panics, 5xx answers, plugin traps, timeouts and limit hits, and
//! jobs given up, each tagged with what an operator needs to find it (plugin, slot, route,
//! request id, job kind).
//!
//! What reaches Sentry is decided in one place, [`scrub`]: request bodies, cookies, query
//! strings and all but a few headers are dropped, fields whose name says they may hold a
//! secret or a user's words are dropped, and the values of the secret environment variables
//! (and any bearer token) are blanked wherever they appear. An event is only ever made from
//! an ERROR-level log line or a panic, never from a chat message.

use sentry::protocol::Event;
use serde_json::Value;

use crate::config::Settings;

/// Field and header names dropped from every event, wherever they are: secrets, and what
/// can carry a user's words (chat text, prompts, failure reasons quoting an upstream).
const SENSITIVE_KEYS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "dsn",
    "signature",
    "stripe-signature",
    "text",
    "content",
    "prompt",
    "reply",
    "message_text",
    "body",
    "data",
    "reason",
    "email",
];

/// Request headers an event keeps: enough to tell clients apart, nothing that identifies.
const KEPT_HEADERS: &[&str] = &["user-agent", "content-type", "accept", "x-request-id"];

/// Environment variables whose values are secrets even when they do not say so.
const SECRET_VARS: &[&str] = &["DATABASE_URL", "REDIS_URL", "SENTRY_DSN"];

/// Starts reporting to `SENTRY_DSN`; `None` (reporting off) when it is unset or empty.
/// Call before the runtime and the app are built: the client binds to the main hub, which
/// every thread started afterwards inherits. Keep the guard until exit (it flushes).
pub fn init(settings: &Settings) -> anyhow::Result<Option<sentry::ClientInitGuard>> {
    let Some(dsn) = settings
        .sentry_dsn
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    else {
        return Ok(None);
    };
    // Parsed here so a mistyped DSN stops the start with a clear error, not a panic.
    let _: sentry::types::Dsn = dsn
        .parse()
        .map_err(|e| anyhow::anyhow!("SENTRY_DSN is not a DSN: {e}"))?;
    let secrets = secret_values(std::env::vars());
    let options = sentry::ClientOptions::new()
        .dsn(dsn)
        .maybe_release(sentry::release_name!())
        .environment(settings.app_env.clone())
        .send_default_pii(false)
        .attach_stacktrace(true)
        .max_request_body_size(sentry::MaxRequestBodySize::None)
        .before_breadcrumb(|_| None)
        .before_send(move |event| scrub(event, &secrets));
    Ok(Some(sentry::init(options)))
}

/// The tracing layer: ERROR lines become events (their `tags.*` fields, tags); nothing
/// else is sent, so info lines cannot leak into a report.
pub fn tracing_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    sentry::integrations::tracing::ErrorLayer::new()
        .with_filter(tracing_subscriber::filter::LevelFilter::ERROR)
}

/// Tags the current request's scope (the per-request hub the tower layer made).
pub fn tag_request(route: &str, request_id: &str) {
    sentry::configure_scope(|scope| {
        scope.set_tag("route", route);
        if !request_id.is_empty() {
            scope.set_tag("request_id", request_id);
        }
    });
}

/// The values to blank in every event: those of variables whose name says secret, and of
/// the connection strings. Short values are left alone: blanking "1" would garble events.
fn secret_values(env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut values: Vec<String> = env
        .into_iter()
        .filter(|(name, _)| {
            let upper = name.to_ascii_uppercase();
            SECRET_VARS.contains(&upper.as_str())
                || ["KEY", "SECRET", "TOKEN", "PASSWORD"]
                    .iter()
                    .any(|word| upper.contains(word))
        })
        .map(|(_, value)| value)
        .filter(|value| value.len() >= 8)
        .collect();
    // Longest first, so a secret containing another is blanked whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values
}

/// The event as it may leave the process (see the module's doc).
pub fn scrub(mut event: Event<'static>, secrets: &[String]) -> Option<Event<'static>> {
    if let Some(request) = event.request.as_mut() {
        request.data = None;
        request.cookies = None;
        request.query_string = None;
        request.env.clear();
        request
            .headers
            .retain(|name, _| KEPT_HEADERS.contains(&name.to_ascii_lowercase().as_str()));
        if let Some(url) = request.url.as_mut() {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_password(None);
        }
    }
    if let Some(user) = event.user.take() {
        // The id finds the account; nothing else about the person leaves.
        event.user = user.id.map(|id| sentry::User {
            id: Some(id),
            ..Default::default()
        });
    }
    let mut value = serde_json::to_value(&event).ok()?;
    clean(&mut value, secrets);
    serde_json::from_value(value).ok()
}

/// Drops sensitive keys and blanks secret values, everywhere in `value`.
fn clean(value: &mut Value, secrets: &[String]) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !is_sensitive(key));
            for v in map.values_mut() {
                clean(v, secrets);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| clean(v, secrets)),
        Value::String(text) => {
            for secret in secrets {
                if text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), "[redacted]");
                }
            }
            if let Some(at) = text.find("Bearer ") {
                let end = text[at + 7..]
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                    .map_or(text.len(), |i| at + 7 + i);
                text.replace_range(at + 7..end, "[redacted]");
            }
        }
        _ => {}
    }
}

/// Whether a field named `key` may hold a secret or a user's words (`tags.` and `extra.`
/// spellings included).
fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let last = key.rsplit('.').next().unwrap_or(&key);
    SENSITIVE_KEYS.contains(&last)
        || last.ends_with("_token")
        || last.ends_with("_secret")
        || last.ends_with("_key")
        || last.ends_with("password")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{Exception, Request};
    use std::collections::BTreeMap;

    fn secrets() -> Vec<String> {
        secret_values([
            (
                "STRIPE_SECRET_KEY".to_string(),
                "sk_test_abcdef123456".to_string(),
            ),
            (
                "DATABASE_URL".to_string(),
                "postgres://ava:hunter22@db/ava".to_string(),
            ),
            ("APP_ENV".to_string(), "production".to_string()),
            ("AVA_OPERATOR_TOKEN".to_string(), "short".to_string()),
        ])
    }

    #[test]
    fn secret_values_are_those_named_secret_and_long_enough() {
        let values = secrets();
        assert_eq!(
            values,
            ["postgres://ava:hunter22@db/ava", "sk_test_abcdef123456"]
        );
    }

    #[test]
    fn requests_lose_bodies_cookies_queries_and_most_headers() {
        let mut headers = BTreeMap::new();
        headers.insert("Authorization".to_string(), "Bearer abc".to_string());
        headers.insert("User-Agent".to_string(), "test".to_string());
        headers.insert("Cookie".to_string(), "s=1".to_string());
        let event = Event {
            request: Some(Request {
                url: "https://ava.example/chat?token=abc#x".parse().ok(),
                data: Some("{\"message\":\"hello there\"}".into()),
                query_string: Some("token=abc".into()),
                headers,
                ..Default::default()
            }),
            ..Default::default()
        };
        let event = scrub(event, &secrets()).unwrap();
        let request = event.request.unwrap();
        assert_eq!(request.data, None);
        assert_eq!(request.query_string, None);
        assert_eq!(request.url.unwrap().as_str(), "https://ava.example/chat");
        assert_eq!(request.headers.keys().collect::<Vec<_>>(), ["User-Agent"]);
    }

    #[test]
    fn secrets_and_bearer_tokens_are_blanked_everywhere() {
        let mut extra = BTreeMap::new();
        extra.insert(
            "error".to_string(),
            "connect to postgres://ava:hunter22@db/ava failed".into(),
        );
        extra.insert("password".to_string(), "letmein".into());
        extra.insert("text".to_string(), "my private words".into());
        let event = Event {
            message: Some("sent Authorization: Bearer tok_123 and sk_test_abcdef123456".into()),
            exception: vec![Exception {
                ty: "Error".into(),
                value: Some("key sk_test_abcdef123456 refused".into()),
                ..Default::default()
            }]
            .into(),
            extra,
            ..Default::default()
        };
        let event = scrub(event, &secrets()).unwrap();
        let json = serde_json::to_string(&event).unwrap();
        for leaked in [
            "hunter22",
            "sk_test_abcdef",
            "tok_123",
            "letmein",
            "private words",
        ] {
            assert!(!json.contains(leaked), "{leaked} leaked: {json}");
        }
        assert_eq!(
            event.message.as_deref(),
            Some("sent Authorization: Bearer [redacted] and [redacted]")
        );
        assert_eq!(
            event.extra.get("error").and_then(|v| v.as_str()),
            Some("connect to [redacted] failed")
        );
    }

    #[test]
    fn tags_survive_but_sensitive_ones_do_not() {
        let mut tags = BTreeMap::new();
        tags.insert("plugin".to_string(), "local-persona".to_string());
        tags.insert("api_key".to_string(), "x".to_string());
        let event = Event {
            tags,
            ..Default::default()
        };
        let event = scrub(event, &[]).unwrap();
        assert_eq!(event.tags.keys().collect::<Vec<_>>(), ["plugin"]);
    }
}
