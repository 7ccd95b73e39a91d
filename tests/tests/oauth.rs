//! The OAuth 2.0 side of a live server: the token endpoint's grants and every RFC 6749 §5.2
//! refusal (status, body and headers), RFC 7662 introspection, RFC 7009 revocation with
//! client credentials, and the RFC 8414 metadata.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jwtkit_e2e::http::Response;
use jwtkit_e2e::server::TestServer;
use jwtkit_server::config::{ServeArgs, table};
use serde_json::{Value, json};

const FORM: &str = "application/x-www-form-urlencoded";

async fn server() -> TestServer {
    TestServer::start(ServeArgs::default()).await
}

/// `POST path` with a body of `content_type` and these extra headers.
async fn post(
    server: &TestServer,
    path: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    server.request(&raw).await
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A client-credentials grant for the development key `name` with HTTP Basic.
async fn client_credentials(server: &TestServer, name: &str, extra: &str) -> Response {
    let auth = basic(name, &server.dev_key(name));
    let body = format!("grant_type=client_credentials{extra}");
    post(
        server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &auth)],
        &body,
    )
    .await
}

/// A session of the development key `name`, started at `/api/v3/auth`: its access and
/// refresh tokens.
async fn auth_session(server: &TestServer, name: &str) -> (String, String) {
    let response = server
        .post_json(
            "/api/v3/auth",
            &format!(r#"{{"api-key":"{}"}}"#, server.dev_key(name)),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let data = &response.json()["data"];
    (
        data["token"].as_str().unwrap().to_owned(),
        data["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// Asserts an RFC 6749 §5.2 refusal: status, `error`, jwtkit's `code`, a description, never
/// cached; `invalid_client` with the Basic challenge.
fn assert_refusal(response: &Response, status: u16, error: &str, code: &str) {
    let body = response.json();
    assert_eq!(
        (
            response.status,
            body["error"].as_str(),
            body["code"].as_str()
        ),
        (status, Some(error), Some(code)),
        "{}",
        response.body
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("pragma"), Some("no-cache"));
    assert_eq!(
        response.header("www-authenticate"),
        (error == "invalid_client").then_some(r#"Basic realm="jwtkit""#),
        "{code}"
    );
}

#[tokio::test]
async fn client_credentials_grant_an_rfc_9068_token_with_its_scope() {
    let server = server().await;
    let response = client_credentials(&server, "dev-admin", "").await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("pragma"), Some("no-cache"));
    let body = response.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 180);
    assert_eq!(body["scope"], "user admin");
    assert_eq!(
        body.get("refresh_token"),
        None,
        "no refresh token for client credentials (RFC 6749 §4.4.3)"
    );
    let token = body["access_token"].as_str().unwrap();
    let bearer = format!("Bearer {token}");
    let admin = server
        .get("/api/v3/admin", &[("Authorization", &bearer)])
        .await;
    assert_eq!(admin.status, 200, "{}", admin.body);
    // Nor a session: the client asks for a new token; this one ends by revocation.
    let logout = server
        .request(&format!(
            "POST /api/v3/auth/logout HTTP/1.1\r\nHost: test\r\nConnection: close\r\nAuthorization: {bearer}\r\nContent-Length: 0\r\n\r\n"
        ))
        .await;
    assert_eq!(
        (logout.status, logout.code().as_str()),
        (400, "ERR_TOKEN_HAS_NO_SESSION")
    );

    // A narrower scope: the token carries only it, as `scope` and `roles`.
    let narrow = client_credentials(&server, "dev-admin", "&scope=user").await;
    assert_eq!(narrow.json()["scope"], "user");
    let bearer = format!("Bearer {}", narrow.json()["access_token"].as_str().unwrap());
    let admin = server
        .get("/api/v3/admin", &[("Authorization", &bearer)])
        .await;
    assert_eq!(
        (admin.status, admin.code().as_str()),
        (403, "ERR_INSUFFICIENT_SCOPE")
    );

    // client_secret_post, the secret percent-encoded like any form value.
    let key = server.dev_key("dev");
    let body = format!("grant_type=client_credentials&client_id=dev&client_secret={key}");
    let post_auth = post(&server, "/oauth2/token", FORM, &[], &body).await;
    assert_eq!(post_auth.status, 200, "{}", post_auth.body);
    assert_eq!(post_auth.json()["scope"], "user");
}

#[tokio::test]
async fn refresh_token_grant_rotates_with_reuse_detection() {
    let server = server().await;
    // A session started at /api/v3/auth refreshes here too, with its key's authentication.
    let (_, refresh) = auth_session(&server, "dev").await;
    let auth = basic("dev", &server.dev_key("dev"));
    let body = format!("grant_type=refresh_token&refresh_token={refresh}");
    let second = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &auth)],
        &body,
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let next = second.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(next, refresh);

    // A scope beyond the session's is refused.
    let wider = format!("grant_type=refresh_token&refresh_token={next}&scope=admin");
    let response = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &auth)],
        &wider,
    )
    .await;
    assert_refusal(&response, 400, "invalid_scope", "ERR_INVALID_SCOPE");

    // The first token again, after the grace window: reuse, and the session ends.
    server.clock.advance(60);
    let reused = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &auth)],
        &body,
    )
    .await;
    assert_refusal(&reused, 400, "invalid_grant", "ERR_REFRESH_TOKEN_REUSED");
    let after = format!("grant_type=refresh_token&refresh_token={next}");
    let ended = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &auth)],
        &after,
    )
    .await;
    assert_refusal(&ended, 400, "invalid_grant", "ERR_REFRESH_TOKEN_REVOKED");
}

