//! A person's refresh token in an `HttpOnly` cookie (`refresh_token_delivery=cookie` at the
//! token endpoint, jwtkit's extension for pages on the provider's site): set at the code's
//! exchange and at each refresh, never in the body; a refresh that relies on it passes the
//! CSRF defence; each client has its own; logout clears it. Every refusal by its code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jwtkit_core::protocol::CLIENT_REFRESH_COOKIE_PREFIX;
use jwtkit_e2e::http::Response;
use jwtkit_e2e::server::TestServer;
use jwtkit_e2e::signin::{Browser, VERIFIER, query, request, sign_in, token, userinfo};
use jwtkit_server::config::{DEMO_CLIENT_ID, ServeArgs, table};

/// The demo client's cookie.
fn demo_cookie() -> String {
    format!("{CLIENT_REFRESH_COOKIE_PREFIX}{DEMO_CLIENT_ID}")
}
const PARTNER: &str = r#"{"client_id": "partner", "client_name": "Partner App", "redirect_uris": ["https://partner.example/cb"], "scopes": ["openid"], "first_party": true}"#;

/// A code of the demo client redeemed with `refresh_token_delivery=cookie`.
async fn exchange_for_cookie(server: &TestServer, browser: &mut Browser) -> Response {
    let code = sign_in(server, browser, &request(server, &[])).await;
    let redirect_uri = format!("{}/", server.config.public_url);
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("code", &code),
        ("redirect_uri", &redirect_uri),
        ("code_verifier", VERIFIER),
        ("refresh_token_delivery", "cookie"),
    ];
    // Asked without the CSRF defence (a form of another site), refused before the code is
    // looked at.
    let planted = token_with(server, &form, &[]).await;
    assert_eq!(
        (planted.status, planted.code().as_str()),
        (403, "ERR_CSRF_CHECK_FAILED")
    );
    token_with(server, &form, &AS_PAGE).await
}

/// The value of the `Set-Cookie` of `name`, checked to be `HttpOnly`, host-only, same-site.
fn cookie_set(response: &Response, name: &str) -> String {
    let set = response
        .set_cookies
        .iter()
        .find(|set| set.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie: {:?}", response.set_cookies));
    for attribute in ["Path=/", "HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(set.contains(attribute), "{set}");
    }
    let (pair, _) = set.split_once(';').unwrap();
    pair[name.len() + 1..].to_owned()
}

/// A token request of `pairs` with `headers` (the cookie, the CSRF header, the Origin).
async fn token_with(
    server: &TestServer,
    pairs: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Response {
    let body = query(pairs);
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    server
        .request(&format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
}

/// What a page of this server sends with a request that relies on the cookie.
const AS_PAGE: [(&str, &str); 2] = [("x-jwtkit-csrf", "1"), ("Origin", "http://t")];

/// A refresh of `client_id` with `headers`.
async fn refresh_with(server: &TestServer, client_id: &str, headers: &[(&str, &str)]) -> Response {
    let pairs = [("grant_type", "refresh_token"), ("client_id", client_id)];
    token_with(server, &pairs, headers).await
}

/// A refresh of the demo client by `cookie`, as a page of this server sends it (the CSRF
/// header, its own origin).
async fn refresh_by_cookie(server: &TestServer, cookie: &str) -> Response {
    refresh_with(
        server,
        DEMO_CLIENT_ID,
        &[
            ("Cookie", cookie),
            ("x-jwtkit-csrf", "1"),
            ("Origin", "http://t"),
        ],
    )
    .await
}

#[tokio::test]
async fn the_refresh_token_rides_the_clients_cookie_and_rotates_there() {
    let server = TestServer::start(ServeArgs::default().with(&table::CLIENTS, PARTNER)).await;
    let mut browser = Browser::default();

    // The exchange: the tokens in the body but the refresh token, which is in the cookie.
    let exchanged = exchange_for_cookie(&server, &mut browser).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.body);
    let body = exchanged.json();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["refresh_token_delivery"], "cookie");
    assert!(body["id_token"].is_string());
    let first = cookie_set(&exchanged, &demo_cookie());
    assert!(first.starts_with("jwtr_"));

    // A refresh relying on the cookie passes the CSRF defence: the header, and an Origin
    // that is this server's (its Host) or an allowed one.
    let cookie = format!("{}={first}", demo_cookie());
    let no_header = refresh_with(
        &server,
        DEMO_CLIENT_ID,
        &[("Cookie", &cookie), ("Origin", "http://t")],
    )
    .await;
    assert_eq!(
        (no_header.status, no_header.code().as_str()),
        (403, "ERR_CSRF_CHECK_FAILED")
    );
    let foreign = refresh_with(
        &server,
        DEMO_CLIENT_ID,
        &[
            ("Cookie", &cookie),
            ("x-jwtkit-csrf", "1"),
            ("Origin", "https://evil.example"),
        ],
    )
    .await;
    assert_eq!(foreign.code(), "ERR_CSRF_CHECK_FAILED");
    assert!(foreign.body.contains("origin"), "{}", foreign.body);

    let rotated = refresh_by_cookie(&server, &cookie).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let body = rotated.json();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["refresh_token_delivery"], "cookie");
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&server, &access).await.status, 200);
    let second = cookie_set(&rotated, &demo_cookie());
    assert_ne!(second, first);

    // Another client's cookie is not this client's: without its own, the parameter is missing.
    let partner_cookie = format!("{CLIENT_REFRESH_COOKIE_PREFIX}partner={second}");
    let missing = refresh_by_cookie(&server, &partner_cookie).await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (400, "ERR_INVALID_REQUEST_BODY")
    );
    assert!(missing.body.contains("refresh_token"), "{}", missing.body);

    // The rotated-away cookie again, past the grace window: reuse ends the session.
    server.clock.advance(11);
    let reused = refresh_by_cookie(&server, &cookie).await;
    assert_eq!(reused.code(), "ERR_REFRESH_TOKEN_REUSED");
    assert_eq!(userinfo(&server, &access).await.code(), "ERR_JWT_REVOKED");
}

