//! The SPA (`AVA_WEB_DIR`, the built `frontend/dist`), served beside the API.
//!
//! Only the SPA's own client routes fall back to `index.html`; any other unknown path answers
//! the API's JSON 404, so a typo in an API call is never answered with a web page. Files are
//! read from disk on each request, so a rebuilt SPA is served without a restart, and
//! compressed on the fly (gzip or brotli, as the client accepts): the build is small, and
//! precompressed copies would be one more build step to keep in sync.

use std::path::Path;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::compression::Compression;
use tower_http::services::{ServeDir, ServeFile};

use super::views::ErrorBody;
use crate::app::AppState;

/// The paths the SPA's router renders (`frontend/src/app/router.tsx`).
const CLIENT_ROUTES: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/chat",
    "/subscribe",
    "/gallery",
    "/personas",
    "/settings",
    "/admin",
];

/// Whether `path` is a page of the SPA (its routes, and a persona's page under `/personas/`).
pub fn is_client_route(path: &str) -> bool {
    CLIENT_ROUTES.contains(&path)
        || path
            .strip_prefix("/personas/")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

fn json_error(status: StatusCode, detail: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            detail: detail.into(),
            field: None,
        }),
    )
        .into_response()
}

fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "Not found")
}

/// Answers what no API route matched: a file of the build, a client route's `index.html`,
/// or the API's JSON 404.
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return not_found();
    }
    let dir = &state.settings.web_dir;
    let path = request.uri().path().to_string();
    if is_client_route(&path) {
        return index(dir, request).await;
    }
    // A file of the build: hashed assets, the favicon. Never a folder listing.
    let relative = path.trim_start_matches('/');
    if relative.is_empty()
        || relative.split('/').any(|part| part.starts_with('.'))
        || !dir.join(relative).is_file()
    {
        return not_found();
    }
    let cache = if path.starts_with("/assets/") {
        // Vite puts a content hash in every asset's name: a name never changes content.
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let service = Compression::new(ServeDir::new(dir).append_index_html_on_directories(false));
    respond(service.oneshot(request).await, cache)
}

/// A route that exists for other methods (`POST /chat`): a page load of the same path is the
/// SPA's (`GET /chat?checkout=success` after paying); anything else is 405.
pub async fn method_not_allowed(State(state): State<AppState>, request: Request) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD)
        && is_client_route(request.uri().path())
    {
        return index(&state.settings.web_dir, request).await;
    }
    json_error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

/// The SPA's `index.html`, never cached (it names the current build's assets).
async fn index(dir: &Path, request: Request) -> Response {
    let file = dir.join("index.html");
    if !file.is_file() {
        return json_error(
            StatusCode::NOT_FOUND,
            "The web app is not built: run `npm ci && npm run build` in frontend/",
        );
    }
    let service = Compression::new(ServeFile::new(file));
    respond(service.oneshot(request).await, "no-cache")
}

fn respond<B>(
    result: Result<axum::http::Response<B>, std::convert::Infallible>,
    cache: &'static str,
) -> Response
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let Ok(response) = result;
    let mut response = response.map(Body::new);
    if response.status() == StatusCode::NOT_FOUND {
        return not_found();
    }
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        response.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_client_route;

    #[test]
    fn client_routes_are_the_spa_pages_only() {
        for page in [
            "/",
            "/chat",
            "/gallery",
            "/personas",
            "/personas/new",
            "/personas/abc",
            "/admin",
            "/settings",
        ] {
            assert!(is_client_route(page), "{page}");
        }
        for api in [
            "/auth/me",
            "/photos",
            "/photos/x",
            "/personas/a/b",
            "/admin/plugins",
            "/chatx",
            "/nope",
        ] {
            assert!(!is_client_route(api), "{api}");
        }
    }
}
