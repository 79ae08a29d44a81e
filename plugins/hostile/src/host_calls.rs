//! Host calls with inputs as large as the plugin can make them: work the host does on the
//! plugin's behalf, outside the plugin's own memory and fuel.

use ava_sdk::crypto;
use ava_sdk::http::Request;

/// `bytes`: the HMAC of a `bytes`-byte message with the secret `key`.
pub fn hmac(bytes: &str) -> String {
    let message = vec![b'm'; bytes.parse().unwrap_or(0)];
    match crypto::hmac_sha256("key", &message) {
        Ok(digest) => format!("digest of {} bytes", digest.len()),
        Err(err) => format!("refused: {err}"),
    }
}

/// `bytes@url`: POSTs a `bytes`-byte body to `url`.
pub fn post(arg: &str) -> String {
    let Some((bytes, url)) = arg.split_once('@') else {
        return "usage: post:<bytes>@<url>".into();
    };
    let body = vec![b'p'; bytes.parse().unwrap_or(0)];
    match Request::post(url)
        .body(body, "application/octet-stream")
        .send()
    {
        Ok(response) => format!("status {}", response.status),
        Err(err) => format!("refused: {err}"),
    }
}
