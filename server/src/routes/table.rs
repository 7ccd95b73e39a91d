//! Every route, declared once: its methods, its exact path and what it does. The filters
//! are built from these, the metrics count requests by their paths, and the README's
//! routes table is checked against [`ROUTES`].

use warp::http::Method;
use warp::path::FullPath;
use warp::{Filter, Rejection};

use crate::error::Problem;

/// One route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The methods it answers.
    pub methods: &'static [Method],
    /// Its exact path.
    pub path: &'static str,
    /// What it does, for the documentation.
    pub summary: &'static str,
}

/// `POST /api/v3/auth` (also the tutorial's `GET` with a JSON body).
pub const AUTH: Route = Route {
    methods: &[Method::POST, Method::GET],
    path: jwtkit_core::protocol::AUTH_PATH,
    summary: "an API key for an access token",
};
/// `POST /api/v3/auth/refresh`.
pub const REFRESH: Route = Route {
    methods: &[Method::POST],
    path: jwtkit_core::protocol::REFRESH_PATH,
    summary: "a refresh token for a new access token and the next refresh token",
};
/// `POST /api/v3/auth/logout`.
pub const LOGOUT: Route = Route {
    methods: &[Method::POST],
    path: jwtkit_core::protocol::LOGOUT_PATH,
    summary: "ends a session",
};
/// `POST /api/v3/auth/revoke`.
pub const REVOKE: Route = Route {
    methods: &[Method::POST],
    path: "/api/v3/auth/revoke",
    summary: "RFC 7009 token revocation",
};
/// `POST /oauth2/token`.
pub const TOKEN: Route = Route {
    methods: &[Method::POST],
    path: "/oauth2/token",
    summary: "RFC 6749 token endpoint: `authorization_code` (PKCE), `client_credentials` and `refresh_token` grants",
};
/// `GET/POST /oauth2/authorize`.
pub const AUTHORIZE: Route = Route {
    methods: &[Method::GET, Method::POST],
    path: "/oauth2/authorize",
    summary: "OpenID Connect authorization endpoint: the code flow with PKCE (S256), the sign-in and consent pages",
};
/// `GET/POST /oauth2/userinfo`.
pub const USERINFO: Route = Route {
    methods: &[Method::GET, Method::POST],
    path: "/oauth2/userinfo",
    summary: "OpenID Connect userinfo: the claims of an access token's person, by its scope",
};
/// `GET/POST /oauth2/logout`.
pub const END_SESSION: Route = Route {
    methods: &[Method::GET, Method::POST],
    path: "/oauth2/logout",
    summary: "OpenID Connect RP-initiated logout: ends the sign-in at the provider and its sessions",
};
/// `POST /oauth2/introspect`.
pub const INTROSPECT: Route = Route {
    methods: &[Method::POST],
    path: "/oauth2/introspect",
    summary: "RFC 7662 token introspection, for authenticated clients",
};
/// `GET /.well-known/oauth-authorization-server`.
pub const AS_METADATA: Route = Route {
    methods: &[Method::GET],
    path: "/.well-known/oauth-authorization-server",
    summary: "RFC 8414 authorization server metadata",
};
/// `GET /.well-known/openid-configuration`.
pub const OIDC_CONFIGURATION: Route = Route {
    methods: &[Method::GET],
    path: "/.well-known/openid-configuration",
    summary: "the same metadata, where OpenID Connect discovery looks",
};
/// `GET /api/v3/home`.
pub const HOME: Route = Route {
    methods: &[Method::GET],
    path: "/api/v3/home",
    summary: "public",
};
/// `GET /api/v3/secret`.
pub const SECRET: Route = Route {
    methods: &[Method::GET],
    path: "/api/v3/secret",
    summary: "any valid access token",
};
/// `GET /api/v3/admin`.
pub const ADMIN: Route = Route {
    methods: &[Method::GET],
    path: "/api/v3/admin",
    summary: "a valid access token with the role `admin`",
};
/// `GET /.well-known/jwks.json`.
pub const JWKS: Route = Route {
    methods: &[Method::GET],
    path: "/.well-known/jwks.json",
    summary: "the public verification keys",
};
/// `GET /healthz`.
pub const HEALTHZ: Route = Route {
    methods: &[Method::GET],
    path: "/healthz",
    summary: "liveness",
};

/// `GET /readyz`.
pub const READYZ: Route = Route {
    methods: &[Method::GET],
    path: "/readyz",
    summary: "readiness: the store answers",
};
/// `GET /metrics`, on its own listener (`metrics_bind`), not the API's.
pub const METRICS: Route = Route {
    methods: &[Method::GET],
    path: "/metrics",
    summary: "Prometheus metrics",
};

/// Every route of the API, in the README's order.
pub const ROUTES: &[Route] = &[
    AUTH,
    REFRESH,
    LOGOUT,
    REVOKE,
    TOKEN,
    AUTHORIZE,
    USERINFO,
    END_SESSION,
    INTROSPECT,
    HOME,
    SECRET,
    ADMIN,
    JWKS,
    AS_METADATA,
    OIDC_CONFIGURATION,
    HEALTHZ,
    READYZ,
];

/// The paths of [`ROUTES`], in order (what the metrics count requests by).
pub const ROUTE_PATHS: [&str; ROUTES.len()] = {
    let mut paths = [""; ROUTES.len()];
    let mut i = 0;
    while i < ROUTES.len() {
        paths[i] = ROUTES[i].path;
        i += 1;
    }
    paths
};

impl Route {
    /// Matches this route's exact path, then its methods (405 for another method).
    pub(super) fn filter(self) -> impl Filter<Extract = (), Error = Rejection> + Clone {
        warp::path::full()
            .and(warp::method())
            .and_then(move |path: FullPath, method: Method| {
                std::future::ready(if path.as_str() != self.path {
                    Err(warp::reject::not_found())
                } else if !self.methods.contains(&method) {
                    Err(crate::filters::reject(Problem::MethodNotAllowed))
                } else {
                    Ok(())
                })
            })
            .untuple_one()
    }
}
