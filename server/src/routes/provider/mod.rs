//! The OpenID provider over HTTP: `GET/POST /oauth2/authorize` (the request, the sign-in
//! and consent forms that post back to it, the redirect with the code) and `GET/POST
//! /oauth2/userinfo`, and `GET/POST /oauth2/logout` ([`logout`]). The decisions are the domain's ([`crate::provider`]); here requests
//! become calls, and answers become pages, redirects and cookies.
//!
//! Two cookies, both `__Host-` (this origin only, `Secure`, `Path=/`) and `HttpOnly`:
//! the sign-in at the provider (`SameSite=Lax`, so that a client's top-level redirect here
//! carries it) and the forms' CSRF token (double-submit: a form post must carry the
//! cookie's value, which another site can neither read nor set).

use bytes::Bytes;
use subtle::ConstantTimeEq as _;
use warp::http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection};

mod authorize;
mod logout;
mod pages;
mod userinfo;

pub(super) use authorize::authorize;
pub(super) use logout::logout;
pub(super) use userinfo::userinfo;

use super::session::cookie;
use crate::filters::body::{body, form_pairs};
use crate::provider::random_text;

/// The cookie of a sign-in at the provider.
pub const LOGIN_COOKIE: &str = "__Host-jwtkit-login";
/// The cookie of the forms' CSRF token.
pub const CSRF_COOKIE: &str = "__Host-jwtkit-csrf";

/// The parameters of a request to the provider's pages: whether it was posted, and the query
/// of a `GET` or the form of a `POST` (`None` when they are no valid form).
fn parameters()
-> impl Filter<Extract = (bool, Option<Vec<(String, String)>>), Error = Rejection> + Clone {
    warp::method()
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(body())
        .map(
            |method: Method, query: String, mime: Option<String>, body: Bytes| {
                let posted = method == Method::POST;
                let input = if posted {
                    (mime.as_deref() == Some("application/x-www-form-urlencoded"))
                        .then(|| form_pairs(&body))
                        .flatten()
                } else {
                    form_pairs(query.as_bytes())
                };
                (posted, input)
            },
        )
        .untuple_one()
}

/// A form field of the provider's own pages (not an authorization parameter).
fn field<'a>(input: &'a [(String, String)], name: &str) -> Option<&'a str> {
    input
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the form's `csrf` field is the CSRF cookie's value (compared in constant time).
fn csrf_matches(headers: &HeaderMap, input: &[(String, String)]) -> bool {
    match (cookie(headers, CSRF_COOKIE), field(input, "csrf")) {
        (Some(cookie), Some(field)) if !cookie.is_empty() => {
            bool::from(cookie.as_bytes().ct_eq(field.as_bytes()))
        }
        _ => false,
    }
}

/// The CSRF token of this browser: the cookie's, or a new one with the `Set-Cookie` value
/// that gives it.
fn csrf_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(token) = cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 43) {
        return (token, None);
    }
    let token = random_text(32).unwrap_or_default();
    let set = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax");
    (token, HeaderValue::from_str(&set).ok())
}

/// The refusal of a form posted without its CSRF token.
fn csrf_refused() -> Response {
    pages::error(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not sent from this provider's page, or it has expired. Go back to the application and try again.",
        "ERR_CSRF_CHECK_FAILED",
    )
}

/// The origin of `uri` (what CSP's `form-action` names), or nothing.
fn origin(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// A `303 See Other` to `uri` with `params` added to its query.
fn redirect(uri: &str, params: &[(&str, Option<&str>)]) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{separator}{}", query.finish());
    let mut response = Response::new(Default::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

fn unavailable(message: &str) -> Response {
    let mut page = pages::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again in a moment",
        message,
        "ERR_STORE_UNAVAILABLE",
    );
    page.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    page
}
