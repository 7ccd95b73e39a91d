//! The API over real HTTP on a loopback socket: every status path, with the exact status,
//! `WWW-Authenticate` header and error code; expiry with an injected clock; key rotation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jwtkit_core::{Algorithm, Key, KeySet, Signer};
use jwtkit_e2e::http::send;
use jwtkit_e2e::server::{START, TestServer};
use jwtkit_server::config::Signing;
use jwtkit_server::config::{ServeArgs, table};
use serde_json::json;

async fn dev_server() -> TestServer {
    TestServer::start(ServeArgs::default()).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn public_endpoints() {
    let server = dev_server().await;
    let home = server.get("/api/v3/home", &[]).await;
    assert_eq!((home.status, home.body.as_str()), (200, "hello world"));
    let health = server.get("/healthz", &[]).await;
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok"}))
    );
    let missing = server.get("/api/v3/nothing", &[]).await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (404, "ERR_NOT_FOUND")
    );
    let wrong_method = server
        .request("DELETE /api/v3/home HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(
        (wrong_method.status, wrong_method.code().as_str()),
        (405, "ERR_METHOD_NOT_ALLOWED")
    );
    server.stop().await;
}

#[tokio::test]
async fn auth_issues_rfc_9068_tokens_in_the_tutorial_envelope() {
    let server = dev_server().await;
    let key = server.dev_key("dev");
    let response = server
        .post_json("/api/v3/auth", &format!(r#"{{"api-key":"{key}"}}"#))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let data = &response.json()["data"];
    assert_eq!(data["code"], 200);
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 180);
    assert_eq!(
        data["expiration_at"], "2027-01-15T08:03:00Z",
        "START + 180 s as RFC 3339"
    );
    let token = data["token"].as_str().unwrap();

    // The token verifies with the published key set, and has the RFC 9068 shape.
    let jwks = server.get("/.well-known/jwks.json", &[]).await;
    assert_eq!(
        jwks.header("content-type"),
        Some("application/jwk-set+json")
    );
    assert!(
        !jwks.body.contains("\"d\""),
        "no private material: {}",
        jwks.body
    );
    let keys = KeySet::from_json(&jwks.body, None).unwrap();
    let policy = jwtkit_core::Validation::builder()
        .expect_issuer(&server.config.issuer)
        .expect_audience("jwtkit-api")
        .expect_type("at+jwt")
        .require_claim("jti")
        .require_claim("client_id")
        .build()
        .unwrap();
    let verified = jwtkit_core::Verifier::new(keys, policy)
        .verify(token, server.clock.time())
        .unwrap();
    let claims = verified.claims();
    assert_eq!(claims.sub(), Some("dev"));
    assert_eq!(claims.exp().unwrap().as_secs(), START + 180);
    assert_eq!(claims.get("roles"), Some(&json!(["user"])));

    // The tutorial's GET with a JSON body works too.
    let get = server
        .request(&format!(
            "GET /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"api-key\":\"{key}\"}}",
            key.len() + 14
        ))
        .await;
    assert_eq!(get.status, 200, "{}", get.body);
    server.stop().await;
}

#[tokio::test]
async fn auth_refuses_bad_requests_precisely() {
    let server = dev_server().await;
    let cases: [(&str, u16, &str); 6] = [
        (r#"{"api-key":"jwtk_wrong"}"#, 401, "ERR_API_KEY_INVALID"),
        (r#"{"api-key":"#, 400, "ERR_INVALID_REQUEST_BODY"),
        (r#"{"key":"x"}"#, 400, "ERR_INVALID_REQUEST_BODY"),
        (r#"{"api-key":7}"#, 400, "ERR_INVALID_REQUEST_BODY"),
        (r#"["api-key"]"#, 400, "ERR_INVALID_REQUEST_BODY"),
        ("", 400, "ERR_INVALID_REQUEST_BODY"),
    ];
    for (body, status, code) in cases {
        let response = server.post_json("/api/v3/auth", body).await;
        assert_eq!(
            (response.status, response.code().as_str()),
            (status, code),
            "{body}"
        );
        assert!(
            !response.body.contains("jwtk_wrong"),
            "the presented key is never echoed"
        );
    }
    let plain = server
        .request("POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}")
        .await;
    assert_eq!(
        (plain.status, plain.code().as_str()),
        (415, "ERR_UNSUPPORTED_MEDIA_TYPE")
    );
    let big = format!(r#"{{"api-key":"{}"}}"#, "a".repeat(5000));
    let too_large = server.post_json("/api/v3/auth", &big).await;
    assert_eq!(
        (too_large.status, too_large.code().as_str()),
        (413, "ERR_PAYLOAD_TOO_LARGE")
    );
    // Chunked, without Content-Length: still bounded.
    let chunk = "a".repeat(3000);
    let chunked = format!(
        "POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len(),
        chunk.len()
    );
    let response = server.request(&chunked).await;
    assert_eq!(
        (response.status, response.code().as_str()),
        (413, "ERR_PAYLOAD_TOO_LARGE")
    );
    server.stop().await;
}

#[tokio::test]
async fn protected_endpoints_follow_rfc_6750() {
    let server = dev_server().await;
    let user = server.token(&server.dev_key("dev")).await;
    let admin = server.token(&server.dev_key("dev-admin")).await;

    let ok = server
        .get("/api/v3/secret", &[("Authorization", &bearer(&user))])
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["data"]["sub"], "dev");

    let none = server.get("/api/v3/secret", &[]).await;
    assert_eq!(
        (none.status, none.code().as_str()),
        (401, "ERR_BEARER_TOKEN_MISSING")
    );
    assert_eq!(
        none.header("www-authenticate"),
        Some(r#"Bearer realm="jwtkit""#)
    );
    let basic = server
        .get("/api/v3/secret", &[("Authorization", "Basic dXNlcjpwYXNz")])
        .await;
    assert_eq!(
        (basic.status, basic.header("www-authenticate")),
        (401, Some(r#"Bearer realm="jwtkit""#))
    );

    let malformed = server
        .get("/api/v3/secret", &[("Authorization", "Bearer a b")])
        .await;
    assert_eq!(
        (malformed.status, malformed.code().as_str()),
        (400, "ERR_AUTHORIZATION_HEADER_INVALID")
    );
    assert!(
        malformed
            .header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_request""#)
    );
    let twice = server
        .get(
            "/api/v3/secret",
            &[
                ("Authorization", &bearer(&user)),
                ("Authorization", &bearer(&user)),
            ],
        )
        .await;
    assert_eq!(twice.status, 400);

    // Change one character in the middle of the signature (no trailing-bit effects).
    let mut tampered = user.clone().into_bytes();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let bad = server
        .get("/api/v3/secret", &[("Authorization", &bearer(&tampered))])
        .await;
    assert_eq!(
        (bad.status, bad.code().as_str()),
        (401, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED")
    );
    let challenge = bad.header("www-authenticate").unwrap();
    assert!(
        challenge
            .starts_with(r#"Bearer realm="jwtkit", error="invalid_token", error_description=""#),
        "{challenge}"
    );
    assert!(
        !bad.body.contains(&tampered) && !challenge.contains(&tampered),
        "the token is never echoed"
    );

    let forbidden = server
        .get("/api/v3/admin", &[("Authorization", &bearer(&user))])
        .await;
    assert_eq!(
        (forbidden.status, forbidden.code().as_str()),
        (403, "ERR_INSUFFICIENT_SCOPE")
    );
    assert!(
        forbidden
            .header("www-authenticate")
            .unwrap()
            .contains(r#"error="insufficient_scope""#)
    );
    let allowed = server
        .get("/api/v3/admin", &[("Authorization", &bearer(&admin))])
        .await;
    assert_eq!(allowed.status, 200);
    let no_token_admin = server.get("/api/v3/admin", &[]).await;
    assert_eq!(no_token_admin.status, 401);
    server.stop().await;
}

#[tokio::test]
async fn tokens_of_the_wrong_kind_are_refused_for_the_right_reason() {
    let server = dev_server().await;
    let key = server.config.signing.fixed().unwrap().1.clone();
    let now = server.clock.now_secs();
    let base = json!({"iss": server.config.issuer, "aud": "jwtkit-api", "sub": "dev", "exp": now + 60, "iat": now, "roles": ["admin"]});
    let sign = |claims: &serde_json::Value, typ: Option<&str>| {
        let signer = Signer::new(key.clone());
        match typ {
            Some(typ) => signer.typ(typ).sign(claims).unwrap(),
            None => signer.sign(claims).unwrap(),
        }
    };
    let with = |member: &str, value: serde_json::Value| {
        let mut claims = base.clone();
        claims[member] = value;
        claims
    };
    let cases = [
        (sign(&base, Some("at+jwt")), "OK"),
        (sign(&base, Some("JWT")), "ERR_JWT_TYPE_MISMATCH"),
        (sign(&base, None), "ERR_JWT_TYPE_MISMATCH"),
        (
            sign(&with("aud", json!("other-api")), Some("at+jwt")),
            "ERR_JWT_AUDIENCE_MISMATCH",
        ),
        (
            sign(&with("iss", json!("https://evil")), Some("at+jwt")),
            "ERR_JWT_ISSUER_MISMATCH",
        ),
        (
            sign(&with("exp", json!(now)), Some("at+jwt")),
            "ERR_JWT_EXPIRED",
        ),
        (
            sign(&with("nbf", json!(now + 10)), Some("at+jwt")),
            "ERR_JWT_NOT_YET_VALID",
        ),
        (
            sign(
                &with("exp", json!(now + 60))
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        o.remove("sub");
                        serde_json::Value::Object(o)
                    })
                    .unwrap(),
                Some("at+jwt"),
            ),
            "ERR_JWT_CLAIM_MISSING",
        ),
    ];
    for (token, expected) in cases {
        let response = server
            .get("/api/v3/admin", &[("Authorization", &bearer(&token))])
            .await;
        if expected == "OK" {
            assert_eq!(response.status, 200, "{}", response.body);
        } else {
            assert_eq!(
                (response.status, response.code().as_str()),
                (401, expected),
                "{}",
                response.body
            );
        }
    }
    // A token from a key the server does not know.
    let stranger = Key::generate(Algorithm::EdDSA).unwrap();
    let foreign = Signer::new(stranger).typ("at+jwt").sign(&base).unwrap();
    let response = server
        .get("/api/v3/secret", &[("Authorization", &bearer(&foreign))])
        .await;
    assert_eq!(
        (response.status, response.code().as_str()),
        (401, "ERR_JWKS_NO_MATCHING_KEY")
    );
    // alg none with the server's kid.
    let header = format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{}"}}"#, key.kid());
    let b64 = |s: &str| base64_url(s.as_bytes());
    let unsigned = format!("{}.{}.", b64(&header), b64(&base.to_string()));
    let response = server
        .get("/api/v3/secret", &[("Authorization", &bearer(&unsigned))])
        .await;
    assert_eq!(
        (response.status, response.code().as_str()),
        (401, "ERR_JOSE_ALG_UNSUPPORTED")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_clock_that_cannot_be_read_refuses_instead_of_guessing() {
    let server = dev_server().await;
    let token = server.token(&server.dev_key("dev")).await;
    // Cached once, so the cache path is under test too.
    let ok = server
        .get("/api/v3/secret", &[("authorization", &bearer(&token))])
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    server.clock.break_down();
    for response in [
        server
            .get("/api/v3/secret", &[("authorization", &bearer(&token))])
            .await,
        server
            .post_json(
                "/api/v3/auth",
                &format!(r#"{{"api-key":"{}"}}"#, server.dev_key("dev")),
            )
            .await,
    ] {
        assert_eq!(
            (response.status, response.code().as_str()),
            (503, "ERR_CLOCK_UNAVAILABLE"),
            "{}",
            response.body
        );
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(
            response.header("www-authenticate"),
            None,
            "not the client's fault"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn every_declared_route_is_served_and_nothing_else() {
    let server = dev_server().await;
    // Ready first (the revocations read from the store), so that /readyz answers 200 too.
    for _ in 0..50 {
        if server.get("/readyz", &[]).await.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for route in jwtkit_server::routes::ROUTES {
        for method in route.methods {
            let response = server
                .request(&format!(
                    "{method} {} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                    route.path
                ))
                .await;
            // Routed: answered, neither 404 nor 405, and never a server fault (a dropped
            // connection reads as status 0).
            assert!(
                (200..500).contains(&response.status) && ![404, 405].contains(&response.status),
                "{method} {}: {} {}",
                route.path,
                response.status,
                response.body
            );
        }
        let other = server
            .request(&format!(
                "DELETE {} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                route.path
            ))
            .await;
        assert_eq!(
            (other.status, other.code().as_str()),
            (405, "ERR_METHOD_NOT_ALLOWED"),
            "{}",
            route.path
        );
    }
    let unknown = server.get("/api/v3/homes", &[]).await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (404, "ERR_NOT_FOUND")
    );
    server.stop().await;
}

#[tokio::test]
async fn the_tutorial_flow_end_to_end() {
    let server = dev_server().await;
    let token = server.token(&server.dev_key("dev")).await;
    let auth = bearer(&token);
    assert_eq!(
        server
            .get("/api/v3/secret", &[("Authorization", &auth)])
            .await
            .status,
        200
    );
    server.clock.advance(179);
    assert_eq!(
        server
            .get("/api/v3/secret", &[("Authorization", &auth)])
            .await
            .status,
        200
    );
    server.clock.advance(1);
    let expired = server
        .get("/api/v3/secret", &[("Authorization", &auth)])
        .await;
    assert_eq!(
        (expired.status, expired.code().as_str()),
        (401, "ERR_JWT_EXPIRED")
    );
    assert!(
        expired
            .header("www-authenticate")
            .unwrap()
            .contains("token expired")
    );
    // A fresh token works again.
    let fresh = server.token(&server.dev_key("dev")).await;
    assert_eq!(
        server
            .get("/api/v3/secret", &[("Authorization", &bearer(&fresh))])
            .await
            .status,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn protected_responses_carry_any_subject_as_valid_json() {
    let key = Key::generate(Algorithm::HS256).unwrap();
    let mut config = ServeArgs::default().resolve().unwrap();
    config.signing = Signing::Fixed {
        keys: KeySet::from(key.clone()),
        signing_key: key.clone(),
    };
    let server = TestServer::start_config(config).await;
    let now = server.clock.now_secs();
    // Quotes, backslashes, a control character, markup and non-ASCII: the response body is
    // written without a JSON tree, so its escaping is checked here.
    let sub = "a\"b\\c\n</script>\u{e9}\u{1F600}";
    let claims =
        json!({"iss": server.config.issuer, "aud": "jwtkit-api", "sub": sub, "exp": now + 60});
    let token = Signer::new(key).typ("at+jwt").sign(&claims).unwrap();
    // Twice: a full verification, then the cached one.
    for _ in 0..2 {
        let ok = server
            .get("/api/v3/secret", &[("Authorization", &bearer(&token))])
            .await;
        assert_eq!(ok.status, 200);
        assert_eq!(ok.json()["data"]["sub"], sub);
        assert_eq!(ok.json()["data"]["code"], 200);
    }
    server.stop().await;
}

#[tokio::test]
async fn key_rotation_keeps_live_tokens_valid() {
    let old = Key::generate(Algorithm::ES256).unwrap();
    let new = Key::generate(Algorithm::ES256).unwrap();
    let mut config = ServeArgs::default().resolve().unwrap();
    // The new key signs; the old one, now public only, still verifies.
    let old_public = Key::from_jwk(&old.to_public_jwk().unwrap(), None).unwrap();
    config.signing = Signing::Fixed {
        keys: KeySet::new(vec![new.clone(), old_public]).unwrap(),
        signing_key: new.clone(),
    };
    let server = TestServer::start_config(config).await;
    let now = server.clock.now_secs();
    let claims =
        json!({"iss": server.config.issuer, "aud": "jwtkit-api", "sub": "dev", "exp": now + 60});
    let by_old = Signer::new(old).typ("at+jwt").sign(&claims).unwrap();
    assert_eq!(
        server
            .get("/api/v3/secret", &[("Authorization", &bearer(&by_old))])
            .await
            .status,
        200
    );
    let issued = server.token(&server.dev_key("dev")).await;
    let kid = jwtkit_core::dangerous::decode_unverified(&issued, &Default::default())
        .unwrap()
        .header()
        .kid()
        .map(str::to_owned);
    assert_eq!(
        kid.as_deref(),
        Some(new.kid()),
        "new tokens carry the new key's kid"
    );
    let jwks = server.get("/.well-known/jwks.json", &[]).await.json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    server.clock.advance(60);
    let expired = server
        .get("/api/v3/secret", &[("Authorization", &bearer(&by_old))])
        .await;
    assert_eq!(expired.code(), "ERR_JWT_EXPIRED");
    server.stop().await;
}

#[tokio::test]
async fn hmac_configuration_publishes_an_empty_key_set() {
    let args = ServeArgs::default().with(
        &table::SECRET,
        "Jx7_qL2vR9mZ0tWc4Ks8Pn1YbH6dFg3eUaQoTiVrXw5",
    );
    let mut config = args.resolve().unwrap();
    let key = jwtkit_server::apikeys::generate_api_key().unwrap();
    config.api_keys = jwtkit_server::apikeys::ApiKeys::new(vec![
        jwtkit_server::apikeys::ApiKey::from_plaintext("svc", &key, vec![]).unwrap(),
    ])
    .unwrap();
    let server = TestServer::start_config(config).await;
    let jwks = server.get("/.well-known/jwks.json", &[]).await;
    assert_eq!((jwks.status, jwks.json()), (200, json!({"keys": []})));
    let token = server.token(&key).await;
    let header = jwtkit_core::dangerous::decode_unverified(&token, &Default::default()).unwrap();
    assert_eq!(header.header().alg(), "HS256");
    assert_eq!(
        server
            .get("/api/v3/secret", &[("Authorization", &bearer(&token))])
            .await
            .status,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let args = ServeArgs::default().with(&table::CORS_ORIGINS, "https://app.example");
    let server = TestServer::start(args).await;
    let preflight = |origin: &str| {
        format!(
            "OPTIONS /api/v3/secret HTTP/1.1\r\nHost: t\r\nConnection: close\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n"
        )
    };
    let allowed = send(server.addr, preflight("https://app.example").as_bytes()).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let denied = send(server.addr, preflight("https://evil.example").as_bytes()).await;
    assert_eq!(
        (denied.status, denied.code().as_str()),
        (403, "ERR_CORS_FORBIDDEN")
    );
    let simple = server
        .get("/api/v3/home", &[("Origin", "https://app.example")])
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    server.stop().await;
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn the_root_serves_the_demo_page_or_says_how_to_get_it() {
    let server = dev_server().await;
    let root = server.get("/", &[]).await;
    assert_eq!(root.status, 200);
    assert_eq!(
        root.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(root.header("content-security-policy").is_some());
    if jwtkit_server::routes::demo_built_in() {
        // Built with JWTKIT_DEMO_DIR (as `cargo xtask run` builds it): the page and its files.
        assert!(root.body.contains("<title>jwtkit"), "{}", root.body);
        let glue = server.get("/pkg/jwtkit.js", &[]).await;
        assert_eq!(glue.status, 200);
        assert_eq!(
            glue.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
    } else {
        // A bare build: what runs here, and how to get the page.
        assert!(root.body.contains("cargo xtask run"), "{}", root.body);
        assert!(root.body.contains("--web-dir"), "{}", root.body);
        for route in jwtkit_server::routes::ROUTES {
            assert!(
                root.body.contains(route.path),
                "{} in {}",
                route.path,
                root.body
            );
        }
        assert_eq!(server.get("/index.html", &[]).await.status, 404);
    }
    // Nothing but GET and the exact paths.
    assert_eq!(server.get("/../Cargo.toml", &[]).await.status, 404);
}

#[tokio::test]
async fn a_web_dir_replaces_the_built_in_page() {
    let dir = jwtkit_e2e::server::Scratch::new();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>mine</title>",
    )
    .unwrap();
    let args = ServeArgs::default().with(&table::WEB_DIR, dir.path().display().to_string());
    let server = TestServer::start(args).await;
    let root = server.get("/", &[]).await;
    assert_eq!(
        (root.status, root.body.as_str()),
        (200, "<!doctype html><title>mine</title>")
    );
    assert!(
        root.header("content-security-policy")
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(server.get("/missing.js", &[]).await.status, 404);
}
