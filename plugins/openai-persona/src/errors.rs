//! What an API failure means for the host: an HTTP status and OpenAI's error JSON, turned into
//! the right `PluginError` (retry later, fix the key, shorten the conversation, or give up).

use ava_sdk::PluginError;
use ava_sdk::http::Response;
use ava_sdk::text::truncate;
use serde_json::Value;

/// Upstream messages are shown to users: long ones are cut.
const MAX_MESSAGE: usize = 300;

/// The error a non-2xx response means.
pub fn from_response(response: &Response) -> PluginError {
    let status = response.status;
    let detail = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| ApiError::from_value(&v))
        .unwrap_or_default();
    match status {
        401 | 403 => PluginError::unauthorized(format!("the API rejected the key (HTTP {status})")),
        // OpenAI says "out of credit" with a 429 too; waiting does not fix that.
        429 if detail.code.as_deref() == Some("insufficient_quota") => PluginError::upstream(
            Some(status),
            detail.code,
            "the API account has run out of quota",
        ),
        429 => PluginError::unavailable(
            "the API is rate limiting requests",
            retry_after_ms(response),
        ),
        500.. => PluginError::upstream(
            Some(status),
            detail.code,
            detail
                .message
                .unwrap_or_else(|| format!("the API failed with HTTP {status}")),
        ),
        _ if detail.is_context_overflow() => context_overflow(),
        _ => PluginError::upstream(
            Some(status),
            detail.code,
            detail
                .message
                .unwrap_or_else(|| format!("the API refused the request with HTTP {status}")),
        ),
    }
}

/// The error an `{"error": …}` object means when it arrives with a 2xx status: inside a
/// stream, or from a gateway that reports failures in the body. `None` when there is none.
pub fn from_error_value(value: &Value) -> Option<PluginError> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    let detail = ApiError::from_error(error);
    if detail.is_context_overflow() {
        return Some(context_overflow());
    }
    let message = detail
        .message
        .unwrap_or_else(|| "the API reported an error".into());
    Some(PluginError::upstream(None, detail.code, message))
}

/// A 2xx response whose body is not what the API promises.
/// Whether `body` is an API's own error object, not a bare 404 page of a server without the
/// endpoint.
pub fn is_api_error(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| ApiError::from_value(&value))
        .is_some()
}

pub fn malformed(status: Option<u16>, detail: impl std::fmt::Display) -> PluginError {
    PluginError::upstream(status, None, format!("malformed response: {detail}"))
}

/// The start of a body, on one line, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        "an empty body".into()
    } else {
        format!("{:?}", truncate(&text, 80))
    }
}

fn context_overflow() -> PluginError {
    PluginError::invalid_input("the conversation is too long for this model")
}

/// The parts of an API's error JSON worth keeping. OpenAI nests them under `error`; Ollama
/// sends `{"error": "text"}`; older vLLM puts them at the top level; `code` may be a number.
#[derive(Debug, Default, PartialEq)]
struct ApiError {
    code: Option<String>,
    kind: Option<String>,
    message: Option<String>,
}

impl ApiError {
    fn from_value(value: &Value) -> Option<Self> {
        match value.get("error").filter(|e| !e.is_null()) {
            Some(error) => Some(Self::from_error(error)),
            None if value.get("message").is_some() => Some(Self::from_error(value)),
            None => None,
        }
    }

    fn from_error(error: &Value) -> Self {
        if let Some(text) = error.as_str() {
            return Self {
                message: Some(truncate(text, MAX_MESSAGE).to_string()),
                ..Self::default()
            };
        }
        let text = |key: &str| match error.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Self {
            code: text("code"),
            kind: text("type"),
            message: text("message").map(|m| truncate(m.trim(), MAX_MESSAGE).to_string()),
        }
    }

    /// OpenAI's code, llama.cpp's type, or vLLM's and others' wording.
    fn is_context_overflow(&self) -> bool {
        let named = |s: &Option<String>, name: &str| s.as_deref() == Some(name);
        named(&self.code, "context_length_exceeded")
            || named(&self.kind, "exceed_context_size_error")
            || self.message.as_deref().is_some_and(|m| {
                let m = m.to_ascii_lowercase();
                m.contains("context length") || m.contains("context window")
            })
    }
}

/// How long a 429 asks to wait: `retry-after-ms`, `Retry-After` (seconds), then OpenAI's
/// `x-ratelimit-reset-*` durations. Of the two resets the longer is taken: the response does
/// not say which limit was hit, and waiting for both never retries too early.
fn retry_after_ms(response: &Response) -> Option<u64> {
    response.retry_after_ms().or_else(|| {
        ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
            .iter()
            .filter_map(|name| response.header(name).and_then(parse_duration_ms))
            .max()
    })
}

/// A Go-style duration as OpenAI writes it ("1s", "6m0s", "20ms", "1.5s", "1h2m") in
/// milliseconds, rounded up so a retry never comes early.
pub(crate) fn parse_duration_ms(text: &str) -> Option<u64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1_000.0,
            "ms" => 1.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += number * factor;
    }
    Some(total.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_reset_durations_parse_to_milliseconds() {
        assert_eq!(parse_duration_ms("1s"), Some(1_000));
        assert_eq!(parse_duration_ms("6m0s"), Some(360_000));
        assert_eq!(parse_duration_ms("20ms"), Some(20));
        assert_eq!(parse_duration_ms("1m30s"), Some(90_000));
        assert_eq!(parse_duration_ms("1.5s"), Some(1_500));
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
        assert_eq!(parse_duration_ms("0.4ms"), Some(1));
    }

    #[test]
    fn durations_that_are_not_go_durations_are_refused() {
        for bad in ["", "soon", "5", "5 s", "1x", "s"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_longer_of_the_two_resets_is_used() {
        let r = Response::new(
            429,
            &[
                ("x-ratelimit-reset-requests", "20ms"),
                ("x-ratelimit-reset-tokens", "6m0s"),
            ],
            "",
        );
        assert_eq!(
            from_response(&r),
            PluginError::unavailable("the API is rate limiting requests", Some(360_000))
        );
    }

    #[test]
    fn an_exhausted_quota_is_not_a_rate_limit() {
        let r = Response::new(
            429,
            &[("Retry-After", "1")],
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        assert!(matches!(
            from_response(&r),
            PluginError::Upstream(u) if u.status == Some(429) && u.code.as_deref() == Some("insufficient_quota")
        ));
    }

    #[test]
    fn ollama_string_errors_keep_their_message() {
        let r = Response::new(404, &[], r#"{"error":"model \"llama9\" not found"}"#);
        assert_eq!(
            from_response(&r),
            PluginError::upstream(Some(404), None, "model \"llama9\" not found")
        );
    }

    #[test]
    fn numeric_codes_and_vllm_wording_are_understood() {
        let r = Response::new(
            400,
            &[],
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","code":400}"#,
        );
        assert_eq!(
            from_response(&r),
            PluginError::invalid_input("the conversation is too long for this model")
        );
    }

    #[test]
    fn html_error_pages_are_not_shown_as_messages() {
        let r = Response::new(502, &[], "<html><body>Bad Gateway</body></html>");
        assert_eq!(
            from_response(&r),
            PluginError::upstream(Some(502), None, "the API failed with HTTP 502")
        );
    }
}
