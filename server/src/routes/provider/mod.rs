//! The OpenID provider over HTTP: `GET/POST /oauth2/authorize` (the request, the sign-in
//! and consent forms that post back to it, the redirect with the code) and `GET/POST
//! /oauth2/userinfo`, and `GET/POST /oauth2/logout` ([`logout`]). The decisions are the domain's ([`crate::provider`]); here requests
//! become calls, and answers become pages, redirects and cookies.
//!
//! Two cookies, both `__Host-` (this origin only, `Secure`, `Path=/`) and `HttpOnly`:
//! the sign-in at the provider (`SameSite=Lax`, so that a client's top-level redirect here
//! carries it) and the forms' CSRF token (double-submit: a form post must carry the
//! cookie's value, which another site can neither read nor set).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use jwtkit_core::{Claims, UnixTime};
use subtle::ConstantTimeEq as _;
use warp::http::header::{HeaderValue, LOCATION, RETRY_AFTER, SET_COOKIE};
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

mod logout;
mod pages;

pub(super) use logout::logout;

use super::protected::authenticated;
use super::session::cookie;
use super::state::{AppState, Guard};
use super::table::{AUTHORIZE, USERINFO};
use crate::error::{ApiError, Problem};
use crate::filters::body::{body, form_pairs};
use crate::filters::reject;
use crate::provider::login::{self, Login, SignInError};
use crate::provider::request::{self, Authorization, PageError, Redirected, Refusal};
use crate::provider::{Next, random_text};
use crate::users::{DirectoryError, Password};

/// The cookie of a sign-in at the provider.
pub const LOGIN_COOKIE: &str = "__Host-jwtkit-login";
/// The cookie of the forms' CSRF token.
pub const CSRF_COOKIE: &str = "__Host-jwtkit-csrf";

/// `GET/POST /oauth2/authorize`.
pub(super) fn authorize(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    AUTHORIZE
        .filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::method())
        .and(
            warp::query::raw()
                .or(warp::any().map(String::new))
                .unify(),
        )
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(body())
        .then(
            |state: Arc<AppState>,
             method: Method,
             query: String,
             headers: HeaderMap,
             remote: Option<SocketAddr>,
             mime: Option<String>,
             body: Bytes| async move {
                let input = if method == Method::POST {
                    if mime.as_deref() != Some("application/x-www-form-urlencoded") {
                        return pages::error(
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            "Unsupported request",
                            "The authorization endpoint takes a form (application/x-www-form-urlencoded).",
                            "ERR_UNSUPPORTED_MEDIA_TYPE",
                        );
                    }
                    form_pairs(&body)
                } else {
                    form_pairs(query.as_bytes())
                };
                let Some(input) = input else {
                    return bad_request(PageError::Repeated, "The request's parameters are not valid form encoding.");
                };
                Handler { state: &state, headers: &headers, remote }
                    .answer(method == Method::POST, &input)
                    .await
            },
        )
}

/// One request to the authorization endpoint.
struct Handler<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    remote: Option<SocketAddr>,
}

/// A form field of the provider's own pages (not an authorization parameter).
fn field<'a>(input: &'a [(String, String)], name: &str) -> Option<&'a str> {
    input
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

