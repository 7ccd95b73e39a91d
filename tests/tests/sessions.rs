//! The session lifecycle over real HTTP, on the embedded SQLite store: rotation with reuse
//! detection and the grace window, lifetimes, logout, RFC 7009 revocation, the cookie with
//! its CSRF defence, concurrent refreshes, a restart, and every bad input with its code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::future::join_all;
use jwtkit_e2e::http::Response;
use jwtkit_e2e::server::{Scratch, TestServer};
use jwtkit_server::config::{ServeArgs, table};
use serde_json::{Value, json};

/// A fresh session: (access token, refresh token).
async fn login(server: &TestServer) -> (String, String) {
    let response = server
        .post_json(
            "/api/v3/auth",
            &json!({"api-key": server.dev_key("dev")}).to_string(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    tokens(&response)
}

fn tokens(response: &Response) -> (String, String) {
    let data = &response.json()["data"];
    (
        data["token"].as_str().unwrap().to_owned(),
        data["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn refresh(server: &TestServer, token: &str) -> Response {
    server
        .post_json(
            "/api/v3/auth/refresh",
            &json!({ "refresh_token": token }).to_string(),
        )
        .await
}

async fn secret(server: &TestServer, access: &str) -> Response {
    server
        .get(
            "/api/v3/secret",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await
}

/// A POST with these headers and body (`Content-Length` added).
async fn post(server: &TestServer, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let mut raw = format!("POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    server.request(&raw).await
}

fn code(response: &Response) -> (u16, String) {
    (response.status, response.code())
}

fn claims(access: &str) -> Value {
    let payload = access.split('.').nth(1).unwrap();
    serde_json::from_slice(&jwtkit_e2e::unb64(payload).unwrap()).unwrap()
}

fn no_grace() -> ServeArgs {
    ServeArgs::default().with(&table::REFRESH_GRACE, "0s")
}

#[tokio::test]
async fn auth_starts_a_session_and_refresh_rotates_it() {
    let server = TestServer::start(ServeArgs::default()).await;
    let response = server
        .post_json(
            "/api/v3/auth",
            &json!({"api-key": server.dev_key("dev")}).to_string(),
        )
        .await;
    let data = &response.json()["data"];
    assert_eq!(data["refresh_expires_in"], 12 * 3600, "idle lifetime first");
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let (access, first) = tokens(&response);
    assert!(
        first.starts_with("jwtr_") && first.len() == 48,
        "256 random bits"
    );
    let sid = claims(&access)["sid"].as_str().unwrap().to_owned();

    let rotated = refresh(&server, &first).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let (access2, second) = tokens(&rotated);
    assert_ne!(second, first);
    assert_eq!(claims(&access2)["sid"], sid.as_str(), "same session");
    assert_ne!(claims(&access2)["jti"], claims(&access)["jti"]);
    assert_eq!(secret(&server, &access2).await.status, 200);
    // The refresh token is never in a log line or an error (it is a bearer secret).
    assert!(!rotated.headers.values().any(|v| v.contains(&second)));
    server.stop().await;
}

#[tokio::test]
async fn reuse_of_a_rotated_token_revokes_the_whole_session() {
    let server = TestServer::start(no_grace()).await;
    let (access, first) = login(&server).await;
    let (access2, second) = tokens(&refresh(&server, &first).await);
    let (other_access, other_refresh) = login(&server).await;

    let reused = refresh(&server, &first).await;
    assert_eq!(code(&reused), (401, "ERR_REFRESH_TOKEN_REUSED".into()));
    // Every refresh token of the family, and every access token with its sid, is dead.
    assert_eq!(
        code(&refresh(&server, &second).await),
        (401, "ERR_REFRESH_TOKEN_REVOKED".into())
    );
    for token in [&access, &access2] {
        let refused = secret(&server, token).await;
        assert_eq!(code(&refused), (401, "ERR_JWT_REVOKED".into()));
        assert!(
            refused
                .header("www-authenticate")
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }
    // Another session of the same key is untouched.
    assert_eq!(secret(&server, &other_access).await.status, 200);
    assert_eq!(refresh(&server, &other_refresh).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn the_grace_window_honours_only_the_immediate_predecessor() {
    let server = TestServer::start(ServeArgs::default()).await;
    let (_, first) = login(&server).await;
    let (_, second) = tokens(&refresh(&server, &first).await);
    // An honest race: the same token again within 10 s gets the *current* token back.
    server.clock.advance(9);
    let again = refresh(&server, &first).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let (access, current) = tokens(&again);
    assert_eq!(current, second, "both racers hold the same current token");
    assert_eq!(secret(&server, &access).await.status, 200);
    // A newer rotation makes `first` two generations old: never honoured, even in the window.
    let (_, third) = tokens(&refresh(&server, &second).await);
    assert_eq!(
        code(&refresh(&server, &first).await),
        (401, "ERR_REFRESH_TOKEN_REUSED".into())
    );
    assert_eq!(
        code(&refresh(&server, &third).await),
        (401, "ERR_REFRESH_TOKEN_REVOKED".into())
    );
    server.stop().await;

    // And after the window, the immediate predecessor is a reuse too.
    let server = TestServer::start(ServeArgs::default()).await;
    let (_, first) = login(&server).await;
    assert_eq!(refresh(&server, &first).await.status, 200);
    server.clock.advance(11);
    assert_eq!(
        code(&refresh(&server, &first).await),
        (401, "ERR_REFRESH_TOKEN_REUSED".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn sessions_end_after_their_idle_and_absolute_lifetimes() {
    let args = ServeArgs::default()
        .with(&table::REFRESH_IDLE_TTL, "1h")
        .with(&table::REFRESH_ABSOLUTE_TTL, "3h");
    let server = TestServer::start(args).await;
    let (_, idle) = login(&server).await;
    server.clock.advance(3600);
    assert_eq!(
        code(&refresh(&server, &idle).await),
        (401, "ERR_REFRESH_TOKEN_EXPIRED".into()),
        "now == idle expiry"
    );

    // Refreshed every 50 minutes, it slides, until the absolute lifetime.
    let (_, mut token) = login(&server).await;
    for _ in 0..3 {
        server.clock.advance(50 * 60);
        let response = refresh(&server, &token).await;
        assert_eq!(response.status, 200, "{}", response.body);
        token = tokens(&response).1;
    }
    let last = tokens(&refresh(&server, &token).await);
    assert!(!last.1.is_empty());
    server.clock.advance(31 * 60);
    assert_eq!(
        code(&refresh(&server, &last.1).await),
        (401, "ERR_REFRESH_TOKEN_EXPIRED".into()),
        "3 h after the start"
    );
    server.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_and_revokes_its_access_tokens() {
    let server = TestServer::start(ServeArgs::default()).await;
    let (access, refresh_token) = login(&server).await;
    let bearer = format!("Bearer {access}");
    let out = post(
        &server,
        "/api/v3/auth/logout",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_REVOKED".into())
    );
    assert_eq!(
        code(&refresh(&server, &refresh_token).await),
        (401, "ERR_REFRESH_TOKEN_REVOKED".into())
    );
    // Twice is fine.
    let again = post(
        &server,
        "/api/v3/auth/logout",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(again.status, 200);
    // By refresh token, too.
    let (access, refresh_token) = login(&server).await;
    let body = json!({ "refresh_token": refresh_token }).to_string();
    let out = post(
        &server,
        "/api/v3/auth/logout",
        &[("content-type", "application/json")],
        &body,
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_REVOKED".into())
    );
    // The revocation is forgotten once every token it covers has expired.
    server.clock.advance(181);
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_EXPIRED".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn rfc_7009_revocation_of_refresh_and_access_tokens() {
    let server = TestServer::start(ServeArgs::default()).await;
    let form = |body: &str| {
        let body = body.to_owned();
        let server = &server;
        async move {
            post(
                server,
                "/api/v3/auth/revoke",
                &[("content-type", "application/x-www-form-urlencoded")],
                &body,
            )
            .await
        }
    };
    // A refresh token ends its session.
    let (access, refresh_token) = login(&server).await;
    let revoked = form(&format!(
        "token={refresh_token}&token_type_hint=refresh_token"
    ))
    .await;
    assert_eq!((revoked.status, revoked.body.as_str()), (200, ""));
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_REVOKED".into())
    );
    // An access token revokes itself only.
    let (access, refresh_token) = login(&server).await;
    assert_eq!(form(&format!("token={access}")).await.status, 200);
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_REVOKED".into())
    );
    let (fresh, _) = tokens(&refresh(&server, &refresh_token).await);
    assert_eq!(secret(&server, &fresh).await.status, 200);
    // Unknown and forged tokens: 200, and nothing happens (a forged token naming this
    // session's sid ends nothing).
    let sid = claims(&fresh)["sid"].as_str().unwrap().to_owned();
    let forged = format!(
        "{}.{}.c2ln",
        jwtkit_e2e::b64(r#"{"alg":"EdDSA","typ":"at+jwt"}"#),
        jwtkit_e2e::b64(json!({"sid": sid, "jti": "x", "exp": 4_000_000_000u64}).to_string())
    );
    for token in [
        "jwtr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "nonsense",
        &forged,
    ] {
        assert_eq!(form(&format!("token={token}")).await.status, 200, "{token}");
    }
    assert_eq!(secret(&server, &fresh).await.status, 200);
    // Malformed requests.
    assert_eq!(
        code(&form("token_type_hint=access_token").await),
        (400, "ERR_INVALID_REQUEST_BODY".into())
    );
    assert_eq!(
        code(&form("token=a&token=b").await),
        (400, "ERR_INVALID_REQUEST_BODY".into())
    );
    let json = post(
        &server,
        "/api/v3/auth/revoke",
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(code(&json), (400, "ERR_INVALID_REQUEST_BODY".into()));
    server.stop().await;
}

#[tokio::test]
async fn the_cookie_keeps_the_refresh_token_from_javascript_and_demands_csrf_defence() {
    let args = ServeArgs::default().with(&table::CORS_ORIGINS, "https://app.example");
    let server = TestServer::start(args).await;
    let body = json!({"api-key": server.dev_key("dev"), "refresh_token_delivery": "cookie"});
    let response = server.post_json("/api/v3/auth", &body.to_string()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let data = &response.json()["data"];
    assert!(data.get("refresh_token").is_none(), "not in the body");
    assert_eq!(data["refresh_token_delivery"], "cookie");
    let set_cookie = response.header("set-cookie").unwrap().to_owned();
    for attribute in [
        "__Host-jwtkit-refresh=jwtr_",
        "; Path=/",
        "; HttpOnly",
        "; Secure",
        "; SameSite=Strict",
        "; Max-Age=43200",
    ] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let with = |headers: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            post(server, "/api/v3/auth/refresh", &headers, "").await
        }
    };
    let origin = ("origin", "http://test".to_owned());
    let csrf = ("x-jwtkit-csrf", "1".to_owned());
    let jar = ("cookie", cookie.clone());
    assert_eq!(
        code(&with(vec![jar.clone(), origin.clone()]).await),
        (403, "ERR_CSRF_CHECK_FAILED".into()),
        "no custom header"
    );
    assert_eq!(
        code(&with(vec![jar.clone(), csrf.clone()]).await),
        (403, "ERR_CSRF_CHECK_FAILED".into()),
        "no Origin"
    );
    // A foreign origin is refused by CORS already (and by the CSRF check without CORS).
    assert_eq!(
        code(
            &with(vec![
                jar.clone(),
                csrf.clone(),
                ("origin", "https://evil.example".into())
            ])
            .await
        ),
        (403, "ERR_CORS_FORBIDDEN".into())
    );
    assert_eq!(
        code(&with(vec![origin.clone(), csrf.clone()]).await),
        (400, "ERR_REFRESH_TOKEN_MISSING".into())
    );
    let ok = with(vec![jar.clone(), csrf.clone(), origin.clone()]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let next = ok
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(next, cookie, "rotated");
    assert!(ok.json()["data"].get("refresh_token").is_none());
    // An allowed cross origin works too.
    let cross = with(vec![
        ("cookie", next.clone()),
        csrf.clone(),
        ("origin", "https://app.example".into()),
    ])
    .await;
    assert_eq!(cross.status, 200, "{}", cross.body);
    let last = cross
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // Logout by cookie clears it.
    let out = post(
        &server,
        "/api/v3/auth/logout",
        &[
            ("cookie", &last),
            ("x-jwtkit-csrf", "1"),
            ("origin", "http://test"),
        ],
        "",
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    server.stop().await;

    // Without CORS, the CSRF check alone refuses a foreign origin.
    let server = TestServer::start(ServeArgs::default()).await;
    let body = json!({"api-key": server.dev_key("dev"), "refresh_token_delivery": "cookie"});
    let response = server.post_json("/api/v3/auth", &body.to_string()).await;
    let cookie = response
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let foreign = post(
        &server,
        "/api/v3/auth/refresh",
        &[
            ("cookie", &cookie),
            ("x-jwtkit-csrf", "1"),
            ("origin", "https://evil.example"),
        ],
        "",
    )
    .await;
    assert_eq!(code(&foreign), (403, "ERR_CSRF_CHECK_FAILED".into()));
    server.stop().await;
}

#[tokio::test]
async fn a_refresh_token_from_the_body_may_move_into_the_cookie_and_not_back() {
    let server = TestServer::start(ServeArgs::default()).await;
    let (_, first) = login(&server).await;
    let body = json!({"refresh_token": first, "refresh_token_delivery": "cookie"});
    let moved = server
        .post_json("/api/v3/auth/refresh", &body.to_string())
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert!(moved.json()["data"].get("refresh_token").is_none());
    assert_eq!(moved.json()["data"]["refresh_token_delivery"], "cookie");
    let cookie = moved.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("__Host-jwtkit-refresh=jwtr_"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    // The cookie asks for the body: it stays a cookie.
    let kept = post(
        &server,
        "/api/v3/auth/refresh",
        &[
            ("cookie", &cookie),
            ("x-jwtkit-csrf", "1"),
            ("origin", "http://test"),
            ("content-type", "application/json"),
        ],
        r#"{"refresh_token_delivery": "body"}"#,
    )
    .await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert!(kept.json()["data"].get("refresh_token").is_none());
    // The spent body token is reuse: the session ends.
    assert_eq!(
        code(&refresh(&server, &first).await),
        (401, "ERR_REFRESH_TOKEN_REUSED".into())
    );
    let wrong = json!({"refresh_token": "jwtr_x", "refresh_token_delivery": "both"});
    assert_eq!(
        code(
            &server
                .post_json("/api/v3/auth/refresh", &wrong.to_string())
                .await
        ),
        (400, "ERR_INVALID_REQUEST_BODY".into())
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refreshes_have_one_winner_or_all_get_the_same_token() {
    for (grace, expected_ok) in [("0s", 1), ("10s", 50)] {
        let server =
            TestServer::start(ServeArgs::default().with(&table::REFRESH_GRACE, grace)).await;
        let (_, token) = login(&server).await;
        // Each on its own connection, all in flight at once.
        let responses = join_all((0..50).map(|_| refresh(&server, &token))).await;
        let ok: Vec<&Response> = responses.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), expected_ok, "grace {grace}");
        let mut issued: Vec<String> = ok.iter().map(|r| tokens(r).1).collect();
        issued.dedup();
        assert_eq!(issued.len(), 1, "one current refresh token");
        // The first reuse ends the session; later ones find it ended.
        let refused: Vec<(u16, String)> = responses
            .iter()
            .filter(|r| r.status != 200)
            .map(code)
            .collect();
        assert_eq!(
            refused
                .iter()
                .filter(|c| c.1 == "ERR_REFRESH_TOKEN_REUSED")
                .count(),
            usize::from(expected_ok == 1)
        );
        assert!(
            refused.iter().all(|(status, code)| *status == 401
                && ["ERR_REFRESH_TOKEN_REUSED", "ERR_REFRESH_TOKEN_REVOKED"]
                    .contains(&code.as_str())),
            "{refused:?}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_restart_on_sqlite_keeps_sessions_and_revocations() {
    let dir = Scratch::new();
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    let key = jwtkit_core::Key::generate(jwtkit_core::Algorithm::EdDSA).unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, key.to_private_jwk().to_json()).unwrap();
    let api_key = jwtkit_server::apikeys::generate_api_key().unwrap();
    let entry = jwtkit_server::apikeys::ApiKey::from_plaintext("svc", &api_key, vec![])
        .unwrap()
        .entry();
    let args = || {
        ServeArgs::default()
            .with(&table::STORE, &store)
            .with(&table::KEYS, keys.to_str().unwrap())
            .with(&table::API_KEYS, &entry)
            // The restarted server listens elsewhere: the issuer must not follow the address.
            .with(&table::ISSUER, "https://auth.example")
    };
    let body = json!({ "api-key": api_key }).to_string();
    let first = TestServer::start(args()).await;
    let (ended_access, _) = tokens(&first.post_json("/api/v3/auth", &body).await);
    let (_, kept_refresh) = tokens(&first.post_json("/api/v3/auth", &body).await);
    let out = post(
        &first,
        "/api/v3/auth/logout",
        &[("authorization", &format!("Bearer {ended_access}"))],
        "",
    )
    .await;
    assert_eq!(out.status, 200);
    first.stop().await;

    let second = TestServer::start(args()).await;
    let rotated = refresh(&second, &kept_refresh).await;
    assert_eq!(
        rotated.status, 200,
        "the session survived: {}",
        rotated.body
    );
    // The revocation is read back from the store within about a second.
    let mut last = secret(&second, &ended_access).await;
    for _ in 0..30 {
        if last.status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        last = secret(&second, &ended_access).await;
    }
    assert_eq!(code(&last), (401, "ERR_JWT_REVOKED".into()));
    second.stop().await;
}

#[tokio::test]
async fn bad_refresh_requests_get_a_clear_4xx_and_a_stable_code() {
    let server = TestServer::start(ServeArgs::default()).await;
    let cases: Vec<(&str, &str, (u16, &str))> = vec![
        (
            "application/json",
            r#"{"refresh_token":"jwtr_short"}"#,
            (401, "ERR_REFRESH_TOKEN_INVALID"),
        ),
        (
            "application/json",
            r#"{"refresh_token":"jwtr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
            (401, "ERR_REFRESH_TOKEN_INVALID"),
        ),
        (
            "application/json",
            r#"{"refresh_token":7}"#,
            (400, "ERR_INVALID_REQUEST_BODY"),
        ),
        ("application/json", "{}", (400, "ERR_REFRESH_TOKEN_MISSING")),
        ("application/json", "[]", (400, "ERR_INVALID_REQUEST_BODY")),
        ("application/json", "{", (400, "ERR_INVALID_REQUEST_BODY")),
        ("text/plain", "jwtr_x", (415, "ERR_UNSUPPORTED_MEDIA_TYPE")),
    ];
    for (content_type, body, (status, expected)) in cases {
        let response = post(
            &server,
            "/api/v3/auth/refresh",
            &[("content-type", content_type)],
            body,
        )
        .await;
        assert_eq!(
            (response.status, response.code().as_str()),
            (status, expected),
            "{body}"
        );
        assert!(!response.body.contains("jwtr_AAAA"), "no echo");
    }
    let huge = format!(r#"{{"refresh_token":"{}"}}"#, "a".repeat(5000));
    let response = post(
        &server,
        "/api/v3/auth/refresh",
        &[("content-type", "application/json")],
        &huge,
    )
    .await;
    assert_eq!(code(&response), (413, "ERR_PAYLOAD_TOO_LARGE".into()));
    server.stop().await;
}

#[tokio::test]
async fn readiness_and_metrics() {
    let server = TestServer::start(ServeArgs::default()).await;
    let (_, token) = login(&server).await;
    refresh(&server, &token).await;
    let mut ready = server.get("/readyz", &[]).await;
    for _ in 0..30 {
        if ready.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ready = server.get("/readyz", &[]).await;
    }
    assert_eq!(
        (ready.status, ready.json()),
        (200, json!({"status": "ready"}))
    );
    // Metrics are on their own listener, never on the API's.
    let public = server.get("/metrics", &[]).await;
    assert_eq!(
        (public.status, public.code().as_str()),
        (404, "ERR_NOT_FOUND")
    );
    let metrics = server.metrics().await;
    assert_eq!(metrics.status, 200);
    for line in [
        "jwtkit_refresh_rotations_total 1",
        "jwtkit_http_requests_total{route=\"/api/v3/auth\",status=\"200\"} 1",
        "jwtkit_store_latency_seconds_count{operation=\"rotate\"} 1",
    ] {
        assert!(metrics.body.contains(line), "{line}:\n{}", metrics.body);
    }
    let pings: u32 = metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("jwtkit_store_latency_seconds_count{operation=\"ping\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(pings <= 4, "{pings} pings for 21+ probes");
    server.stop().await;
}

#[tokio::test]
async fn a_session_ends_with_its_api_key_and_keeps_only_the_roles_it_still_has() {
    let dir = Scratch::new();
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    let api_key = jwtkit_server::apikeys::generate_api_key().unwrap();
    let entry = |roles: &[&str]| {
        jwtkit_server::apikeys::ApiKey::from_plaintext(
            "svc",
            &api_key,
            roles.iter().map(|r| (*r).to_owned()).collect(),
        )
        .unwrap()
        .entry()
    };
    // Another key keeps the server configured when svc's is gone.
    let other = jwtkit_server::apikeys::ApiKey::from_plaintext("other", "jwtk_other_key", vec![])
        .unwrap()
        .entry();
    let args = |svc: Option<String>| {
        let args = ServeArgs::default()
            .with(&table::STORE, &store)
            .with(
                &table::SECRET,
                "Jx7_qL2vR9mZ0tWc4Ks8Pn1YbH6dFg3eUaQoTiVrXw5",
            )
            .with(&table::API_KEYS, &other)
            .with(&table::ISSUER, "https://auth.example");
        match svc {
            Some(entry) => args.with(&table::API_KEYS, entry),
            None => args,
        }
    };
    let body = json!({ "api-key": api_key }).to_string();
    let first = TestServer::start(args(Some(entry(&["user", "admin"])))).await;
    let (access, refresh_token) = tokens(&first.post_json("/api/v3/auth", &body).await);
    assert_eq!(claims(&access)["roles"], json!(["user", "admin"]));
    first.stop().await;

    // The key lost `admin`: the session's next token carries only `user`.
    let second = TestServer::start(args(Some(entry(&["user"])))).await;
    let rotated = refresh(&second, &refresh_token).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let (access, refresh_token) = tokens(&rotated);
    assert_eq!(claims(&access)["roles"], json!(["user"]));
    assert_eq!(claims(&access)["scope"], json!("user"));
    second.stop().await;

    // The key is gone: the session ends at its next refresh, and its tokens with it.
    let third = TestServer::start(args(None)).await;
    let refused = refresh(&third, &refresh_token).await;
    assert_eq!(code(&refused), (401, "ERR_REFRESH_TOKEN_REVOKED".into()));
    assert_eq!(
        code(&secret(&third, &access).await),
        (401, "ERR_JWT_REVOKED".into())
    );
    third.stop().await;
}

#[tokio::test]
async fn a_revoked_token_stays_refused_through_the_leeway() {
    // A token verifies until exp + leeway, so its revocation must last as long.
    let server = TestServer::start(ServeArgs::default().with(&table::LEEWAY, "30s")).await;
    let (access, _) = login(&server).await;
    let revoked = post(
        &server,
        "/api/v3/auth/revoke",
        &[("content-type", "application/x-www-form-urlencoded")],
        &format!("token={access}"),
    )
    .await;
    assert_eq!(revoked.status, 200);
    server.clock.advance(180 + 20); // past exp, within the leeway
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_REVOKED".into())
    );
    server.clock.advance(11); // past exp + leeway: expired, whatever the revocation
    assert_eq!(
        code(&secret(&server, &access).await),
        (401, "ERR_JWT_EXPIRED".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn one_more_session_than_the_cap_ends_the_oldest() {
    let server =
        TestServer::start(ServeArgs::default().with(&table::MAX_SESSIONS_PER_SUBJECT, "2")).await;
    let (oldest_access, oldest_refresh) = login(&server).await;
    server.clock.advance(1);
    let (middle_access, _) = login(&server).await;
    server.clock.advance(1);
    let (newest_access, _) = login(&server).await;
    assert_eq!(
        code(&secret(&server, &oldest_access).await),
        (401, "ERR_JWT_REVOKED".into()),
        "the oldest session ended, at once on this instance"
    );
    assert_eq!(
        code(&refresh(&server, &oldest_refresh).await),
        (401, "ERR_REFRESH_TOKEN_REVOKED".into())
    );
    for access in [middle_access, newest_access] {
        assert_eq!(secret(&server, &access).await.status, 200);
    }
    server.stop().await;
}
