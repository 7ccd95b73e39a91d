//! `GET/POST /oauth2/authorize`: the authorization request checked by the domain
//! ([`crate::provider::request`]), then the sign-in form, the consent form, or the redirect
//! with the code; the forms post back here with their CSRF field.

use std::net::SocketAddr;
use std::sync::Arc;

use jwtkit_core::UnixTime;
use warp::http::header::{HeaderValue, RETRY_AFTER, SET_COOKIE};
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{
    LOGIN_COOKIE, csrf_matches, csrf_refused, csrf_token, field, origin, pages, parameters,
    redirect, unavailable,
};
use crate::provider::Next;
use crate::provider::login::{self, Login, SignInError};
use crate::provider::request::{self, Authorization, PageError, Redirected, Refusal};
use crate::routes::session::cookie;
use crate::routes::state::AppState;
use crate::routes::table::AUTHORIZE;
use crate::users::Password;

/// `GET/POST /oauth2/authorize`.
pub(in crate::routes) fn authorize(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    AUTHORIZE
        .filter()
        .and(warp::any().map(move || state.clone()))
        .and(parameters())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .then(
            |state: Arc<AppState>,
             posted: bool,
             input: Option<Vec<(String, String)>>,
             headers: HeaderMap,
             remote: Option<SocketAddr>| async move {
                let Some(input) = input else {
                    return bad_request(
                        PageError::Repeated,
                        "The request's parameters are not a valid form.",
                    );
                };
                Handler {
                    state: &state,
                    headers: &headers,
                    remote,
                }
                .answer(posted, &input)
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

impl Handler<'_> {
    async fn answer(&self, posted: bool, input: &[(String, String)]) -> Response {
        let provider = &self.state.provider;
        let store = self.state.store.as_ref();
        let client = match request::client_id(input) {
            Some(id) => match provider.client(store, id).await {
                Ok(client) => client,
                Err(error) => {
                    tracing::error!(target: "jwtkit::provider", %error, "a client's registration could not be read");
                    return unavailable("Registered clients cannot be read right now.");
                }
            },
            None => None,
        };
        let request = match request::check(input, client.as_ref()) {
            Ok(request) => request,
            Err(Refusal::Page(error)) => return bad_request(error, &error.to_string()),
            Err(Refusal::Redirect(refusal)) => return self.refuse(&refusal),
        };
        let Ok(now) = self.state.now_or_error() else {
            return unavailable("The server's clock cannot be read.");
        };
        let login_cookie = cookie(self.headers, LOGIN_COOKIE);
        let login = match &login_cookie {
            Some(value) => match login::current(store, value, now).await {
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
            let before = login_cookie.as_deref().zip(login.as_ref());
            return self
                .sign_in(&request, username, password, before, now)
                .await;
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
        before: Option<(&str, &Login)>,
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
                let started =
                    login::start(state.store.as_ref(), &claims.sub, before, now, lifetime).await;
                return match started {
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

fn bad_request(error: PageError, message: &str) -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        "This sign-in link is not valid",
        message,
        error.code(),
    )
}
