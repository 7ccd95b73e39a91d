//! The OpenID provider on a live server: the authorization code flow with PKCE through the
//! real sign-in page (its CSRF cookie, the sign-in cookie, the redirect with `code`, `state`
//! and `iss`), the code's exchange for an access token and an ID token, userinfo by scope,
//! sign-in at the provider for a second request, consent for a third-party client, and every
//! refusal with its reason: at the authorization endpoint (the provider's own page, never a
//! redirect, while the client or its redirect URI is in doubt), at sign-in, and at the token
//! endpoint (a replayed code revoking what it issued).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtkit_core::{Validation, Verifier};
use jwtkit_e2e::http::Response;
use jwtkit_e2e::server::TestServer;
use jwtkit_e2e::signin::{
    Browser, CHALLENGE, VERIFIER, csrf_field, enc, exchange, location, param, password, query,
    request, sign_in, userinfo,
};
use jwtkit_server::config::{DEMO_CLIENT_ID, ServeArgs, table};
use serde_json::Value;
use sha2::{Digest as _, Sha512};

const THIRD_PARTY: &str = r#"{"client_id": "partner", "client_name": "Partner App", "redirect_uris": ["https://partner.example/cb"], "scopes": ["openid", "email"]}"#;

#[tokio::test]
async fn a_person_signs_in_with_the_code_flow_and_pkce() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    let query = request(&server, &[]);

    // The sign-in page: no script, styles by hash, forms to this server and the client.
    let page = browser.get(&server, &query).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("form-action 'self' {}", server.config.public_url)),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(
        page.body.contains("<label for=\"username\">")
            && page.body.contains("autocomplete=\"current-password\"")
    );
    assert!(!page.body.contains("<script"), "works without JavaScript");
    let set = page.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Lax"),
        "{set}"
    );

    let body = format!(
        "{query}&csrf={}&username=DEMO&password={}",
        csrf_field(&page.body),
        enc(&password(&server))
    );
    let redirect = browser.post(&server, &body).await;
    let set = redirect.header("set-cookie").unwrap();
    assert!(
        set.starts_with("__Host-jwtkit-login=jwtl_")
            && set.contains("HttpOnly; Secure; SameSite=Lax"),
        "{set}"
    );
    let pairs = location(&redirect);
    assert!(
        redirect
            .header("location")
            .unwrap()
            .starts_with(&format!("{}/?", server.config.public_url))
    );
    assert_eq!(param(&pairs, "state"), Some("st-1"));
    assert_eq!(
        param(&pairs, "iss"),
        Some(server.config.issuer.as_str()),
        "RFC 9207"
    );
    let code = param(&pairs, "code").unwrap().to_owned();
    assert!(code.starts_with("jwtc_"));

    let tokens = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let tokens = tokens.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email");
    let access = tokens["access_token"].as_str().unwrap();

    // The ID token: signed by the issuer's key, for the client, with the request's nonce.
    let policy = Validation::builder()
        .expect_issuer(&server.config.issuer)
        .expect_audience(DEMO_CLIENT_ID)
        .expect_type("JWT")
        .require_claim("sub")
        .build()
        .unwrap();
    let id = Verifier::new(server.config.signing.fixed().unwrap().0.clone(), policy)
        .verify(tokens["id_token"].as_str().unwrap(), server.clock.time())
        .unwrap();
    let claims = id.claims();
    assert_eq!(claims.get("nonce").and_then(Value::as_str), Some("n-1"));
    assert!(claims.get("auth_time").and_then(Value::as_i64).is_some());
    assert!(claims.get("sid").and_then(Value::as_str).is_some());
    let digest = Sha512::digest(access.as_bytes());
    assert_eq!(
        claims.get("at_hash").and_then(Value::as_str),
        Some(URL_SAFE_NO_PAD.encode(&digest[..32]).as_str()),
        "at_hash: the left half of SHA-512 for EdDSA"
    );
    let sub = claims.sub().unwrap().to_owned();
    assert!(sub.starts_with("u_"));

    // The access token works at the API and at userinfo, which answers by scope.
    let secret = server
        .get(
            "/api/v3/secret",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(secret.status, 200, "{}", secret.body);
    let info = userinfo(&server, access).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(
        info.json(),
        serde_json::json!({"sub": sub, "preferred_username": "demo", "name": "Demo User", "email": "demo@example.org", "email_verified": true})
    );

    // The sign-in at the provider: a second request gets a code without the form.
    let again = browser
        .get(
            &server,
            &request(&server, &[("scope", "openid"), ("state", "st-2")]),
        )
        .await;
    let pairs = location(&again);
    assert_eq!(param(&pairs, "state"), Some("st-2"));
    let tokens = exchange(
        &server,
        param(&pairs, "code").unwrap(),
        VERIFIER,
        DEMO_CLIENT_ID,
    )
    .await
    .json();
    let info = userinfo(&server, tokens["access_token"].as_str().unwrap())
        .await
        .json();
    assert_eq!(
        info,
        serde_json::json!({"sub": sub}),
        "openid alone: the subject alone"
    );

    // prompt=login asks again; max_age=0 too (the sign-in is older than no seconds).
    server.clock.advance(5);
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let page = browser.get(&server, &request(&server, &[extra])).await;
        assert_eq!(page.status, 200, "{extra:?}: the form again");
        assert!(page.body.contains("Sign in"));
    }
    // prompt=none with the sign-in: a code, no page.
    let silent = browser
        .get(&server, &request(&server, &[("prompt", "none")]))
        .await;
    assert!(param(&location(&silent), "code").is_some());
}