#[tokio::test]
async fn a_refresh_token_presented_by_another_client_ends_its_session() {
    let server = server().await;
    let (_, stolen) = auth_session(&server, "dev").await;
    let thief = basic("dev-admin", &server.dev_key("dev-admin"));
    let body = format!("grant_type=refresh_token&refresh_token={stolen}");
    let response = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &thief)],
        &body,
    )
    .await;
    assert_refusal(
        &response,
        400,
        "invalid_grant",
        "ERR_REFRESH_TOKEN_WRONG_CLIENT",
    );
    let owner = basic("dev", &server.dev_key("dev"));
    server.clock.advance(60);
    let response = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &owner)],
        &body,
    )
    .await;
    assert_refusal(&response, 400, "invalid_grant", "ERR_REFRESH_TOKEN_REVOKED");
}

#[tokio::test]
async fn every_token_endpoint_refusal_is_rfc_6749s() {
    let server = server().await;
    let key = server.dev_key("dev");
    let good = basic("dev", &key);
    // What, the content type, the headers, the body, and the status, error and code.
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, String)>,
        String,
        u16,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "no client credentials",
            FORM,
            vec![],
            "grant_type=client_credentials".into(),
            401,
            "invalid_client",
            "ERR_CLIENT_AUTHENTICATION_FAILED",
        ),
        (
            "a wrong secret",
            FORM,
            vec![("Authorization", basic("dev", "jwtk_wrong"))],
            "grant_type=client_credentials".into(),
            401,
            "invalid_client",
            "ERR_CLIENT_AUTHENTICATION_FAILED",
        ),
        (
            "another client's secret",
            FORM,
            vec![("Authorization", basic("dev-admin", &key))],
            "grant_type=client_credentials".into(),
            401,
            "invalid_client",
            "ERR_CLIENT_AUTHENTICATION_FAILED",
        ),
        (
            "a wrong secret in the body",
            FORM,
            vec![],
            "grant_type=client_credentials&client_id=dev&client_secret=jwtk_wrong".into(),
            401,
            "invalid_client",
            "ERR_CLIENT_AUTHENTICATION_FAILED",
        ),
        (
            "a Bearer token instead of client credentials",
            FORM,
            vec![("Authorization", "Bearer abc".into())],
            "grant_type=client_credentials".into(),
            401,
            "invalid_client",
            "ERR_CLIENT_AUTHENTICATION_FAILED",
        ),
        (
            "two authentication methods",
            FORM,
            vec![("Authorization", good.clone())],
            format!("grant_type=client_credentials&client_id=dev&client_secret={key}"),
            400,
            "invalid_request",
            "ERR_CLIENT_AUTHENTICATION_AMBIGUOUS",
        ),
        (
            "no grant_type",
            FORM,
            vec![("Authorization", good.clone())],
            "scope=user".into(),
            400,
            "invalid_request",
            "ERR_INVALID_REQUEST_BODY",
        ),
        (
            "an unknown grant_type",
            FORM,
            vec![("Authorization", good.clone())],
            "grant_type=password&username=a&password=b".into(),
            400,
            "unsupported_grant_type",
            "ERR_UNSUPPORTED_GRANT_TYPE",
        ),
        (
            "a scope the client does not have",
            FORM,
            vec![("Authorization", good.clone())],
            "grant_type=client_credentials&scope=user+admin".into(),
            400,
            "invalid_scope",
            "ERR_INVALID_SCOPE",
        ),
        (
            "a malformed scope",
            FORM,
            vec![("Authorization", good.clone())],
            "grant_type=client_credentials&scope=%22user%22".into(),
            400,
            "invalid_scope",
            "ERR_INVALID_SCOPE",
        ),
        (
            "a refresh grant without the token",
            FORM,
            vec![("Authorization", good.clone())],
            "grant_type=refresh_token".into(),
            400,
            "invalid_request",
            "ERR_INVALID_REQUEST_BODY",
        ),
        (
            "an unknown refresh token",
            FORM,
            vec![("Authorization", good.clone())],
            format!(
                "grant_type=refresh_token&refresh_token=jwtr_{}",
                "A".repeat(43)
            ),
            400,
            "invalid_grant",
            "ERR_REFRESH_TOKEN_INVALID",
        ),
        (
            "a parameter twice",
            FORM,
            vec![("Authorization", good.clone())],
            "grant_type=client_credentials&grant_type=client_credentials".into(),
            400,
            "invalid_request",
            "ERR_INVALID_REQUEST_BODY",
        ),
        (
            "JSON instead of a form",
            "application/json",
            vec![("Authorization", good.clone())],
            r#"{"grant_type":"client_credentials"}"#.into(),
            400,
            "invalid_request",
            "ERR_INVALID_REQUEST_BODY",
        ),
        (
            "a broken escape",
            FORM,
            vec![("Authorization", good.clone())],
            "grant_type=client_credentials%zz".into(),
            400,
            "invalid_request",
            "ERR_INVALID_REQUEST_BODY",
        ),
    ];
    for (what, content_type, headers, body, status, error, code) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = post(&server, "/oauth2/token", content_type, &headers, &body).await;
        println!("{what}: {} {}", response.status, response.body);
        assert_refusal(&response, status, error, code);
        for secret in [key.as_str(), "jwtk_wrong"] {
            assert!(!response.body.contains(secret), "{what}: a secret echoed");
        }
    }
    let get = server.get("/oauth2/token", &[]).await;
    assert_eq!(
        (get.status, get.code().as_str()),
        (405, "ERR_METHOD_NOT_ALLOWED")
    );
}

