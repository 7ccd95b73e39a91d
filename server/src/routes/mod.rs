//! The API: the tutorial's endpoints, done right, and the session lifecycle, assembled here
//! from rooms that each translate one part of HTTP to the domain:
//!
//! - `table`: every route, declared once ([`ROUTES`]); `state`: what handlers share
//!   ([`AppState`]);
//! - `auth`: `POST /api/v3/auth`, an API key for an access token and a session;
//! - `session`: refresh, logout, RFC 7009 revocation, and the refresh-token cookie;
//! - `oauth`: the OAuth 2.0 token endpoint and RFC 7662 introspection, with `client`
//!   authentication, and `discovery`: the RFC 8414 metadata;
//! - `provider`: the OpenID provider's authorization endpoint (its sign-in and consent
//!   pages) and userinfo;
//! - `protected`: the public and the token-protected endpoints;
//! - `meta`: the key set, liveness, readiness, metrics, and the demo page's files;

use std::path::PathBuf;
use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::dpop::DPOP_HEADER;
use crate::filters::{Authenticator, recover};
use crate::metrics::Metrics;

mod auth;
mod client;
mod discovery;
mod meta;
mod oauth;
mod page;
mod protected;
mod provider;
mod session;
mod state;
mod table;

pub use crate::filters::MAX_BODY_BYTES;
pub use page::embedded as demo_built_in;
pub use provider::{CSRF_COOKIE as PROVIDER_CSRF_COOKIE, LOGIN_COOKIE};
pub use session::{CSRF_HEADER, REFRESH_COOKIE};
pub use state::AppState;
pub use table::*;

/// Every route, with rejections recovered, CORS (when origins are configured) and one log
/// line per request.
pub fn app(
    state: Arc<AppState>,
    cors_origins: &[String],
    web_dir: Option<PathBuf>,
) -> BoxedFilter<(Response,)> {
    // The most requested routes first: each route tried before costs a path comparison.
    // The rest are boxed: a request's future is as large as the largest route's it may
    // become, and the token endpoint's would make every `/home` build and move kilobytes.
    let guard = state.guard();
    let hot = protected::home()
        .or(protected::secret(guard.clone()))
        .unify()
        .or(protected::admin(guard.clone()))
        .unify();
    let rest = auth::route(state.clone())
        .or(session::refresh(state.clone()))
        .unify()
        .or(session::logout(state.clone()))
        .unify()
        .or(session::revoke(state.clone()))
        .unify()
        .or(oauth::token(state.clone()))
        .unify()
        .or(oauth::introspect(state.clone()))
        .unify()
        .or(provider::authorize(state.clone()))
        .unify()
        .or(provider::userinfo(state.clone()))
        .unify()
        .or(provider::logout(state.clone()))
        .unify()
        .or(meta::jwks(state.clone()))
        .unify()
        .or(discovery::metadata(state.clone()))
        .unify()
        .or(meta::healthz())
        .unify()
        .or(meta::readyz(state.clone()))
        .unify()
        .or(page::files(web_dir))
        .unify()
        .boxed();
    let api = hot.or(rest).unify();
    tail(api, cors_origins, state.metrics.clone())
}

/// What the metrics listener serves: `GET /metrics` of `state`'s server.
pub fn metrics_app(state: &AppState) -> BoxedFilter<(Response,)> {
    management(state.guard())
}

fn management(guard: state::Guard) -> BoxedFilter<(Response,)> {
    meta::metrics(guard)
        .recover(recover)
        .unify()
        .map(Reply::into_response)
        .boxed()
}

/// The routes of a pure resource server, which trusts another issuer's tokens (`auth` made
/// by [`Authenticator::remote`]): the public and protected endpoints, liveness and
/// readiness (ready once it holds the issuer's keys); and its metrics listener's.
pub fn resource_apps(
    auth: Authenticator,
    cors_origins: &[String],
) -> (BoxedFilter<(Response,)>, BoxedFilter<(Response,)>) {
    let guard = state::Guard {
        auth,
        metrics: Arc::new(Metrics::new(&ROUTE_PATHS)),
    };
    let routes = protected::home()
        .or(protected::secret(guard.clone()))
        .unify()
        .or(protected::admin(guard.clone()))
        .unify()
        .or(meta::healthz())
        .unify()
        .or(meta::remote_readyz(guard.auth.clone()))
        .unify();
    (
        tail(routes, cors_origins, guard.metrics.clone()),
        management(guard),
    )
}

/// The tail every request passes: rejections recovered into the error table's responses,
/// CORS when origins are configured (its own refusals recovered too), one log line. Boxed
/// once, at the end (each box costs every request an allocation).
fn tail(
    routes: impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
    cors_origins: &[String],
    metrics: Arc<Metrics>,
) -> BoxedFilter<(Response,)> {
    let log = warp::log::custom(move |info| {
        let status = info.status().as_u16();
        metrics.request(info.path(), status);
        crate::access_log::record(info.method(), info.path(), status, info.elapsed());
    });
    let recovered = routes.recover(recover).unify().map(Reply::into_response);
    if cors_origins.is_empty() {
        return recovered.with(log).map(Reply::into_response).boxed();
    }
    let cors = warp::cors()
        .allow_origins(cors_origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST])
        // A browser's DPoP proofs ride the `DPoP` header (RFC 9449 §4.1).
        .allow_headers(["authorization", "content-type", CSRF_HEADER, DPOP_HEADER])
        .allow_credentials(true)
        .expose_headers(["www-authenticate", "retry-after", "date", "dpop-nonce"])
        .max_age(600);
    // Requests without an Origin, or from this server's own, are not cross-origin: CORS
    // (which would refuse an origin missing from the list) applies to the others only.
    let cross_origin = recovered
        .clone()
        .with(cors)
        .map(Reply::into_response)
        .recover(recover)
        .unify();
    same_origin()
        .and(recovered)
        .or(cross_origin)
        .unify()
        .with(log)
        .map(Reply::into_response)
        .boxed()
}

/// Passes requests without `Origin`, or whose `Origin` names this server (its authority is
/// the `Host`).
fn same_origin() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("host"))
        .and_then(|origin: Option<String>, host: Option<String>| async move {
            let authority = origin.as_deref().map(|origin| {
                origin
                    .strip_prefix("https://")
                    .or_else(|| origin.strip_prefix("http://"))
            });
            match authority {
                None => Ok(()),
                Some(authority) if authority.is_some() && authority == host.as_deref() => Ok(()),
                Some(_) => Err(warp::reject::not_found()),
            }
        })
        .untuple_one()
}