#[tokio::test]
async fn the_authorization_endpoint_refuses_for_the_right_reason() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    let public = server.config.public_url.clone();

    // Until the client and its redirect URI are known to match: the provider's own page.
    for (extra, code) in [
        (vec![("client_id", "")], "ERR_AUTHORIZE_CLIENT_ID_MISSING"),
        (
            vec![("client_id", "nobody")],
            "ERR_AUTHORIZE_UNKNOWN_CLIENT",
        ),
        (
            vec![("redirect_uri", "")],
            "ERR_AUTHORIZE_REDIRECT_URI_MISSING",
        ),
        (
            vec![("redirect_uri", "https://evil.example/")],
            "ERR_AUTHORIZE_REDIRECT_URI_NOT_REGISTERED",
        ),
        (
            vec![("redirect_uri", &format!("{public}/cb"))],
            "ERR_AUTHORIZE_REDIRECT_URI_NOT_REGISTERED",
        ),
        (
            vec![("redirect_uri", public.as_str())],
            "ERR_AUTHORIZE_REDIRECT_URI_NOT_REGISTERED",
        ),
        (
            vec![("redirect_uri", &format!("{public}/?x=1"))],
            "ERR_AUTHORIZE_REDIRECT_URI_NOT_REGISTERED",
        ),
    ] {
        let response = browser.get(&server, &request(&server, &extra)).await;
        assert_eq!(response.status, 400, "{extra:?}");
        assert!(
            response.header("location").is_none(),
            "{extra:?}: never a redirect"
        );
        assert!(response.body.contains(code), "{extra:?}: {}", response.body);
    }
    let twice = format!(
        "{}&redirect_uri={}",
        request(&server, &[]),
        enc("https://evil.example/")
    );
    let response = browser.get(&server, &twice).await;
    assert_eq!(response.status, 400);
    assert!(response.body.contains("ERR_AUTHORIZE_PARAMETER_REPEATED"));

    // After: redirected to the client with error, state and iss.
    for (extra, error, words) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
            "only response_type=code",
        ),
        (
            vec![("response_type", "")],
            "invalid_request",
            "response_type is missing",
        ),
        (
            vec![("code_challenge", "")],
            "invalid_request",
            "PKCE is required",
        ),
        (
            vec![("code_challenge_method", "plain")],
            "invalid_request",
            "plain is not accepted",
        ),
        (
            vec![("code_challenge_method", "")],
            "invalid_request",
            "must be S256",
        ),
        (
            vec![("code_challenge", "too-short")],
            "invalid_request",
            "43-character",
        ),
        (
            vec![("scope", "openid admin")],
            "invalid_scope",
            "\"admin\"",
        ),
        (vec![("scope", "")], "invalid_scope", "scope is missing"),
        (
            vec![("prompt", "none login")],
            "invalid_request",
            "prompt=none cannot be combined",
        ),
        (
            vec![("prompt", "select_account")],
            "invalid_request",
            "not supported",
        ),
        (vec![("max_age", "-1")], "invalid_request", "max_age"),
        (
            vec![("response_mode", "fragment")],
            "invalid_request",
            "response_mode",
        ),
        (
            vec![("request", "eyJ...")],
            "request_not_supported",
            "request objects",
        ),
        (vec![("prompt", "none")], "login_required", "not signed in"),
    ] {
        let response = browser.get(&server, &request(&server, &extra)).await;
        let pairs = location(&response);
        assert_eq!(param(&pairs, "error"), Some(error), "{extra:?}");
        assert!(
            param(&pairs, "error_description").unwrap().contains(words),
            "{extra:?}: {pairs:?}"
        );
        assert_eq!(param(&pairs, "state"), Some("st-1"), "{extra:?}");
        assert_eq!(param(&pairs, "iss"), Some(server.config.issuer.as_str()));
        assert!(param(&pairs, "code").is_none());
    }
}

