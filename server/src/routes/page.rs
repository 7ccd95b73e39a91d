//! What `/` serves: the demo page from `--web-dir`, else the one built into the binary
//! (`cargo xtask run` builds it in), else a short page that says how to get it.

use std::path::PathBuf;

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::table::ROUTES;

/// The demo page built into the binary, `(path, contents)`; empty when it was built without.
static EMBEDDED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/demo.rs"));

/// A Content-Security-Policy that allows nothing but this origin (and WebAssembly).
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
                   img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether this binary carries the demo page.
pub fn embedded() -> bool {
    !EMBEDDED.is_empty()
}

/// The files under `/`: from `web_dir`, else built in, else the page saying how to get them.
pub(super) fn files(web_dir: Option<PathBuf>) -> BoxedFilter<(Response,)> {
    let files = match web_dir {
        Some(dir) => warp::get()
            .and(warp::fs::dir(dir))
            .map(Reply::into_response)
            .boxed(),
        None if embedded() => warp::get()
            .and(warp::path::tail())
            .and_then(|tail: warp::path::Tail| async move {
                built_in(tail.as_str()).ok_or_else(warp::reject::not_found)
            })
            .boxed(),
        None => warp::get().and(warp::path::end()).map(no_demo_page).boxed(),
    };
    files.map(with_page_headers).boxed()
}

/// A built-in file (`index.html` for the directory).
fn built_in(path: &str) -> Option<Response> {
    let path = if path.is_empty() { "index.html" } else { path };
    let (_, contents) = EMBEDDED.iter().find(|(name, _)| *name == path)?;
    let mut response = Response::new((*contents).into());
    let kind = match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    Some(response)
}

/// `/` of a binary without the demo page: what runs here, and how to get the page.
fn no_demo_page() -> Response {
    let routes: String = ROUTES
        .iter()
        .map(|route| {
            let methods: Vec<&str> = route.methods.iter().map(|m| m.as_str()).collect();
            format!(
                "<li><code>{} {}</code> — {}</li>\n",
                methods.join(", "),
                route.path,
                route.summary
            )
        })
        .collect();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>jwtkit</title></head>\n<body>\n\
         <h1>jwtkit is running</h1>\n\
         <p>This build of <code>jwtkit</code> carries no demo page. From a checkout of jwtkit, \
         <code>cargo xtask run</code> builds the page into the binary and starts it; or serve a \
         built page with <code>jwtkit serve --web-dir DIR</code>.</p>\n\
         <h2>The API</h2>\n<ul>\n{routes}</ul>\n</body>\n</html>\n"
    );
    let mut response =
        warp::reply::with_status(warp::reply::html(html), StatusCode::OK).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
