//! Outgoing HTTP through the host: a request builder, JSON and form bodies, status handling,
//! and streamed bodies with server-sent events.
//!
//! The host performs every request, only to hosts on the plugin's allowlist, with its limits.
//! Secrets go into headers as `{secret:NAME}` placeholders that the host fills in on the way out:
//!
//! ```no_run
//! use ava_sdk::http::Request;
//! # fn demo() -> Result<(), ava_sdk::PluginError> {
//! let response = Request::post("https://api.example.com/v1/things")
//!     .bearer_secret("api_key")
//!     .json(&serde_json::json!({ "name": "thing" }))
//!     .send()?
//!     .error_for_status()?;
//! let created: serde_json::Value = response.json()?;
//! # let _ = created; Ok(()) }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::host_call;
use crate::sse::{SseEvent, SseParser};
use crate::{HttpError, HttpMethod, HttpRequest, HttpResponse, PluginError};

/// An outgoing request, built step by step and sent with [`Request::send`] or
/// [`Request::send_stream`].
#[derive(Debug, Clone)]
pub struct Request {
    inner: HttpRequest,
    /// A body that could not be encoded; reported by `send` rather than by each builder step.
    encode_error: Option<String>,
}

impl Request {
    /// A request with `method` to the absolute `url`.
    pub fn new(method: HttpMethod, url: impl Into<String>) -> Self {
        Self {
            inner: HttpRequest {
                method,
                url: url.into(),
                headers: Vec::new(),
                body: Vec::new(),
                timeout_ms: None,
            },
            encode_error: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Get, url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Post, url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Put, url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Patch, url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Delete, url)
    }

    /// Adds a header. The value may contain `{secret:NAME}` placeholders.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }

    /// `Authorization: Bearer <secret>` with this plugin's secret `name`, filled in by the host.
    pub fn bearer_secret(self, name: &str) -> Self {
        self.header("Authorization", format!("Bearer {{secret:{name}}}"))
    }

    /// A JSON body, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.body(body, "application/json"),
            Err(err) => {
                self.encode_error = Some(format!("cannot encode JSON body: {err}"));
                self
            }
        }
    }

    /// An `application/x-www-form-urlencoded` body from `(key, value)` pairs, in order.
    pub fn form<I, K, V>(self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body(body.into_bytes(), "application/x-www-form-urlencoded")
    }

    /// A raw body with its content type.
    pub fn body(mut self, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.inner.body = body.into();
        self.inner
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        self.inner
            .headers
            .push(("Content-Type".into(), content_type.into()));
        self
    }

    /// A timeout for this request; the plugin's own call deadline applies as well.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.inner.timeout_ms = Some(ms);
        self
    }

    /// The request as the host will receive it.
    pub fn as_wit(&self) -> &HttpRequest {
        &self.inner
    }

    fn checked(&self) -> Result<&HttpRequest, HttpError> {
        match &self.encode_error {
            Some(err) => Err(HttpError::InvalidRequest(err.clone())),
            None => Ok(&self.inner),
        }
    }

    /// Sends the request and waits for the whole response. Any status is a response: use
    /// [`Response::error_for_status`] to turn failures into errors.
    pub fn send(&self) -> Result<Response, HttpError> {
        host_call::http_fetch(self.checked()?).map(Response::from)
    }

    /// Sends the request and returns once the status and headers have arrived.
    pub fn send_stream(&self) -> Result<StreamingResponse, HttpError> {
        let head = host_call::http_stream(self.checked()?)?;
        Ok(StreamingResponse {
            status: head.status,
            headers: head.headers,
            body: Some(head.body),
            sse: SseParser::default(),
        })
    }
}

/// A complete response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The headers, in the order received.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl From<HttpResponse> for Response {
    fn from(r: HttpResponse) -> Self {
        Self {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}

impl Response {
    /// A response with these parts: what a fake server answers in tests.
    pub fn new(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, PluginError> {
        core::str::from_utf8(&self.body).map_err(|_| {
            PluginError::upstream(Some(self.status), None, "response body is not UTF-8")
        })
    }

    /// The body parsed as JSON. A body that does not parse is an upstream error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|err| {
            PluginError::upstream(
                Some(self.status),
                None,
                format!("malformed JSON in response: {err}"),
            )
        })
    }

    /// How long the server asked to wait (`Retry-After` in seconds, or `retry-after-ms`).
    pub fn retry_after_ms(&self) -> Option<u64> {
        retry_after_ms(&self.headers)
    }

    /// `Ok(self)` for a 2xx status, otherwise the error [`status_error`] describes, with the
    /// start of the body as the message.
    pub fn error_for_status(self) -> Result<Self, PluginError> {
        if self.is_success() {
            return Ok(self);
        }
        let message = body_excerpt(&self.body);
        Err(status_error(self.status, &self.headers, None, message))
    }
}