#[tokio::test]
async fn sign_in_answers_a_wrong_password_and_an_unknown_user_alike_and_needs_the_csrf_field() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    let query = request(&server, &[]);
    let page = browser.get(&server, &query).await;
    let csrf = csrf_field(&page.body);

    let attempt = |username: &str, password: &str| {
        format!("{query}&csrf={csrf}&username={username}&password={password}")
    };
    let wrong = browser
        .post(&server, &attempt("demo", "wrong-password"))
        .await;
    let unknown = browser
        .post(&server, &attempt("nobody", "wrong-password"))
        .await;
    assert_eq!((wrong.status, unknown.status), (200, 200));
    assert!(
        wrong
            .body
            .contains("role=\"alert\">The username or password is not right.")
    );
    assert_eq!(
        wrong.body.replace("value=\"demo\"", "value=\"nobody\""),
        unknown.body,
        "the same page"
    );
    assert!(
        wrong.header("set-cookie").is_none() && browser.login.is_none(),
        "no sign-in"
    );

    // Without the CSRF field, or with another value: refused, nothing signed in.
    for body in [
        format!("{query}&username=demo&password={}", enc(&password(&server))),
        format!(
            "{query}&csrf={}&username=demo&password={}",
            "A".repeat(43),
            enc(&password(&server))
        ),
    ] {
        let refused = browser.post(&server, &body).await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("ERR_CSRF_CHECK_FAILED"));
        assert!(browser.login.is_none());
    }
    // A browser without the cookie (a post from another site) is refused too.
    let mut other = Browser::default();
    let refused = other
        .post(&server, &attempt("demo", &enc(&password(&server))))
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_in_windows() {
    let args = ServeArgs::default()
        .with(&table::AUTH_FAILURE_LIMIT, "2")
        .with(&table::AUTH_FAILURE_WINDOW, "60s");
    let server = TestServer::start(args).await;
    let mut browser = Browser::default();
    let query = request(&server, &[]);
    let csrf = csrf_field(&browser.get(&server, &query).await.body);
    let attempt = |password: &str| {
        format!(
            "{query}&csrf={csrf}&username=demo&password={}",
            enc(password)
        )
    };
    for _ in 0..2 {
        assert_eq!(
            browser
                .post(&server, &attempt("wrong-password"))
                .await
                .status,
            200
        );
    }
    let blocked = browser.post(&server, &attempt("wrong-password")).await;
    assert_eq!(blocked.status, 429);
    assert!(blocked.header("retry-after").is_some());
    // Over the limit, the right password is refused the same way, until the window ends.
    let right = browser.post(&server, &attempt(&password(&server))).await;
    assert_eq!(right.status, 429);
    server.clock.advance(61);
    let right = browser.post(&server, &attempt(&password(&server))).await;
    assert!(
        param(&location(&right), "code").is_some(),
        "a window, not a lock"
    );
}

