//! The provider's pages (sign-in, consent, refusals), rendered from the templates in
//! `server/templates`: HTML that works without JavaScript, under a Content-Security-Policy
//! that allows no script at all, the one inline style by its hash, and form posts only to
//! the provider and the client the form answers.

use std::sync::LazyLock;

use askama::Template;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::http::{Response as HttpResponse, StatusCode};
use warp::reply::Response;

/// The pages' one style sheet, inlined.
const CSS: &str = include_str!("../../../templates/page.css");

/// The style sheet's CSP source: its SHA-256.
static STYLE_SOURCE: LazyLock<String> =
    LazyLock::new(|| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(CSS))));

/// What the pages call the provider.
const PROVIDER: &str = "jwtkit";

/// The sign-in form.
#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage<'a> {
    pub provider: &'a str,
    pub css: &'a str,
    pub client_name: &'a str,
    pub action: &'a str,
    pub params: &'a [(&'static str, String)],
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// The consent form.
#[derive(Template)]
#[template(path = "consent.html")]
pub(super) struct ConsentPage<'a> {
    pub provider: &'a str,
    pub css: &'a str,
    pub client_name: &'a str,
    pub username: &'a str,
    pub scopes: &'a [&'static str],
    pub action: &'a str,
    pub params: &'a [(&'static str, String)],
    pub csrf: &'a str,
}

/// A refusal shown by the provider itself.
#[derive(Template)]
#[template(path = "error.html")]
pub(super) struct ErrorPage<'a> {
    pub provider: &'a str,
    pub css: &'a str,
    pub heading: &'a str,
    pub message: &'a str,
    pub code: &'a str,
}

/// The logout confirmation.
#[derive(Template)]
#[template(path = "logout.html")]
pub(super) struct LogoutPage<'a> {
    pub provider: &'a str,
    pub css: &'a str,
    pub username: &'a str,
    pub client_name: Option<&'a str>,
    pub action: &'a str,
    pub params: &'a [(&'static str, String)],
    pub csrf: &'a str,
}

/// A notice (signed out).
#[derive(Template)]
#[template(path = "notice.html")]
pub(super) struct NoticePage<'a> {
    pub provider: &'a str,
    pub css: &'a str,
    pub heading: &'a str,
    pub message: &'a str,
}

/// The logout confirmation form.
pub(super) fn logout(
    username: &str,
    client_name: Option<&str>,
    action: &str,
    params: &[(&'static str, String)],
    csrf: &str,
    form_target: &str,
) -> Response {
    let page = LogoutPage {
        provider: PROVIDER,
        css: CSS,
        username,
        client_name,
        action,
        params,
        csrf,
    };
    html(StatusCode::OK, page.render(), form_target)
}

/// A notice page.
pub(super) fn notice(heading: &str, message: &str) -> Response {
    let page = NoticePage {
        provider: PROVIDER,
        css: CSS,
        heading,
        message,
    };
    html(StatusCode::OK, page.render(), "")
}

/// The sign-in form for `client_name`.
#[allow(clippy::too_many_arguments)]
pub(super) fn login(
    client_name: &str,
    action: &str,
    params: &[(&'static str, String)],
    csrf: &str,
    username: &str,
    error: Option<&str>,
    form_target: &str,
) -> Response {
    let page = LoginPage {
        provider: PROVIDER,
        css: CSS,
        client_name,
        action,
        params,
        csrf,
        username,
        error,
    };
    html(StatusCode::OK, page.render(), form_target)
}

/// The consent form.
pub(super) fn consent(
    client_name: &str,
    username: &str,
    scopes: &[&'static str],
    action: &str,
    params: &[(&'static str, String)],
    csrf: &str,
    form_target: &str,
) -> Response {
    let page = ConsentPage {
        provider: PROVIDER,
        css: CSS,
        client_name,
        username,
        scopes,
        action,
        params,
        csrf,
    };
    html(StatusCode::OK, page.render(), form_target)
}

/// A refusal page with `status`.
pub(super) fn error(status: StatusCode, heading: &str, message: &str, code: &str) -> Response {
    let page = ErrorPage {
        provider: PROVIDER,
        css: CSS,
        heading,
        message,
        code,
    };
    html(status, page.render(), "")
}

/// What a scope lets a client do, in a person's words.
pub(super) fn describe_scope(scope: &str) -> &'static str {
    match scope {
        "openid" => "know who you are (your account's identifier)",
        "profile" => "see your name and username",
        "email" => "see your e-mail address",
        _ => "an access you have not seen described",
    }
}

/// An HTML answer, never cached, framed by no one; forms may post to this origin and to
/// `form_target` (the origin the form's answer redirects to, which CSP checks too).
fn html(status: StatusCode, body: askama::Result<String>, form_target: &str) -> Response {
    let body = body.unwrap_or_else(|error| {
        tracing::error!(%error, "a page could not be rendered");
        "<!doctype html><title>Error</title><p>This page could not be shown.".to_owned()
    });
    let csp = format!(
        "default-src 'none'; style-src {}; img-src 'self' data:; form-action 'self' {form_target}; \
         frame-ancestors 'none'; base-uri 'none'",
        *STYLE_SOURCE
    );
    let mut response = HttpResponse::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(csp) = HeaderValue::from_str(csp.trim_end()) {
        headers.insert("content-security-policy", csp);
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // The page's address (the authorization request) never leaves the provider, and its
    // forms post with the provider's own `Origin` (under `no-referrer` they post `Origin:
    // null`, which a server with `cors_origins` refuses as a foreign origin).
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}
