//! The API: the tutorial's endpoints, done right.
//!
//! | route | |
//! |---|---|
//! | `POST /api/v3/auth` (and the tutorial's `GET` with a JSON body) | API key → access token |
//! | `GET /api/v3/home` | public |
//! | `GET /api/v3/secret` | any valid token |
//! | `GET /api/v3/admin` | a valid token with the role `admin` |
//! | `GET /.well-known/jwks.json` | the public verification keys |
//! | `GET /healthz` | liveness |

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt};
use jwtkit_core::{Claims, Validation, Verifier};
use serde_json::{Value, json};
use warp::filters::BoxedFilter;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::apikeys::ApiKeys;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::ApiError;
use crate::filters::{ApiRejection, Authenticator, authenticated, recover, require_role};
use crate::issuer::{ACCESS_TOKEN_TYPE, TokenIssuer};
use crate::ratelimit::FailureLimiter;

/// The largest `/api/v3/auth` request body accepted.
pub const MAX_AUTH_BODY_BYTES: usize = 4 * 1024;

/// Everything the handlers share.
pub struct AppState {
    auth: Authenticator,
    issuer: TokenIssuer,
    api_keys: ApiKeys,
    limiter: FailureLimiter,
    jwks: Bytes,
    clock: SharedClock,
}

impl AppState {
    /// The state for `config`, reading time from `clock`.
    pub fn new(config: &Config, clock: SharedClock) -> Result<Self, jwtkit_core::KeyError> {
        let policy = Validation::builder()
            .expect_issuer(&config.issuer)
            .expect_audience(&config.audience)
            .expect_type(ACCESS_TOKEN_TYPE)
            .require_claim("sub")
            .leeway_seconds(config.leeway_seconds)
            .build()?;
        let verifier = Verifier::new(config.keys.clone(), policy);
        let signer = jwtkit_core::Signer::new(config.signing_key.clone());
        Ok(Self {
            auth: Authenticator::new(verifier, clock.clone()),
            issuer: TokenIssuer::new(signer, &config.issuer, &config.audience, config.token_ttl),
            api_keys: config.api_keys.clone(),
            limiter: FailureLimiter::new(config.auth_failure_limit, config.auth_failure_window),
            jwks: Bytes::from(config.keys.to_public_jwks().to_json()),
            clock,
        })
    }

    /// The authenticator, for protecting further routes.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

/// Every route, with rejections recovered, CORS (when origins are configured) and one log
/// line per request.
pub fn app(
    state: Arc<AppState>,
    cors_origins: &[String],
    web_dir: Option<PathBuf>,
) -> BoxedFilter<(Response,)> {
    let with_state = {
        let state = state.clone();
        warp::any().map(move || state.clone())
    };
    let auth = warp::path!("api" / "v3" / "auth")
        .and(warp::post().or(warp::get()).unify())
        .and(with_state.clone())
        .and(warp::addr::remote())
        .and(warp::header::optional::<String>("content-type"))
        .and(limited_body(MAX_AUTH_BODY_BYTES))
        .and_then(issue_token);
    let home = warp::path!("api" / "v3" / "home")
        .and(warp::get())
        .map(|| "hello world".into_response());
    let secret = warp::path!("api" / "v3" / "secret")
        .and(warp::get())
        .and(authenticated(state.auth.clone()))
        .map(|claims: Claims| {
            greeting(
                "This is a secret message, for clients with a valid token only.",
                &claims,
            )
        });
    let admin = warp::path!("api" / "v3" / "admin")
        .and(warp::get())
        .and(authenticated(state.auth.clone()).and_then(require_role("admin")))
        .map(|claims: Claims| greeting("Welcome to the admin area.", &claims));
    let jwks = warp::path!(".well-known" / "jwks.json")
        .and(warp::get())
        .and(with_state)
        .map(|state: Arc<AppState>| {
            let mut response = Response::new(state.jwks.clone().into());
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            );
            headers.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            response
        });
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({"status": "ok"})).into_response());

    let api = auth
        .or(home)
        .unify()
        .or(secret)
        .unify()
        .or(admin)
        .unify()
        .or(jwks)
        .unify()
        .or(healthz)
        .unify();
    let routes = match web_dir {
        None => api.boxed(),
        Some(dir) => api.or(static_files(dir)).unify().boxed(),
    };
    let log = warp::log::custom(|info| {
        tracing::info!(
            target: "jwtkit::http",
            method = %info.method(),
            path = info.path(),
            status = info.status().as_u16(),
            latency_ms = info.elapsed().as_secs_f64() * 1000.0,
        );
    });
    if cors_origins.is_empty() {
        routes
            .recover(recover)
            .unify()
            .with(log)
            .map(Reply::into_response)
            .boxed()
    } else {
        let cors = warp::cors()
            .allow_origins(cors_origins.iter().map(String::as_str))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(["authorization", "content-type"])
            .expose_headers(["www-authenticate", "retry-after", "date"])
            .max_age(600);
        routes
            .recover(recover)
            .unify()
            .with(cors)
            .map(Reply::into_response)
            .recover(recover)
            .unify()
            .with(log)
            .map(Reply::into_response)
            .boxed()
    }
}