#[tokio::test]
async fn the_token_endpoint_redeems_a_code_once_for_its_client_and_verifier() {
    let partner: &str = THIRD_PARTY;
    let server = TestServer::start(ServeArgs::default().with(&table::CLIENTS, partner)).await;
    let mut browser = Browser::default();

    // A wrong verifier uses the code up.
    let code = sign_in(&server, &mut browser, &request(&server, &[])).await;
    let wrong = exchange(&server, &code, &VERIFIER.replace('d', "e"), DEMO_CLIENT_ID).await;
    assert_eq!(
        (wrong.status, wrong.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(wrong.code(), "ERR_CODE_VERIFIER_INVALID");
    let after = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID).await;
    assert_eq!(after.code(), "ERR_AUTHORIZATION_CODE_REPLAYED");

    // Another client's code, another redirect URI, an unknown client.
    let code = browser.get(&server, &request(&server, &[])).await;
    let code = param(&location(&code), "code").unwrap().to_owned();
    assert_eq!(
        exchange(&server, &code, VERIFIER, "partner").await.code(),
        "ERR_AUTHORIZATION_CODE_WRONG_CLIENT"
    );
    let code = browser.get(&server, &request(&server, &[])).await;
    let code = param(&location(&code), "code").unwrap().to_owned();
    let body = query(&[
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("code", &code),
        (
            "redirect_uri",
            &format!("{}/other", server.config.public_url),
        ),
        ("code_verifier", VERIFIER),
    ]);
    let response = server.request(&format!("POST /oauth2/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len())).await;
    assert_eq!(response.code(), "ERR_REDIRECT_URI_MISMATCH");
    assert_eq!(
        exchange(&server, "jwtc_unknown", VERIFIER, DEMO_CLIENT_ID)
            .await
            .code(),
        "ERR_AUTHORIZATION_CODE_INVALID"
    );
    assert_eq!(
        exchange(&server, "x", VERIFIER, "nobody").await.code(),
        "ERR_CLIENT_UNKNOWN"
    );

    // A code expires after 60 seconds.
    let code = browser.get(&server, &request(&server, &[])).await;
    let code = param(&location(&code), "code").unwrap().to_owned();
    server.clock.advance(61);
    assert_eq!(
        exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID)
            .await
            .code(),
        "ERR_AUTHORIZATION_CODE_INVALID"
    );

    // A replayed code revokes the tokens its first redemption issued.
    let code = browser.get(&server, &request(&server, &[])).await;
    let code = param(&location(&code), "code").unwrap().to_owned();
    let first = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    let access = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&server, &access).await.status, 200);
    let replay = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID).await;
    assert_eq!(
        (replay.status, replay.code().as_str()),
        (400, "ERR_AUTHORIZATION_CODE_REPLAYED")
    );
    let refused = userinfo(&server, &access).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (401, "ERR_JWT_REVOKED")
    );
}

