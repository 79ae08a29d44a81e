//! `/dev/*`: pages the active billing plugin serves itself (the development provider's
//! checkout and portal). A provider that serves none answers 404 here.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{RawBody, header_pairs};
use crate::app::AppState;
use crate::plugins::CallError;
use crate::plugins::types::{PageRequest, PluginError};

/// A page's forms post a button or two.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The only headers a plugin's page may set.
const PAGE_HEADERS: [HeaderName; 3] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::CACHE_CONTROL,
];

/// The pages have inline styles and plain forms, nothing else: no scripts, no frames.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page, form))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// A page of the active billing plugin (the dev provider's checkout and portal); 404 when
/// the active billing plugin serves none.
#[utoipa::path(get, path = "/dev/{*path}", tag = "dev",
    params(("path" = String, Path, description = "Anything after /dev/")),
    responses(
        (status = 200, description = "The plugin's HTML page", content_type = "text/html", body = String),
        (status = 303, description = "The plugin's redirect (e.g. back to the SPA after paying)"),
        (status = 404, description = "The active billing plugin serves no pages", body = super::views::ErrorBody),
        (status = 502, description = "The plugin failed", body = super::views::ErrorBody),
    ))]
async fn page(
    state: State<AppState>,
    method: Method,
    path: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    serve(state, method, path, query, headers, body).await
}

/// A form of a billing plugin's page (its buttons post here).
#[utoipa::path(post, path = "/dev/{*path}", tag = "dev",
    params(("path" = String, Path, description = "Anything after /dev/")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The plugin's HTML page", content_type = "text/html", body = String),
        (status = 303, description = "The plugin's redirect"),
        (status = 404, description = "The active billing plugin serves no pages", body = super::views::ErrorBody),
        (status = 413, description = "Larger than 64 KiB", body = super::views::ErrorBody),
        (status = 502, description = "The plugin failed", body = super::views::ErrorBody),
    ))]
async fn form(
    state: State<AppState>,
    method: Method,
    path: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    serve(state, method, path, query, headers, body).await
}

async fn serve(
    State(state): State<AppState>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound("Not found".into());
    let provider = state
        .registry
        .current()
        .billing()
        .map_err(|_| not_found())?;
    let request = PageRequest {
        method: method.as_str().to_string(),
        path: format!("/{}", path.trim_start_matches('/')),
        query: query.unwrap_or_default(),
        headers: header_pairs(&headers),
        body: body.to_vec(),
        public_url: state.billing.public_url().to_string(),
    };
    let page = match provider.serve_page(&request).await {
        Ok(page) => page,
        Err(CallError::Plugin {
            error: PluginError::Unsupported(_),
            ..
        }) => return Err(not_found()),
        Err(err) => return Err(err.into()),
    };
    let status = StatusCode::from_u16(page.status)
        .ok()
        .filter(|s| !s.is_informational())
        .ok_or_else(|| ApiError::BadGateway(format!("a page with status {}", page.status)))?;
    let mut response = Response::new(Body::from(page.body));
    *response.status_mut() = status;
    let out = response.headers_mut();
    for (name, value) in &page.headers {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        if !PAGE_HEADERS.contains(&name) {
            continue;
        }
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    }
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    out.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    Ok(response)
}
