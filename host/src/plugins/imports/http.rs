//! `host.http-fetch` and `host.http-stream`: outgoing HTTP, performed by the host.
//!
//! The destination is checked against the plugin's allowlist before anything is sent, and
//! every redirect hop again (redirects are followed here, not by the client), `{secret:NAME}`
//! placeholders in header values are filled in here and nowhere else (and dropped when a
//! redirect leaves the origin), the request (URL, headers, body) and the response body are
//! capped, and the call's deadline bounds every wait.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use url::Url;
use wasmtime::component::Resource;

use crate::plugins::bindings::job_handler::ava::plugin::host::StreamedResponse;
use crate::plugins::ctx::{CallCtx, HostCall};
use crate::plugins::grants::Grants;
use crate::plugins::types::{HttpError, HttpMethod, HttpRequest, HttpResponse};

/// Headers a plugin may not set: the host computes them.
const FORBIDDEN_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];
/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// The longest URL a plugin may request, in bytes. APIs' URLs are a few hundred bytes; many
/// servers refuse more than 8 KiB (nginx's default header buffer).
const MAX_URL_BYTES: usize = 8 << 10;
/// Headers a plugin may set on one request: API clients set a handful (authorization,
/// content type, an API version, an idempotency key).
const MAX_REQUEST_HEADERS: usize = 64;
/// Their total size, names and values as the plugin wrote them (before secrets are filled
/// in): servers commonly refuse more than 16 KiB of headers (Node's default).
const MAX_REQUEST_HEADER_BYTES: usize = 16 << 10;

/// A response body being read by a plugin (the `body-stream` resource).
pub struct BodyStream {
    response: reqwest::Response,
    received: u64,
    cap: u64,
}