#[tokio::test]
async fn a_third_party_client_asks_for_consent() {
    let other_client = r#"{"client_id": "other", "client_name": "Other App", "redirect_uris": ["https://other.example/cb"], "scopes": ["openid", "email"]}"#;
    let server = TestServer::start(
        ServeArgs::default()
            .with(&table::CLIENTS, THIRD_PARTY)
            .with(&table::CLIENTS, other_client),
    )
    .await;
    let mut browser = Browser::default();
    // Signed in at the provider first, through the demo page.
    sign_in(&server, &mut browser, &request(&server, &[])).await;

    let partner = query(&[
        ("client_id", "partner"),
        ("redirect_uri", "https://partner.example/cb"),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "p"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    // Consent to `openid` alone first: remembered for it, not for the wider `openid email`.
    let narrow = partner.replace("openid+email", "openid");
    assert_ne!(narrow, partner);
    let page = browser.get(&server, &narrow).await;
    let csrf = csrf_field(&page.body);
    let allowed = browser
        .post(&server, &format!("{narrow}&csrf={csrf}&consent=allow"))
        .await;
    assert!(param(&location(&allowed), "code").is_some());
    assert!(param(&location(&browser.get(&server, &narrow).await), "code").is_some());

    let none = browser
        .get(&server, &format!("{partner}&prompt=none"))
        .await;
    assert_eq!(
        param(&location(&none), "error"),
        Some("consent_required"),
        "openid email is more than was consented to"
    );
    let consent = browser.get(&server, &partner).await;
    assert_eq!(consent.status, 200);
    assert!(
        consent.body.contains("Allow Partner App?")
            && consent.body.contains("see your e-mail address"),
        "{}",
        consent.body
    );
    assert!(
        consent
            .header("content-security-policy")
            .unwrap()
            .contains("form-action 'self' https://partner.example")
    );
    let csrf = csrf_field(&consent.body);
    let denied = browser
        .post(&server, &format!("{partner}&csrf={csrf}&consent=deny"))
        .await;
    let pairs = location(&denied);
    assert_eq!(param(&pairs, "error"), Some("access_denied"));
    assert!(
        denied
            .header("location")
            .unwrap()
            .starts_with("https://partner.example/cb?")
    );
    let allowed = browser
        .post(&server, &format!("{partner}&csrf={csrf}&consent=allow"))
        .await;
    assert!(param(&location(&allowed), "code").is_some());
    // Consent is a form like sign-in: without the CSRF field it is refused.
    assert_eq!(
        browser
            .post(&server, &format!("{partner}&consent=allow"))
            .await
            .status,
        403
    );

    // Remembered: the client's next requests get a code without asking (prompt=none too),
    // for what was consented to; prompt=consent asks again.
    let again = browser.get(&server, &partner).await;
    assert!(param(&location(&again), "code").is_some());
    let silent = browser
        .get(&server, &format!("{partner}&prompt=none"))
        .await;
    assert!(param(&location(&silent), "code").is_some());
    let narrower = browser.get(&server, &narrow).await;
    assert!(param(&location(&narrower), "code").is_some());
    let asked = browser
        .get(&server, &format!("{partner}&prompt=consent"))
        .await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Allow Partner App?"));

    // Another client, asking the same scopes of the same person, is asked for.
    let other = partner
        .replace("client_id=partner", "client_id=other")
        .replace("partner.example", "other.example");
    let asked = browser.get(&server, &other).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Allow Other App?"));
}

#[tokio::test]
async fn discovery_describes_the_provider() {
    let server = TestServer::start(ServeArgs::default()).await;
    let metadata = server
        .get("/.well-known/openid-configuration", &[])
        .await
        .json();
    let url = |path: &str| format!("{}{path}", server.config.public_url);
    assert_eq!(metadata["authorization_endpoint"], url("/oauth2/authorize"));
    assert_eq!(metadata["userinfo_endpoint"], url("/oauth2/userinfo"));
    assert_eq!(metadata["end_session_endpoint"], url("/oauth2/logout"));
    assert_eq!(
        metadata["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        metadata["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        metadata["id_token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA"])
    );
    for scope in ["openid", "profile", "email"] {
        assert!(
            metadata["scopes_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == scope)
        );
    }
    assert!(
        metadata["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "none")
    );
    assert!(
        metadata["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "authorization_code")
    );
}

async fn logout(server: &TestServer, browser: &mut Browser, query: &str) -> Response {
    let cookies = browser.cookie_header();
    let response = server
        .get(
            &format!("/oauth2/logout?{query}"),
            &[("cookie", cookies.as_str())],
        )
        .await;
    browser.keep(&response);
    response
}

#[tokio::test]
async fn logout_ends_the_sign_in_and_the_sessions_it_started() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    let page = format!("{}/", server.config.public_url);
    let code = sign_in(&server, &mut browser, &request(&server, &[])).await;
    let tokens = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&server, &access).await.status, 200);

    // Refused on the provider's own page, never redirected: an unregistered URI, a hint
    // that is no ID token of this provider, a client that is not the hint's.
    for (query, code) in [
        (
            query(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ]),
            "ERR_LOGOUT_REDIRECT_URI_NOT_REGISTERED",
        ),
        (
            query(&[
                ("id_token_hint", &access),
                ("post_logout_redirect_uri", &page),
            ]),
            "ERR_LOGOUT_ID_TOKEN_HINT_INVALID",
        ),
        (
            query(&[("id_token_hint", "x.y.z")]),
            "ERR_LOGOUT_ID_TOKEN_HINT_INVALID",
        ),
        (
            query(&[("id_token_hint", &id_token), ("client_id", "other")]),
            "ERR_LOGOUT_CLIENT_MISMATCH",
        ),
        (
            query(&[("post_logout_redirect_uri", &page)]),
            "ERR_LOGOUT_REDIRECT_WITHOUT_CLIENT",
        ),
    ] {
        let refused = logout(&server, &mut browser, &query).await;
        assert_eq!(refused.status, 400, "{query}");
        assert!(refused.header("location").is_none());
        assert!(refused.body.contains(code), "{query}: {}", refused.body);
    }
    assert!(browser.login.is_some(), "still signed in");

    // The hint names this browser's sign-in: signed out at once, sent back with state.
    server.clock.advance(600); // an expired ID token is still a hint
    let query = query(&[
        ("id_token_hint", &id_token),
        ("post_logout_redirect_uri", &page),
        ("state", "bye"),
    ]);
    let out = logout(&server, &mut browser, &query).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.header("location"),
        Some(format!("{page}?state=bye").as_str())
    );
    assert!(browser.login.is_none(), "the cookie is cleared");
    // Its sessions ended: the access token is refused (were it still within its life).
    server.clock.advance(-600);
    let refused = userinfo(&server, &access).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (401, "ERR_JWT_REVOKED")
    );
    // And the sign-in is over: prompt=none answers login_required.
    let mut same_cookie = Browser {
        csrf: browser.csrf.clone(),
        login: None,
    };
    let none = same_cookie
        .get(&server, &request(&server, &[("prompt", "none")]))
        .await;
    assert_eq!(param(&location(&none), "error"), Some("login_required"));
}

