//! Host calls with inputs as large as the plugin can make them: work the host does on the
//! plugin's behalf, outside the plugin's own memory and fuel.

use ava_sdk::crypto;
use ava_sdk::http::Request;

/// `bytes` or `bytes*times`: the HMAC of a `bytes`-byte message with the secret `key`,
/// `times` times over (once by default), so the host works for as long as the call may run.
pub fn hmac(arg: &str) -> String {
    let (bytes, times) = arg.split_once('*').unwrap_or((arg, "1"));
    let message = vec![b'm'; bytes.parse().unwrap_or(0)];
    let times: u32 = times.parse().unwrap_or(1);
    for done in 0..times {
        if let Err(err) = crypto::hmac_sha256("key", &message) {
            return format!("refused after {done}: {}", err.message());
        }
    }
    format!("{times} digests of {} bytes", message.len())
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
        Err(err) => format!("refused: {}", err.message()),
    }
}