#[tokio::test]
async fn a_token_from_the_body_may_move_into_the_cookie_and_a_bad_delivery_is_refused() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    let code = sign_in(&server, &mut browser, &request(&server, &[])).await;
    let redirect_uri = format!("{}/", server.config.public_url);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
        ("refresh_token_delivery", "header"),
    ];
    let refused = token(&server, &form, None).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (400, "ERR_INVALID_REQUEST_BODY")
    );
    assert!(
        refused.body.contains("refresh_token_delivery"),
        "{}",
        refused.body
    );
    // The refusal came before the code was looked at: it still redeems.
    form.pop();
    let exchanged = token(&server, &form, None).await.json();
    let in_body = exchanged["refresh_token"].as_str().unwrap().to_owned();

    let move_pairs = [
        ("grant_type", "refresh_token"),
        ("client_id", DEMO_CLIENT_ID),
        ("refresh_token", in_body.as_str()),
        ("refresh_token_delivery", "cookie"),
    ];
    let refused = token_with(&server, &move_pairs, &[("Origin", "http://t")]).await;
    assert_eq!(refused.code(), "ERR_CSRF_CHECK_FAILED");
    let moved = token_with(&server, &move_pairs, &AS_PAGE).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert!(moved.json().get("refresh_token").is_none());
    assert!(cookie_set(&moved, &demo_cookie()).starts_with("jwtr_"));
}

#[tokio::test]
async fn logout_clears_the_clients_cookie_and_discovery_offers_it() {
    let server = TestServer::start(ServeArgs::default()).await;
    let metadata = server
        .get("/.well-known/openid-configuration", &[])
        .await
        .json();
    assert_eq!(
        metadata["refresh_token_delivery_values_supported"],
        serde_json::json!(["body", "cookie"])
    );

    let mut browser = Browser::default();
    let exchanged = exchange_for_cookie(&server, &mut browser).await;
    let id_token = exchanged.json()["id_token"].as_str().unwrap().to_owned();
    let cookies = browser.cookie_header();
    let logout = server
        .get(
            &format!("/oauth2/logout?{}", query(&[("id_token_hint", &id_token)])),
            &[("cookie", cookies.as_str())],
        )
        .await;
    assert_eq!(cookie_set(&logout, &demo_cookie()), "");
    assert!(
        logout
            .set_cookies
            .iter()
            .any(|set| set.starts_with(&demo_cookie()) && set.contains("Max-Age=0")),
        "{:?}",
        logout.set_cookies
    );
}
