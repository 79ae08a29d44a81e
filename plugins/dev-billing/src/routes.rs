//! The pages under `/dev/`: which path and method go where.

use ava_sdk::PluginError;
use ava_sdk::billing::{PageRequest, PageResponse};

use crate::{checkout, pages, portal};

/// Answers one page request; paths are relative to `/dev`.
pub fn serve(request: &PageRequest) -> Result<PageResponse, PluginError> {
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    let method = request.method.to_ascii_uppercase();
    let public_url = request.public_url.as_str();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["checkout", id]) => checkout::view(id),
        ("POST", ["checkout", id, "pay"]) => checkout::pay(id, public_url),
        ("POST", ["checkout", id, "cancel"]) => checkout::cancel(id),
        ("GET", ["portal", token]) => portal::view(token),
        ("POST", ["portal", token, action]) => portal::act(token, action, public_url),
        _ => Ok(PageResponse::html(
            404,
            pages::not_found("There is no such page."),
        )),
    }
}