#[tokio::test]
async fn failed_client_authentications_are_limited_per_address() {
    let server =
        TestServer::start(ServeArgs::default().with(&table::AUTH_FAILURE_LIMIT, "2")).await;
    let wrong = basic("dev", "jwtk_wrong");
    for _ in 0..2 {
        let response = post(
            &server,
            "/oauth2/token",
            FORM,
            &[("Authorization", &wrong)],
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(response.status, 401);
    }
    let blocked = client_credentials(&server, "dev", "").await;
    assert_eq!(
        (blocked.status, blocked.code().as_str()),
        (429, "ERR_TOO_MANY_FAILED_ATTEMPTS")
    );
    assert!(blocked.header("retry-after").is_some());
}

/// `POST /oauth2/introspect` of `token` with `authorization`.
async fn introspect(server: &TestServer, token: &str, authorization: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let body = format!("token={token}&token_type_hint=access_token");
    post(server, "/oauth2/introspect", FORM, &headers, &body).await
}

fn assert_inactive(response: &Response) {
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json(), json!({"active": false}));
}

#[tokio::test]
async fn introspection_answers_authenticated_clients_only() {
    let server = server().await;
    let auth = basic("dev-admin", &server.dev_key("dev-admin"));
    let granted = client_credentials(&server, "dev-admin", "").await.json();
    let token = granted["access_token"].as_str().unwrap();
    let active = introspect(&server, token, Some(&auth)).await;
    assert_eq!(active.status, 200, "{}", active.body);
    assert_eq!(active.header("cache-control"), Some("no-store"));
    let body = active.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "user admin");
    assert_eq!(body["client_id"], "dev-admin");
    assert_eq!(body["sub"], "dev-admin");
    assert_eq!(body["iss"], json!(server.config.issuer));
    assert_eq!(body["exp"], json!(server.clock.now_secs() + 180));

    // A forged token, a refresh token, an expired token, a revoked token.
    assert_inactive(&introspect(&server, &format!("{token}x"), Some(&auth)).await);
    let (_, refresh) = auth_session(&server, "dev-admin").await;
    assert_inactive(&introspect(&server, &refresh, Some(&auth)).await);
    let revoke = post(
        &server,
        "/api/v3/auth/revoke",
        FORM,
        &[],
        &format!("token={token}"),
    )
    .await;
    assert_eq!(revoke.status, 200);
    assert_inactive(&introspect(&server, token, Some(&auth)).await);
    let other = client_credentials(&server, "dev-admin", "").await.json();
    server.clock.advance(181);
    assert_inactive(
        &introspect(
            &server,
            other["access_token"].as_str().unwrap(),
            Some(&auth),
        )
        .await,
    );

    let anonymous = introspect(&server, token, None).await;
    assert_refusal(
        &anonymous,
        401,
        "invalid_client",
        "ERR_CLIENT_AUTHENTICATION_FAILED",
    );
    let no_token = post(
        &server,
        "/oauth2/introspect",
        FORM,
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_refusal(
        &no_token,
        400,
        "invalid_request",
        "ERR_INVALID_REQUEST_BODY",
    );
}

