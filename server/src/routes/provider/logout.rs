//! `GET/POST /oauth2/logout`: RP-initiated logout over HTTP (see
//! [`crate::provider::logout`]). A request whose `id_token_hint` names the browser's sign-in
//! signs out at once; any other asks the person to confirm with a form (CSRF-protected).
//! The sign-in cookie is cleared; the browser goes to the registered
//! `post_logout_redirect_uri` with `state`, or sees that it is signed out.

use std::sync::Arc;

use warp::http::header::{HeaderValue, SET_COOKIE};
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{
    LOGIN_COOKIE, csrf_matches, csrf_refused, csrf_token, field, origin, pages, parameters,
    redirect, unavailable,
};
use crate::provider::login;
use crate::provider::logout::Logout;
use crate::routes::oauth::client_cookie;
use crate::routes::session::{cookie, set_refresh_cookie};
use crate::routes::state::AppState;
use crate::routes::table::END_SESSION;

/// The parameters a confirmation form carries on.
const CARRIED: [&str; 4] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
];

/// `GET/POST /oauth2/logout`.
pub(in crate::routes) fn logout(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    END_SESSION
        .filter()
        .and(warp::any().map(move || state.clone()))
        .and(parameters())
        .and(warp::header::headers_cloned())
        .then(
            |state: Arc<AppState>,
             posted: bool,
             input: Option<Vec<(String, String)>>,
             headers: HeaderMap| async move {
                let Some(input) = input else {
                    return pages::error(
                        StatusCode::BAD_REQUEST,
                        "This sign-out link is not valid",
                        "The request's parameters are not a valid form.",
                        "ERR_LOGOUT_REQUEST_INVALID",
                    );
                };
                answer(&state, &headers, posted, &input).await
            },
        )
}

async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    posted: bool,
    input: &[(String, String)],
) -> Response {
    let provider = &state.provider;
    let checked = provider
        .check_logout(state.store.as_ref(), input, &provider.id_verifier())
        .await;
    let request = match checked {
        Ok(Ok(request)) => request,
        Err(error) => {
            tracing::error!(target: "jwtkit::provider", %error, "a client's registration could not be read");
            return unavailable("Registered clients cannot be read right now.");
        }
        Ok(Err(refusal)) => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "This sign-out link is not valid",
                refusal.message(),
                refusal.code(),
            );
        }
    };
    let Ok(now) = state.now_or_error() else {
        return unavailable("The server's clock cannot be read.");
    };
    let store = state.store.as_ref();
    let cookie_value = cookie(headers, LOGIN_COOKIE);
    let login = match &cookie_value {
        Some(value) => match login::current(store, value, now).await {
            Ok(login) => login,
            Err(_) => return unavailable("Sign-ins cannot be read right now."),
        },
        None => None,
    };
    let confirmed = posted && field(input, "logout") == Some("yes");
    if confirmed && !csrf_matches(headers, input) {
        return csrf_refused();
    }
    let (Some(login), Some(value)) = (login, cookie_value) else {
        // Nobody is signed in here: there is nothing to end.
        return finish(&request, None);
    };
    if !confirmed && !request.names(&login) {
        return confirm(state, headers, &request, input, &login.sub).await;
    }
    match provider
        .log_out(store, &state.sessions, &value, &login, now)
        .await
    {
        Ok(ended) => {
            tracing::info!(target: "jwtkit::provider", sub = %login.sub, sessions = ended, "signed out");
            let clear =
                format!("{LOGIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
            let mut response = finish(&request, HeaderValue::from_str(&clear).ok());
            // The client's refresh-token cookie goes too (its session has ended already).
            if let Some(client) = &request.client {
                set_refresh_cookie(&mut response, &client_cookie(&client.id), "", 0);
            }
            response
        }
        Err(_) => unavailable("Signing out is not possible right now."),
    }
}

/// The confirmation form.
async fn confirm(
    state: &AppState,
    headers: &HeaderMap,
    request: &Logout,
    input: &[(String, String)],
    sub: &str,
) -> Response {
    let username = match state.provider.directory.claims(sub.to_owned()).await {
        Ok(Some(claims)) => claims.preferred_username,
        Ok(None) => String::new(),
        Err(_) => return unavailable("Accounts cannot be read right now."),
    };
    let params: Vec<(&'static str, String)> = CARRIED
        .iter()
        .filter_map(|name| field(input, name).map(|v| (*name, v.to_owned())))
        .collect();
    let (csrf, set) = csrf_token(headers);
    let target = request
        .redirect_uri
        .as_deref()
        .map(origin)
        .unwrap_or_default();
    let mut page = pages::logout(
        &username,
        request.client.as_ref().map(|c| c.name.as_str()),
        &format!("{}{}", state.public_url, END_SESSION.path),
        &params,
        &csrf,
        &target,
    );
    if let Some(set) = set {
        page.headers_mut().append(SET_COOKIE, set);
    }
    page
}

/// After the logout (or with nobody signed in): the registered redirect with `state`, or a
/// page that says so; `clear` clears the sign-in cookie.
fn finish(request: &Logout, clear: Option<HeaderValue>) -> Response {
    let mut response = match &request.redirect_uri {
        Some(uri) => redirect(uri, &[("state", request.state.as_deref())]),
        None => pages::notice("Signed out", "You are signed out. You may close this page."),
    };
    if let Some(clear) = clear {
        response.headers_mut().append(SET_COOKIE, clear);
    }
    response
}
