//! The reusable filters on their own, through `warp::test`: each rejection and its response.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use jwtkit_core::{
    Algorithm, Claims, FixedClock, Key, KeySet, Signer, UnixTime, Validation, Verifier,
};
use jwtkit_server::filters::{Authenticator, authenticated, recover, require_role};
use serde_json::json;
use warp::Filter;

const NOW: i64 = 1_700_000_000;

fn setup() -> (Key, Authenticator) {
    let key = Key::generate(Algorithm::HS256).unwrap();
    let policy = Validation::builder()
        .expect_type("at+jwt")
        .require_claim("sub")
        .build()
        .unwrap();
    let clock = Arc::new(FixedClock(UnixTime::from_secs(NOW).unwrap()));
    (
        key.clone(),
        Authenticator::new(Verifier::new(KeySet::from(key), policy), clock),
    )
}

fn token(key: &Key, claims: serde_json::Value) -> String {
    Signer::new(key.clone())
        .typ("at+jwt")
        .sign(&claims)
        .unwrap()
}

async fn call(
    filter: &(
         impl Filter<Extract = (warp::reply::Response,), Error = std::convert::Infallible>
         + Clone
         + 'static
     ),
    authorization: Option<&str>,
) -> (u16, String, serde_json::Value) {
    let mut request = warp::test::request().path("/r");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.reply(filter).await;
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = serde_json::from_slice(response.body()).unwrap_or(json!(null));
    (response.status().as_u16(), challenge, body)
}

#[tokio::test]
async fn authenticated_filter_rejections() {
    let (key, auth) = setup();
    let route = warp::path("r")
        .and(authenticated(auth))
        .map(|claims: Claims| warp::reply::json(&claims.sub()).into_response())
        .recover(recover)
        .unify();
    use warp::Reply as _;

    let good = token(&key, json!({"sub": "ann", "exp": NOW + 60}));
    let (status, _, body) = call(&route, Some(&format!("Bearer {good}"))).await;
    assert_eq!((status, body), (200, json!("ann")));

    let (status, challenge, body) = call(&route, None).await;
    assert_eq!(
        (status, challenge.as_str(), body["code"].as_str()),
        (
            401,
            r#"Bearer realm="jwtkit""#,
            Some("ERR_BEARER_TOKEN_MISSING")
        )
    );

    let (status, challenge, body) = call(&route, Some("Bearer a b")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("ERR_AUTHORIZATION_HEADER_INVALID"))
    );
    assert!(
        challenge.contains(r#"error="invalid_request""#),
        "{challenge}"
    );

    let expired = token(&key, json!({"sub": "ann", "exp": NOW}));
    let (status, challenge, body) = call(&route, Some(&format!("Bearer {expired}"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("ERR_JWT_EXPIRED"))
    );
    assert!(
        challenge.contains(r#"error="invalid_token", error_description="token expired: 'exp' is"#),
        "{challenge}"
    );

    let no_sub = token(&key, json!({"exp": NOW + 60}));
    let (status, _, body) = call(&route, Some(&format!("Bearer {no_sub}"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("ERR_JWT_CLAIM_MISSING"))
    );
}

#[tokio::test]
async fn require_role_filter() {
    let (key, auth) = setup();
    use warp::Reply as _;
    let route = warp::path("r")
        .and(authenticated(auth).and_then(require_role("admin")))
        .map(|_claims: Claims| warp::reply().into_response())
        .recover(recover)
        .unify();
    for (roles, expected) in [
        (json!(["admin"]), 200),
        (json!(["user", "admin"]), 200),
        (json!(["user"]), 403),
        (json!("admin"), 403),
        (json!(null), 403),
        (json!(["Admin"]), 403),
    ] {
        let t = token(&key, json!({"sub": "ann", "exp": NOW + 60, "roles": roles}));
        let (status, challenge, body) = call(&route, Some(&format!("Bearer {t}"))).await;
        assert_eq!(status, expected, "{roles}");
        if expected == 403 {
            assert_eq!(body["code"], "ERR_INSUFFICIENT_SCOPE");
            assert!(
                challenge.contains(r#"error="insufficient_scope""#)
                    && challenge.contains(r#"scope="admin""#),
                "{challenge}"
            );
        }
    }
}