#[tokio::test]
async fn signing_in_again_replaces_the_sign_in_and_logout_still_ends_its_sessions() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    let first = sign_in(&server, &mut browser, &request(&server, &[])).await;
    let first = exchange(&server, &first, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    let earlier_cookie = browser.login.clone().unwrap();

    // prompt=login: the form again (which, as every form, carries no prompt), and a new
    // cookie value; the earlier one names nothing.
    server.clock.advance(5);
    let form = browser
        .get(&server, &request(&server, &[("prompt", "login")]))
        .await;
    assert_eq!(form.status, 200, "signed in, asked again");
    let posted = browser
        .post(
            &server,
            &format!(
                "{}&csrf={}&username=demo&password={}",
                request(&server, &[]),
                csrf_field(&form.body),
                enc(&password(&server))
            ),
        )
        .await;
    let again = param(&location(&posted), "code").unwrap().to_owned();
    let again = exchange(&server, &again, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    assert_ne!(
        browser.login.as_ref(),
        Some(&earlier_cookie),
        "a new cookie value"
    );
    let mut stale = Browser {
        csrf: browser.csrf.clone(),
        login: Some(earlier_cookie),
    };
    let none = stale
        .get(&server, &request(&server, &[("prompt", "none")]))
        .await;
    assert_eq!(param(&location(&none), "error"), Some("login_required"));

    // Logout with the newer ID token ends the sessions of both sign-ins (one sign-in, signed
    // in twice): the first session's access token is refused too.
    let id_token = again["id_token"].as_str().unwrap();
    let out = logout(
        &server,
        &mut browser,
        &query(&[("id_token_hint", id_token)]),
    )
    .await;
    assert!(out.status == 200 || out.status == 303, "{}", out.body);
    for tokens in [&first, &again] {
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&server, access).await.code(), "ERR_JWT_REVOKED");
    }
}

#[tokio::test]
async fn the_sign_in_at_the_provider_lasts_login_ttl() {
    let server = TestServer::start(ServeArgs::default().with(&table::LOGIN_TTL, "1h")).await;
    let mut browser = Browser::default();
    let page = browser.get(&server, &request(&server, &[])).await;
    let posted = browser
        .post(
            &server,
            &format!(
                "{}&csrf={}&username=demo&password={}",
                request(&server, &[]),
                csrf_field(&page.body),
                enc(&password(&server))
            ),
        )
        .await;
    let cookie = posted.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("__Host-jwtkit-login=") && cookie.contains("Max-Age=3600"),
        "{cookie}"
    );
    let silent = request(&server, &[("prompt", "none")]);
    server.clock.advance(3599);
    assert!(param(&location(&browser.get(&server, &silent).await), "code").is_some());
    server.clock.advance(2);
    assert_eq!(
        param(&location(&browser.get(&server, &silent).await), "error"),
        Some("login_required")
    );
}