/// Sends `request` for the calling plugin and reads the whole body.
pub async fn fetch(ctx: &mut CallCtx, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let described = ctx
        .recording()
        .then(|| (method_name(request.method), request.url.clone()));
    let result = async {
        let grants = &ctx.grants;
        let cap = grants.limits.max_http_response_bytes;
        let response = send(&ctx.http, grants, ctx.deadline, request).await?;
        let status = response.status().as_u16();
        let headers = header_pairs(response.headers());
        let body = read_body(response, cap, ctx.deadline).await?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
    .await;
    if let Some((method, url)) = described {
        ctx.record(|| HostCall::Http {
            method,
            url,
            outcome: result
                .as_ref()
                .map(|r| r.status)
                .map_err(HttpError::message),
        });
    }
    result
}

/// Sends `request` for the calling plugin and hands the body over as a resource.
pub async fn stream(
    ctx: &mut CallCtx,
    request: HttpRequest,
) -> wasmtime::Result<Result<StreamedResponse, HttpError>> {
    let described = ctx
        .recording()
        .then(|| (method_name(request.method), request.url.clone()));
    let sent = send(&ctx.http, &ctx.grants, ctx.deadline, request).await;
    if let Some((method, url)) = described {
        ctx.record(|| HostCall::Http {
            method,
            url,
            outcome: sent
                .as_ref()
                .map(|r| r.status().as_u16())
                .map_err(HttpError::message),
        });
    }
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let cap = ctx.grants.limits.max_http_response_bytes;
    if let Some(len) = response.content_length().filter(|len| *len > cap) {
        tracing::debug!(plugin = %ctx.grants.name, len, "streamed response over the cap");
        return Ok(Err(HttpError::TooLarge(cap)));
    }
    let status = response.status().as_u16();
    let headers = header_pairs(response.headers());
    let body = ctx.table.push(BodyStream {
        response,
        received: 0,
        cap,
    })?;
    Ok(Ok(StreamedResponse {
        status,
        headers,
        body,
    }))
}

/// The next chunk of a streamed body.
pub async fn next_chunk(
    ctx: &mut CallCtx,
    stream: &Resource<BodyStream>,
) -> wasmtime::Result<Result<Option<Vec<u8>>, HttpError>> {
    let remaining = ctx.remaining();
    let body = ctx.table.get_mut(stream)?;
    let chunk = match tokio::time::timeout(remaining, body.response.chunk()).await {
        Err(_) => return Ok(Err(HttpError::Timeout)),
        Ok(Err(err)) => return Ok(Err(map_error(&err))),
        Ok(Ok(chunk)) => chunk,
    };
    let Some(chunk) = chunk else {
        return Ok(Ok(None));
    };
    body.received += chunk.len() as u64;
    if body.received > body.cap {
        return Ok(Err(HttpError::TooLarge(body.cap)));
    }
    Ok(Ok(Some(chunk.to_vec())))
}

/// Downloads `url` with `grants` (an image plugin's output URL): same allowlist, same cap.
pub async fn download(
    client: &reqwest::Client,
    grants: &Grants,
    url: &str,
    deadline: Instant,
) -> Result<(Option<String>, Vec<u8>), HttpError> {
    let request = HttpRequest {
        method: HttpMethod::Get,
        url: url.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
        timeout_ms: None,
    };
    let response = send(client, grants, deadline, request).await?;
    if !response.status().is_success() {
        return Err(HttpError::Protocol(format!(
            "downloading {url}: HTTP {}",
            response.status().as_u16()
        )));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = read_body(response, grants.limits.max_http_response_bytes, deadline).await?;
    Ok((content_type, body))
}

/// Checks `request` against `grants` and sends it, following redirects. Nothing leaves the
/// host unless the destination is allowed and every secret placeholder resolves.
async fn send(
    client: &reqwest::Client,
    grants: &Grants,
    deadline: Instant,
    request: HttpRequest,
) -> Result<reqwest::Response, HttpError> {
    check_size(grants, &request.url, &request.headers, request.body.len())?;
    let mut url = Url::parse(&request.url)
        .map_err(|e| HttpError::InvalidRequest(format!("bad URL {:?}: {e}", request.url)))?;
    let mut method = match request.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Head => reqwest::Method::HEAD,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
    };
    let (mut headers, secret_headers) = build_headers(grants, &request.headers)?;
    // Shared, not copied, by every hop's request.
    let mut body = bytes::Bytes::from(request.body);
    let origin_of_secrets = origin(&url);
    let budget = deadline.saturating_duration_since(Instant::now());
    let deadline = Instant::now()
        + request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(budget))
            .unwrap_or(budget);

    for hop in 0..=MAX_REDIRECTS {
        check_destination(grants, &url)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(HttpError::Timeout);
        }
        let started = Instant::now();
        let result = client
            .request(method.clone(), url.clone())
            .headers(headers.clone())
            .body(body.clone())
            .timeout(remaining)
            .send()
            .await;
        tracing::debug!(
            plugin = %grants.name,
            %method,
            url = %url,
            status = result.as_ref().map(|r| r.status().as_u16()).unwrap_or(0),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plugin HTTP request"
        );
        metrics::counter!("ava_plugin_http_requests_total", "plugin" => grants.name.clone(), "outcome" => if result.is_ok() { "sent" } else { "failed" }).increment(1);
        let response = result.map_err(|e| map_error(&e))?;
        let Some(next) = redirect_target(&response, &url) else {
            return Ok(response);
        };
        if hop == MAX_REDIRECTS {
            break;
        }
        // 303, and 301/302 after a POST, turn into a GET without a body, as browsers do.
        let status = response.status().as_u16();
        if status == 303 || (matches!(status, 301 | 302) && method == reqwest::Method::POST) {
            method = reqwest::Method::GET;
            body = bytes::Bytes::new();
            headers.remove(reqwest::header::CONTENT_TYPE);
        }
        // Secrets were meant for the origin the plugin named, not for wherever it redirects.
        if origin(&next) != origin_of_secrets {
            for name in &secret_headers {
                headers.remove(name);
            }
            headers.remove(reqwest::header::AUTHORIZATION);
            headers.remove(reqwest::header::COOKIE);
        }
        url = next;
    }
    Err(HttpError::Protocol(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

/// Records a request refused before it reached [`fetch`] or [`stream`] (`ava plugin call`).
pub(super) fn record_refused(ctx: &CallCtx, method: HttpMethod, url: &str, err: &HttpError) {
    ctx.record(|| HostCall::Http {
        method: method_name(method),
        url: url.to_string(),
        outcome: Err(err.message()),
    });
}

/// Refuses a request over the size limits (its URL, its headers, a body of `body_len` bytes)
/// before anything is parsed or sent.
pub(super) fn check_size(
    grants: &Grants,
    url: &str,
    headers: &[(String, String)],
    body_len: usize,
) -> Result<(), HttpError> {
    let refuse = |what: String| {
        tracing::warn!(plugin = %grants.name, "plugin HTTP request refused: {what}");
        metrics::counter!("ava_plugin_http_requests_total", "plugin" => grants.name.clone(), "outcome" => "too_large").increment(1);
        Err(HttpError::InvalidRequest(what))
    };
    let limit = grants.limits.max_http_request_bytes;
    if body_len as u64 > limit {
        return refuse(format!(
            "request body of {body_len} bytes, over limits.max_http_request_bytes ({limit}) of plugin `{}`",
            grants.name
        ));
    }
    if url.len() > MAX_URL_BYTES {
        return refuse(format!(
            "URL of {} bytes, over the {MAX_URL_BYTES}-byte limit",
            url.len()
        ));
    }
    if headers.len() > MAX_REQUEST_HEADERS {
        return refuse(format!(
            "{} headers, over the limit of {MAX_REQUEST_HEADERS}",
            headers.len()
        ));
    }
    let header_bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if header_bytes > MAX_REQUEST_HEADER_BYTES {
        return refuse(format!(
            "headers of {header_bytes} bytes, over the {MAX_REQUEST_HEADER_BYTES}-byte limit"
        ));
    }
    Ok(())
}

fn method_name(method: HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Head => "HEAD",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
    }
}

fn check_destination(grants: &Grants, url: &Url) -> Result<(), HttpError> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(HttpError::InvalidRequest(format!(
            "only http and https URLs are allowed, not {}",
            url.scheme()
        )));
    }
    if grants.allowlist.permits(url) {
        return Ok(());
    }
    tracing::warn!(
        plugin = %grants.name,
        destination = %origin(url),
        "plugin HTTP request refused: not on its allowlist"
    );
    metrics::counter!("ava_plugin_http_requests_total", "plugin" => grants.name.clone(), "outcome" => "denied").increment(1);
    Err(HttpError::Denied(format!(
        "{} is not on the allowlist of plugin `{}`",
        origin(url),
        grants.name
    )))
}