#[tokio::test]
async fn a_client_introspects_only_its_own_tokens_unless_it_may_introspect_any() {
    // RFC 7662 §4: a client must not learn about another client's tokens; a resource
    // server's credentials (the role `introspect`) may.
    let key = |name: &str, roles: &str| {
        let plaintext = format!("jwtk_{name}_{}", "k".repeat(40));
        let entry = jwtkit_server::apikeys::ApiKey::from_plaintext(
            name,
            &plaintext,
            roles.split(',').map(str::to_owned).collect(),
        )
        .unwrap()
        .entry();
        (plaintext, entry)
    };
    let (app, app_entry) = key("app", "user");
    let (other, other_entry) = key("other", "user");
    let (rs, rs_entry) = key("rs", "introspect");
    let server = TestServer::start(
        ServeArgs::default()
            .with(
                &table::SECRET,
                "Jx7_qL2vR9mZ0tWc4Ks8Pn1YbH6dFg3eUaQoTiVrXw5",
            )
            .with(&table::API_KEYS, app_entry)
            .with(&table::API_KEYS, other_entry)
            .with(&table::API_KEYS, rs_entry),
    )
    .await;
    let token = {
        let response = post(
            &server,
            "/oauth2/token",
            FORM,
            &[("Authorization", &basic("app", &app))],
            "grant_type=client_credentials",
        )
        .await;
        response.json()["access_token"].as_str().unwrap().to_owned()
    };
    let own = introspect(&server, &token, Some(&basic("app", &app))).await;
    assert_eq!(own.json()["active"], true, "{}", own.body);
    assert_inactive(&introspect(&server, &token, Some(&basic("other", &other))).await);
    let resource_server = introspect(&server, &token, Some(&basic("rs", &rs))).await;
    assert_eq!(
        (
            resource_server.json()["active"].clone(),
            resource_server.json()["client_id"].clone()
        ),
        (json!(true), json!("app")),
        "{}",
        resource_server.body
    );
}