/// The demo page's files, with a Content-Security-Policy that allows nothing but this origin
/// (and WebAssembly compilation).
fn static_files(dir: PathBuf) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
                       img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    warp::get()
        .and(warp::fs::dir(dir))
        .map(|file: warp::filters::fs::File| {
            let mut response = file.into_response();
            let headers = response.headers_mut();
            headers.insert("content-security-policy", HeaderValue::from_static(CSP));
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        })
}

/// `{"data":{"code":200,"message":…,"sub":…}}`, written directly: this is the hot path of
/// every protected request, so no JSON tree is built for it.
fn greeting(message: &'static str, claims: &Claims) -> Response {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let sub = claims.sub().map_or_else(|| "null".to_owned(), quoted);
    let body = format!(
        r#"{{"data":{{"code":200,"message":{},"sub":{sub}}}}}"#,
        quoted(message)
    );
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn data(value: Value) -> Response {
    warp::reply::json(&json!({ "data": value })).into_response()
}

fn reject(
    status: StatusCode,
    error: &'static str,
    code: &'static str,
    message: impl Into<String>,
) -> Rejection {
    warp::reject::custom(ApiRejection(ApiError::new(status, error, code, message)))
}

/// Reads the body, refusing more than `limit` bytes (with or without `Content-Length`).
fn limited_body(limit: usize) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and_then(move |length: Option<u64>| async move {
            match length {
                Some(length) if length > limit as u64 => Err(too_large(limit)),
                _ => Ok(()),
            }
        })
        .untuple_one()
        .and(warp::body::stream())
        .and_then(move |stream| read_limited(stream, limit))
}

async fn read_limited<S, B>(stream: S, limit: usize) -> Result<Bytes, Rejection>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| {
            reject(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "ERR_BODY_UNREADABLE",
                "the request body could not be read",
            )
        })?;
        if body.len() + chunk.remaining() > limit {
            return Err(too_large(limit));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            body.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(Bytes::from(body))
}

fn too_large(limit: usize) -> Rejection {
    reject(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "ERR_PAYLOAD_TOO_LARGE",
        format!("the request body is over {limit} bytes"),
    )
}

async fn issue_token(
    state: Arc<AppState>,
    remote: Option<SocketAddr>,
    content_type: Option<String>,
    body: Bytes,
) -> Result<Response, Rejection> {
    let now = state.clock.now();
    let ip = remote.map(|addr| addr.ip());
    if let Some(wait) = ip.and_then(|ip| state.limiter.blocked(ip, now)) {
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "ERR_TOO_MANY_FAILED_ATTEMPTS",
            "too many failed attempts from this address; retry later",
        )
        .with_retry_after(wait);
        return Err(warp::reject::custom(ApiRejection(error)));
    }
    let is_json = content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "ERR_UNSUPPORTED_MEDIA_TYPE",
            "send {\"api-key\": \"...\"} with Content-Type: application/json",
        ));
    }
    let bad_request = |message: &str| {
        reject(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "ERR_INVALID_REQUEST_BODY",
            message,
        )
    };
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| bad_request("the request body is not valid JSON"))?;
    let presented = match body.as_object().map(|object| object.get("api-key")) {
        None => return Err(bad_request("the request body must be a JSON object")),
        Some(None) => return Err(bad_request("the request body has no \"api-key\" member")),
        Some(Some(Value::String(key))) => key,
        Some(Some(_)) => return Err(bad_request("\"api-key\" must be a string")),
    };
    let Some(entry) = state.api_keys.find(presented) else {
        if let Some(ip) = ip {
            state.limiter.record_failure(ip, now);
        }
        tracing::info!(target: "jwtkit::auth", client = ?ip, "unknown API key");
        return Err(reject(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "ERR_API_KEY_INVALID",
            "the API key is not valid",
        ));
    };
    let issued = state
        .issuer
        .issue(entry.name(), entry.roles(), now)
        .map_err(|e| {
            tracing::error!(target: "jwtkit::auth", code = e.code(), "cannot issue a token");
            reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "ERR_INTERNAL",
                "the token could not be issued",
            )
        })?;
    tracing::info!(target: "jwtkit::auth", sub = entry.name(), "token issued");
    let mut response = data(json!({
        "code": 200,
        "message": "Token issued.",
        "token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "expiration_at": issued.expires_at_rfc3339(),
    }));
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