/// Where a redirect response points, resolved against the request URL.
fn redirect_target(response: &reqwest::Response, url: &Url) -> Option<Url> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    url.join(location).ok()
}

/// The request headers with secrets filled in, and the names of the headers that hold one.
fn build_headers(
    grants: &Grants,
    pairs: &[(String, String)],
) -> Result<(HeaderMap, Vec<HeaderName>), HttpError> {
    let mut headers = HeaderMap::with_capacity(pairs.len());
    let mut secret_headers = Vec::new();
    for (name, value) in pairs {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("bad header name {name:?}")))?;
        if FORBIDDEN_HEADERS.contains(&header.as_str()) {
            return Err(HttpError::InvalidRequest(format!(
                "header {name} is set by the host"
            )));
        }
        let has_secret = ava_sdk::contract::has_secret_placeholder(value);
        let value = ava_sdk::contract::expand_secret_placeholders(value, |secret| {
            grants
                .secret(secret)
                .map(|s| s.expose_secret().to_string())
                .ok_or_else(|| HttpError::SecretNotGranted(secret.to_string()))
        })?;
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| HttpError::InvalidRequest(format!("bad value for header {name}")))?;
        // Keeps the value out of reqwest's and hyper's debug output.
        value.set_sensitive(has_secret);
        if has_secret {
            secret_headers.push(header.clone());
        }
        headers.append(header, value);
    }
    Ok((headers, secret_headers))
}

async fn read_body(
    mut response: reqwest::Response,
    cap: u64,
    deadline: Instant,
) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|len| len > cap) {
        return Err(HttpError::TooLarge(cap));
    }
    let mut body = Vec::new();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(remaining, response.chunk())
            .await
            .map_err(|_| HttpError::Timeout)?
            .map_err(|e| map_error(&e))?;
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(HttpError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn origin(url: &Url) -> String {
    match url.port_or_known_default() {
        Some(port) => format!(
            "{}://{}:{port}",
            url.scheme(),
            url.host_str().unwrap_or("?")
        ),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?")),
    }
}

fn map_error(err: &reqwest::Error) -> HttpError {
    if err.is_timeout() {
        HttpError::Timeout
    } else if err.is_connect() {
        HttpError::Connection(chain(err))
    } else if err.is_builder() || err.is_request() && err.url().is_none() {
        HttpError::InvalidRequest(chain(err))
    } else {
        HttpError::Protocol(chain(err))
    }
}

/// The error and its causes, one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        out.push_str(": ");
        out.push_str(&inner.to_string());
        source = inner.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LimitsConfig;

    fn grants() -> Grants {
        let limits = LimitsConfig {
            max_http_request_bytes: 1000,
            ..LimitsConfig::default()
        };
        Grants::unconfigured("p", (&limits).into())
    }

    fn refusal(url: &str, headers: &[(String, String)], body_len: usize) -> String {
        match check_size(&grants(), url, headers, body_len) {
            Err(HttpError::InvalidRequest(message)) => message,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_request_within_every_limit_passes() {
        let headers = vec![("authorization".to_string(), "Bearer x".to_string())];
        assert!(check_size(&grants(), "https://api.example.com/v1", &headers, 1000).is_ok());
    }

    #[test]
    fn a_body_over_the_plugins_limit_is_refused_naming_the_setting() {
        assert_eq!(
            refusal("https://a.example/", &[], 1001),
            "request body of 1001 bytes, over limits.max_http_request_bytes (1000) of plugin `p`"
        );
    }

    #[test]
    fn urls_and_headers_over_their_limits_are_refused() {
        let long_url = format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES));
        assert!(refusal(&long_url, &[], 0).contains("8192-byte limit"));
        let many = vec![("x-a".to_string(), "b".to_string()); MAX_REQUEST_HEADERS + 1];
        assert!(refusal("https://a.example/", &many, 0).contains("over the limit of 64"));
        let big = vec![("x-a".to_string(), "b".repeat(MAX_REQUEST_HEADER_BYTES))];
        assert!(refusal("https://a.example/", &big, 0).contains("16384-byte limit"));
    }
}
