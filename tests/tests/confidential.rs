//! Confidential OpenID clients on a live server: a client registered with the hash of its
//! `client_secret` redeems its codes and refreshes its sessions only when it authenticates
//! (`client_secret_basic` or `client_secret_post`), and each refusal says why — a missing or
//! wrong secret, a secret sent by a public client, an API key's credentials offered for a
//! person's code. A failed authentication leaves the code unspent for its client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwtkit_e2e::http::Response;
use jwtkit_e2e::server::TestServer;
use jwtkit_e2e::signin::{Browser, VERIFIER, exchange, request, sign_in, token, userinfo};
use jwtkit_server::apikeys::hash_api_key;
use jwtkit_server::config::{DEMO_CLIENT_ID, ServeArgs, table};

const SECRET: &str = "jwtcs_backend-secret-for-the-tests-only-0123456789";
const REDIRECT: &str = "https://backend.example/cb";

fn registration() -> String {
    format!(
        r#"{{"client_id": "backend", "redirect_uris": ["{REDIRECT}"], "first_party": true, "client_secret_hash": "{}"}}"#,
        hash_api_key(SECRET)
    )
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// The backend's code for the person signed in at `browser`.
async fn backend_code(server: &TestServer, browser: &mut Browser) -> String {
    let query = request(
        server,
        &[("client_id", "backend"), ("redirect_uri", REDIRECT)],
    );
    sign_in(server, browser, &query).await
}

async fn redeem(
    server: &TestServer,
    code: &str,
    authorization: Option<&str>,
    extra: &[(&str, &str)],
) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    form.extend_from_slice(extra);
    token(server, &form, authorization).await
}

fn refused(response: &Response) -> (u16, String) {
    (response.status, response.code())
}

#[tokio::test]
async fn a_confidential_client_authenticates_for_its_codes_and_refresh_tokens() {
    let server =
        TestServer::start(ServeArgs::default().with(&table::CLIENTS, registration())).await;
    let metadata = server
        .get("/.well-known/openid-configuration", &[])
        .await
        .json();
    let methods = metadata["token_endpoint_auth_methods_supported"].to_string();
    for method in ["none", "client_secret_basic", "client_secret_post"] {
        assert!(methods.contains(method), "{methods}");
    }
    let mut browser = Browser::default();
    let code = backend_code(&server, &mut browser).await;
    let failed = (401, "ERR_CLIENT_AUTHENTICATION_FAILED".to_owned());

    // No secret, a wrong one (either way), a truncated one: refused, the code kept.
    let none = redeem(&server, &code, None, &[("client_id", "backend")]).await;
    assert_eq!(refused(&none), failed, "{}", none.body);
    let wrong = redeem(&server, &code, Some(&basic("backend", "jwtcs_wrong")), &[]).await;
    assert_eq!(refused(&wrong), failed);
    let short = &SECRET[..SECRET.len() - 1];
    let posted = redeem(
        &server,
        &code,
        None,
        &[("client_id", "backend"), ("client_secret", short)],
    )
    .await;
    assert_eq!(refused(&posted), failed);
    // Both methods at once are refused as ambiguous.
    let both = redeem(
        &server,
        &code,
        Some(&basic("backend", SECRET)),
        &[("client_secret", SECRET)],
    )
    .await;
    assert_eq!(both.code(), "ERR_CLIENT_AUTHENTICATION_AMBIGUOUS");

    // With the secret (HTTP Basic): the tokens, the ID token for the backend.
    let tokens = redeem(&server, &code, Some(&basic("backend", SECRET)), &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(id_token.split('.').nth(1).unwrap())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["aud"], "backend");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&server, access).await.status, 200);

    // Its refresh token: only with the secret (here in the form).
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refresh = |authorization: Option<String>, extra: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ];
            form.extend(extra.iter().map(|(n, v)| (*n, v.as_str())));
            token(server, &form, authorization.as_deref()).await
        }
    };
    let anonymous = refresh(None, vec![("client_id", "backend".into())]).await;
    assert_eq!(refused(&anonymous), failed);
    let nobody = refresh(None, vec![]).await;
    assert_eq!(refused(&nobody), failed, "no client at all");
    let rotated = refresh(
        None,
        vec![
            ("client_id", "backend".into()),
            ("client_secret", SECRET.into()),
        ],
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_ne!(rotated.json()["refresh_token"], refresh_token);
}

#[tokio::test]
async fn secrets_are_refused_where_they_cannot_belong() {
    let server =
        TestServer::start(ServeArgs::default().with(&table::CLIENTS, registration())).await;
    let mut browser = Browser::default();
    let failed = (401, "ERR_CLIENT_AUTHENTICATION_FAILED".to_owned());

    // The demo page is a public client: a secret with its client_id cannot match.
    let code = sign_in(&server, &mut browser, &request(&server, &[])).await;
    let demo = format!("{}/", server.config.public_url);
    let with_secret = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &demo),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic(DEMO_CLIENT_ID, SECRET)),
    )
    .await;
    assert_eq!(refused(&with_secret), failed);
    // An API key is no OpenID client: its credentials do not redeem a person's code.
    let key = server.dev_key("dev-admin");
    let api_key = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &demo),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic("dev-admin", &key)),
    )
    .await;
    assert_eq!(refused(&api_key), failed);
    // The code was not spent by those: its public client redeems it.
    let redeemed = exchange(&server, &code, VERIFIER, DEMO_CLIENT_ID).await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.body);

    // The backend's code cannot be redeemed by the demo page's client_id without a secret.
    let backend_code = backend_code(&server, &mut Browser::default()).await;
    let stolen = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEMO_CLIENT_ID),
            ("code", &backend_code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(stolen.code(), "ERR_AUTHORIZATION_CODE_WRONG_CLIENT");
    // An unknown client_id without credentials.
    let unknown = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "nobody"),
            ("code", "x"),
        ],
        None,
    )
    .await;
    assert_eq!(refused(&unknown), (400, "ERR_CLIENT_UNKNOWN".to_owned()));
}