#[tokio::test]
async fn revocation_takes_client_credentials_but_refuses_wrong_ones() {
    let server = server().await;
    let (_, refresh) = auth_session(&server, "dev").await;
    let wrong = basic("dev", "jwtk_wrong");
    let body = format!("token={refresh}");
    let refused = post(
        &server,
        "/api/v3/auth/revoke",
        FORM,
        &[("Authorization", &wrong)],
        &body,
    )
    .await;
    assert_refusal(
        &refused,
        401,
        "invalid_client",
        "ERR_CLIENT_AUTHENTICATION_FAILED",
    );
    let auth = basic("dev", &server.dev_key("dev"));
    let revoked = post(
        &server,
        "/api/v3/auth/revoke",
        FORM,
        &[("Authorization", &auth)],
        &body,
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let again = format!("grant_type=refresh_token&refresh_token={refresh}");
    let ended = post(
        &server,
        "/oauth2/token",
        FORM,
        &[("Authorization", &auth)],
        &again,
    )
    .await;
    assert_refusal(&ended, 400, "invalid_grant", "ERR_REFRESH_TOKEN_REVOKED");
    let json = post(
        &server,
        "/api/v3/auth/revoke",
        "application/json",
        &[],
        "{}",
    )
    .await;
    assert_refusal(&json, 400, "invalid_request", "ERR_INVALID_REQUEST_BODY");
}

#[tokio::test]
async fn the_metadata_names_this_servers_endpoints() {
    let server = server().await;
    let base = format!("http://{}", server.addr);
    assert_eq!(server.config.issuer, base, "the issuer follows the address");
    let oauth = server
        .get("/.well-known/oauth-authorization-server", &[])
        .await;
    let oidc = server.get("/.well-known/openid-configuration", &[]).await;
    assert_eq!(oauth.status, 200);
    assert_eq!(oauth.header("content-type"), Some("application/json"));
    assert_eq!(oauth.body, oidc.body);
    let metadata = oauth.json();
    assert_eq!(metadata["issuer"], json!(base));
    for (member, path) in [
        ("token_endpoint", "/oauth2/token"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("revocation_endpoint", "/api/v3/auth/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
    ] {
        assert_eq!(metadata[member], json!(format!("{base}{path}")), "{member}");
    }
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"]),
        "none: public clients, for the authorization code"
    );
    assert_eq!(
        metadata["scopes_supported"],
        json!(["admin", "email", "openid", "profile", "user"])
    );
    assert_eq!(
        metadata["access_token_signing_alg_values_supported"],
        json!(["EdDSA"])
    );

    // Behind a proxy: the configured public URL and issuer.
    let proxied = TestServer::start(
        ServeArgs::default()
            .with(&table::PUBLIC_URL, "https://auth.example/base/")
            .with(&table::ISSUER, "https://auth.example/base"),
    )
    .await;
    let metadata: Value = proxied
        .get("/.well-known/oauth-authorization-server", &[])
        .await
        .json();
    assert_eq!(metadata["issuer"], "https://auth.example/base");
    assert_eq!(
        metadata["token_endpoint"],
        "https://auth.example/base/oauth2/token"
    );
    for bad in [
        "auth.example",
        "ftp://auth.example",
        "https://u:p@auth.example",
        "https://auth.example/?q",
    ] {
        let error = ServeArgs::default()
            .with(&table::PUBLIC_URL, bad)
            .resolve()
            .unwrap_err();
        assert_eq!(error.setting.name, "public_url", "{bad}");
    }
}