#[tokio::test]
async fn logout_without_a_hint_asks_the_person_to_confirm() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut browser = Browser::default();
    sign_in(&server, &mut browser, &request(&server, &[])).await;
    let stolen_login = browser.login.clone();

    let confirm = logout(
        &server,
        &mut browser,
        &query(&[("client_id", DEMO_CLIENT_ID)]),
    )
    .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Sign out?") && confirm.body.contains("<strong>demo</strong>"),
        "{}",
        confirm.body
    );
    assert!(browser.login.is_some(), "not signed out by a mere link");
    let csrf = csrf_field(&confirm.body);
    let post = |body: String, browser: &Browser| {
        let cookies = browser.cookie_header();
        let server = &server;
        async move {
            server
                .request(&format!(
                    "POST /oauth2/logout HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: {cookies}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                ))
                .await
        }
    };
    let forged = post(format!("client_id={DEMO_CLIENT_ID}&logout=yes"), &browser).await;
    assert_eq!(forged.status, 403, "no CSRF field");
    let out = post(
        format!("client_id={DEMO_CLIENT_ID}&csrf={csrf}&logout=yes"),
        &browser,
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("You are signed out"));
    assert!(
        out.set_cookies
            .iter()
            .any(|set| set.starts_with("__Host-jwtkit-login=;"))
    );
    // The old cookie names no sign-in any more.
    let old = Browser {
        csrf: browser.csrf.clone(),
        login: stolen_login,
    };
    let mut old = old;
    let page = old.get(&server, &request(&server, &[])).await;
    assert_eq!(page.status, 200, "the sign-in form again");
}

async fn refresh(server: &TestServer, refresh_token: &str, client_id: &str) -> Response {
    let body = query(&[
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", refresh_token),
    ]);
    server
        .request(&format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
}

#[tokio::test]
async fn a_persons_refresh_token_rotates_with_reuse_detection_for_its_client_only() {
    let server = TestServer::start(ServeArgs::default().with(&table::CLIENTS, THIRD_PARTY)).await;
    let mut browser = Browser::default();
    let code = sign_in(&server, &mut browser, &request(&server, &[])).await;
    let tokens = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(first.starts_with("jwtr_"));

    // Rotated: a new access token (the person's, the scope), a new refresh token.
    let refreshed = refresh(&server, &first, DEMO_CLIENT_ID).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
    let refreshed = refreshed.json();
    let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(refreshed["scope"], "openid profile email");
    let access = refreshed["access_token"].as_str().unwrap().to_owned();
    let info = userinfo(&server, &access).await.json();
    assert_eq!(info["preferred_username"], "demo");

    // Not at the cookie endpoint, not by another client, not with an API key's credentials.
    let elsewhere = server
        .post_json(
            "/api/v3/auth/refresh",
            &format!(r#"{{"refresh_token":"{second}"}}"#),
        )
        .await;
    assert_eq!(elsewhere.status, 401, "{}", elsewhere.body);
    // That ended the session (a refresh token where it does not belong was stolen).
    assert_eq!(
        refresh(&server, &second, DEMO_CLIENT_ID).await.code(),
        "ERR_REFRESH_TOKEN_REVOKED"
    );

    let code = browser.get(&server, &request(&server, &[])).await;
    let code = param(&location(&code), "code").unwrap().to_owned();
    let tokens = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    let token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let other = refresh(&server, &token, "partner").await;
    assert_eq!(
        (other.status, other.code().as_str()),
        (400, "ERR_REFRESH_TOKEN_WRONG_CLIENT")
    );
    let unknown = refresh(&server, &token, "nobody").await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (400, "ERR_CLIENT_UNKNOWN")
    );

    // Reuse: the rotated-away token again ends the whole session, its access tokens too.
    let code = browser.get(&server, &request(&server, &[])).await;
    let code = param(&location(&code), "code").unwrap().to_owned();
    let tokens = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID)
        .await
        .json();
    let old = tokens["refresh_token"].as_str().unwrap().to_owned();
    let new = refresh(&server, &old, DEMO_CLIENT_ID).await.json();
    let access = new["access_token"].as_str().unwrap().to_owned();
    server.clock.advance(11); // past the grace window
    let reused = refresh(&server, &old, DEMO_CLIENT_ID).await;
    assert_eq!(reused.code(), "ERR_REFRESH_TOKEN_REUSED");
    assert_eq!(userinfo(&server, &access).await.code(), "ERR_JWT_REVOKED");
    let current = refresh(
        &server,
        new["refresh_token"].as_str().unwrap(),
        DEMO_CLIENT_ID,
    )
    .await;
    assert_eq!(
        current.code(),
        "ERR_REFRESH_TOKEN_REVOKED",
        "the whole session ended"
    );
}