/// The error a failed status means: 429 and 503 are temporary (with the server's
/// `Retry-After`); 401 and 403 are rejected credentials; anything else is an upstream error
/// carrying the status and the upstream's own `code`, when the plugin extracted one.
pub fn status_error(
    status: u16,
    headers: &[(String, String)],
    code: Option<String>,
    message: impl Into<String>,
) -> PluginError {
    let message = message.into();
    match status {
        429 | 503 => PluginError::unavailable(message, retry_after_ms(headers)),
        401 | 403 => PluginError::unauthorized(message),
        _ => PluginError::upstream(Some(status), code, message),
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn retry_after_ms(headers: &[(String, String)]) -> Option<u64> {
    if let Some(ms) =
        find_header(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(ms.max(0.0) as u64);
    }
    find_header(headers, "retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|secs| (secs.max(0.0) * 1000.0) as u64)
}

fn body_excerpt(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    if text.trim().is_empty() {
        "empty response body".into()
    } else {
        text.trim().to_string()
    }
}

/// A response whose body is read as it arrives.
pub struct StreamingResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The headers, in the order received.
    pub headers: Vec<(String, String)>,
    body: Option<host_call::BodyChunks>,
    sse: SseParser,
}

impl StreamingResponse {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The next chunk of the body; `None` at the end.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        let chunk = body.next_chunk()?;
        if chunk.is_none() {
            self.body = None;
        }
        Ok(chunk)
    }

    /// Reads the rest of the body into a complete [`Response`].
    pub fn collect(mut self) -> Result<Response, HttpError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.next_chunk()? {
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status: self.status,
            headers: std::mem::take(&mut self.headers),
            body,
        })
    }

    /// The next server-sent event of the body; `None` at the end of the stream.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, HttpError> {
        loop {
            if let Some(event) = self.sse.next_event() {
                return Ok(Some(event));
            }
            match self.next_chunk()? {
                Some(chunk) => self.sse.feed(&chunk),
                None => return Ok(self.sse.finish()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_body_is_urlencoded_in_order() {
        let req = Request::post("https://x.test/").form([("a[0]", "b c"), ("mode", "sub&x")]);
        assert_eq!(
            String::from_utf8(req.as_wit().body.clone()).unwrap(),
            "a%5B0%5D=b+c&mode=sub%26x"
        );
        assert_eq!(
            find_header(&req.as_wit().headers, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }

    #[test]
    fn json_body_replaces_content_type() {
        let req = Request::post("https://x.test/")
            .header("content-type", "text/plain")
            .json(&serde_json::json!({"a": 1}));
        let types: Vec<_> = req
            .as_wit()
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .collect();
        assert_eq!(types.len(), 1);
        assert_eq!(req.as_wit().body, br#"{"a":1}"#);
    }

    #[test]
    fn bearer_secret_is_a_placeholder_not_a_value() {
        let req = Request::get("https://x.test/").bearer_secret("api_key");
        assert_eq!(
            find_header(&req.as_wit().headers, "authorization"),
            Some("Bearer {secret:api_key}")
        );
    }

    #[test]
    fn rate_limit_becomes_unavailable_with_retry_after() {
        let err = Response::new(429, &[("Retry-After", "2")], "slow down")
            .error_for_status()
            .unwrap_err();
        assert_eq!(err, PluginError::unavailable("slow down", Some(2000)));
    }

    #[test]
    fn retry_after_ms_header_wins() {
        let r = Response::new(429, &[("retry-after-ms", "150"), ("Retry-After", "9")], "");
        assert_eq!(r.retry_after_ms(), Some(150));
    }

    #[test]
    fn rejected_credentials_become_unauthorized() {
        let err = Response::new(401, &[], "bad key")
            .error_for_status()
            .unwrap_err();
        assert!(matches!(err, PluginError::Unauthorized(m) if m == "bad key"));
    }

    #[test]
    fn server_errors_carry_status() {
        let err = Response::new(500, &[], "").error_for_status().unwrap_err();
        assert_eq!(
            err,
            PluginError::upstream(Some(500), None, "empty response body")
        );
    }

    #[test]
    fn malformed_json_is_an_upstream_error() {
        let err = Response::new(200, &[], "<html>")
            .json::<serde_json::Value>()
            .unwrap_err();
        assert!(matches!(err, PluginError::Upstream(u) if u.message.contains("malformed JSON")));
    }
}