impl Handler<'_> {
    async fn answer(&self, posted: bool, input: &[(String, String)]) -> Response {
        let provider = &self.state.provider;
        let request = match request::check(input, &provider.clients) {
            Ok(request) => request,
            Err(Refusal::Page(error)) => return bad_request(error, &error.to_string()),
            Err(Refusal::Redirect(refusal)) => return self.refuse(&refusal),
        };
        let Ok(now) = self.state.now_or_error() else {
            return unavailable("The server's clock cannot be read.");
        };
        let store = self.state.store.as_ref();
        let login = match cookie(self.headers, LOGIN_COOKIE) {
            Some(value) => match login::current(store, &value, now).await {
                Ok(login) => login,
                Err(_) => return unavailable("Sign-ins cannot be read right now."),
            },
            None => None,
        };
        let submitted =
            posted && (field(input, "username").is_some() || field(input, "consent").is_some());
        if submitted && !self.csrf_matches(input) {
            return csrf_refused();
        }
        if posted && let Some(username) = field(input, "username") {
            let password = Password::new(field(input, "password").unwrap_or_default().to_owned());
            return self.sign_in(&request, username, password, now).await;
        }
        if posted && let Some(consent) = field(input, "consent") {
            if login.is_none() {
                return self.next(&request, None, false, None, now).await;
            }
            if consent != "allow" {
                return self
                    .refuse(&request.refuse("access_denied", "the person denied the request"));
            }
            return self.next(&request, login.as_ref(), true, None, now).await;
        }
        self.next(&request, login.as_ref(), false, None, now).await
    }

    fn csrf_matches(&self, input: &[(String, String)]) -> bool {
        csrf_matches(self.headers, input)
    }

    async fn sign_in(
        &self,
        request: &Authorization,
        username: &str,
        password: Password,
        now: UnixTime,
    ) -> Response {
        let state = self.state;
        let address = state.limiter.key(self.remote, self.headers);
        let signed_in = login::sign_in(
            state.provider.directory.as_ref(),
            &state.limiter,
            state.store.as_ref(),
            &address,
            username,
            password,
            now,
        )
        .await;
        let message = match signed_in {
            Ok(claims) => {
                let lifetime = state.provider.login_lifetime.as_secs_f64();
                return match login::start(state.store.as_ref(), &claims.sub, now, lifetime).await {
                    Ok((cookie, login)) => {
                        tracing::info!(target: "jwtkit::provider", sub = %claims.sub, client_id = %request.client.id, "signed in");
                        let set = format!(
                            "{LOGIN_COOKIE}={cookie}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
                            state.provider.login_lifetime.as_secs()
                        );
                        self.next(request, Some(&login), false, Some(set), now)
                            .await
                    }
                    Err(_) => unavailable("Sign-ins cannot be saved right now."),
                };
            }
            Err(SignInError::Refused) => "The username or password is not right.",
            Err(SignInError::Disabled) => {
                "This account is disabled: ask the people who run this service."
            }
            Err(SignInError::Blocked(wait)) => {
                let mut page = pages::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    "Too many failed sign-ins: wait a while, then try again.",
                    "ERR_TOO_MANY_FAILED_ATTEMPTS",
                );
                let seconds = wait.as_secs().max(1).to_string();
                if let Ok(value) = HeaderValue::from_str(&seconds) {
                    page.headers_mut().insert(RETRY_AFTER, value);
                }
                return page;
            }
            Err(SignInError::Busy | SignInError::Unavailable(_)) => {
                return unavailable("Signing in is not possible right now.");
            }
        };
        tracing::info!(target: "jwtkit::provider", client = %address, "sign-in refused");
        self.login_page(request, username, Some(message))
    }

    /// What answers `request` now (see [`crate::provider::Provider::next`]).
    async fn next(
        &self,
        request: &Authorization,
        login: Option<&Login>,
        consented: bool,
        set_login: Option<String>,
        now: UnixTime,
    ) -> Response {
        let state = self.state;
        let next = state
            .provider
            .next(state.store.as_ref(), request, login, consented, now)
            .await;
        let mut response = match next {
            Ok(Next::Code(code)) => redirect(
                &request.redirect_uri,
                &[
                    ("code", Some(code.as_str())),
                    ("state", request.state.as_deref()),
                    ("iss", Some(state.provider.issuer.as_str())),
                ],
            ),
            Ok(Next::Refuse(refusal)) => self.refuse(&refusal),
            Ok(Next::SignIn) => {
                let hint = request.login_hint.as_deref().unwrap_or_default();
                self.login_page(request, hint, None)
            }
            Ok(Next::Consent) => self.consent_page(request, login).await,
            Err(_) => unavailable("Codes cannot be issued right now."),
        };
        if let Some(set) = set_login.and_then(|s| HeaderValue::from_str(&s).ok()) {
            response.headers_mut().append(SET_COOKIE, set);
        }
        response
    }

    fn csrf(&self) -> (String, Option<HeaderValue>) {
        csrf_token(self.headers)
    }

    fn login_page(&self, request: &Authorization, username: &str, error: Option<&str>) -> Response {
        let (csrf, set) = self.csrf();
        let mut page = pages::login(
            &request.client.name,
            &self.action(),
            &request.parameters(),
            &csrf,
            username,
            error,
            &origin(&request.redirect_uri),
        );
        if let Some(set) = set {
            page.headers_mut().append(SET_COOKIE, set);
        }
        page
    }

    async fn consent_page(&self, request: &Authorization, login: Option<&Login>) -> Response {
        let (csrf, set) = self.csrf();
        let username = match login {
            Some(login) => match self
                .state
                .provider
                .directory
                .claims(login.sub.clone())
                .await
            {
                Ok(Some(claims)) => claims.preferred_username,
                Ok(None) => return self.login_page(request, "", None),
                Err(_) => return unavailable("Accounts cannot be read right now."),
            },
            None => return self.login_page(request, "", None),
        };
        let scopes: Vec<&'static str> = request
            .scope
            .iter()
            .map(|s| pages::describe_scope(s))
            .collect();
        let mut page = pages::consent(
            &request.client.name,
            &username,
            &scopes,
            &self.action(),
            &request.parameters(),
            &csrf,
            &origin(&request.redirect_uri),
        );
        if let Some(set) = set {
            page.headers_mut().append(SET_COOKIE, set);
        }
        page
    }

    /// Where the forms post: this endpoint under the public URL.
    fn action(&self) -> String {
        format!("{}{}", self.state.public_url, AUTHORIZE.path)
    }

    /// A refusal redirected to the client, with `iss` (RFC 9207).
    fn refuse(&self, refusal: &Redirected) -> Response {
        redirect(
            &refusal.redirect_uri,
            &[
                ("error", Some(refusal.error)),
                ("error_description", Some(refusal.description.as_str())),
                ("state", refusal.state.as_deref()),
                ("iss", Some(self.state.provider.issuer.as_str())),
            ],
        )
    }
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

fn bad_request(error: PageError, message: &str) -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        "This sign-in link is not valid",
        message,
        error.code(),
    )
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

/// `GET/POST /oauth2/userinfo` (OpenID Connect Core §5.3): the claims of the access token's
/// subject that its scope grants.
pub(super) fn userinfo(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let guard: Guard = state.guard();
    USERINFO
        .filter()
        .and(authenticated(guard))
        .and(warp::any().map(move || state.clone()))
        .and_then(|claims: Claims, state: Arc<AppState>| async move {
            let scope: Vec<&str> = claims
                .get("scope")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .split(' ')
                .collect();
            if !scope.contains(&"openid") {
                return Err(reject(Problem::OpenidScopeMissing));
            }
            let sub = claims.sub().unwrap_or_default();
            match state.provider.userinfo(sub, &scope).await {
                Ok(Some(answer)) => Ok(warp::reply::json(&answer).into_response()),
                Ok(None) => Err(reject(Problem::UserUnknown)),
                Err(DirectoryError::Busy | DirectoryError::Unavailable(_)) => Err(reject(
                    ApiError::from(Problem::StoreUnavailable)
                        .with_retry_after(std::time::Duration::from_secs(1)),
                )),
            }
        })
}
