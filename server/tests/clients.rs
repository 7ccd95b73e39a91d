//! Standard OAuth 2.0 clients against a real `jwtkit serve`: the Rust `oauth2` crate, and
//! Python's Authlib (`tests/clients/authlib_client.py`, run with the interpreter that
//! `cargo xtask test` prepares), also as an OpenID relying party signing a person in
//! (`tests/clients/authlib_oidc.py`). The Node.js one (oauth4webapi) is in `tests/e2e`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, ClientId, ClientSecret, IntrospectionUrl, RequestTokenError, RevocationUrl, Scope,
    StandardRevocableToken, TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use support::{Jwtkit, Scratch};

/// `jwtkit serve` in the development setup, its store in a directory of the test's own.
fn start(dir: &Scratch) -> Jwtkit {
    let store = format!("sqlite:{}", dir.path().join("jwtkit.sqlite3").display());
    Jwtkit::start(&["--store", &store])
}

fn dev_key(server: &Jwtkit, name: &str) -> String {
    server.started["development"]["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == name)
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The `oauth2` crate's HTTP, through reqwest.
async fn send(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::new();
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut answer = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    Ok(answer.body(response.bytes().await?.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rust_oauth2_crate() {
    let dir = Scratch::new("oauth2-crate");
    let server = start(&dir);
    let url = server.started["url"].as_str().unwrap().to_owned();
    let secret = dev_key(&server, "dev-admin");
    let client = BasicClient::new(ClientId::new("dev-admin".into()))
        .set_client_secret(ClientSecret::new(secret))
        .set_token_uri(TokenUrl::new(format!("{url}/oauth2/token")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(format!("{url}/oauth2/introspect")).unwrap())
        .set_revocation_url(RevocationUrl::new(format!("{url}/api/v3/auth/revoke")).unwrap());
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("admin".into()))
        .request_async(&send)
        .await
        .unwrap();
    assert_eq!(
        token
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["admin".to_owned()])
    );
    assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(180));
    assert!(
        token.refresh_token().is_none(),
        "no refresh token for client credentials (RFC 6749 §4.4.3)"
    );
    let (status, _) = server.get("/api/v3/admin", Some(token.access_token().secret()));
    assert_eq!(status, 200);

    // A session the key started at /api/v3/auth refreshes at the token endpoint too, with
    // the key's client authentication.
    let (status, started) = server.post_json(
        "/api/v3/auth",
        &serde_json::json!({"api-key": dev_key(&server, "dev-admin")}),
    );
    assert_eq!(status, 200);
    let refresh = oauth2::RefreshToken::new(
        started["data"]["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .request_async(&send)
        .await
        .unwrap();
    let introspected = client
        .introspect(refreshed.access_token())
        .request_async(&send)
        .await
        .unwrap();
    assert!(introspected.active());
    assert_eq!(
        introspected.client_id().map(|c| c.as_str()),
        Some("dev-admin")
    );

    // The crate revokes only over TLS (RFC 7009 §2), which a loopback test server has not:
    // Authlib and oauth4webapi revoke against it instead.
    assert!(matches!(
        client.revoke_token(StandardRevocableToken::AccessToken(
            refreshed.access_token().clone()
        )),
        Err(oauth2::ConfigurationError::InsecureUrl(_))
    ));

    // client_secret_post, and a wrong secret.
    let post = client.clone().set_auth_type(AuthType::RequestBody);
    assert!(
        post.exchange_client_credentials()
            .request_async(&send)
            .await
            .is_ok()
    );
    let wrong = client.set_client_secret(ClientSecret::new("jwtk_wrong".into()));
    match wrong
        .exchange_client_credentials()
        .request_async(&send)
        .await
    {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(*error.error(), BasicErrorResponseType::InvalidClient);
        }
        other => panic!("a wrong secret: {other:?}"),
    }
}

/// The interpreter with Authlib: `JWTKIT_PYTHON`, else the one `cargo xtask test` prepares.
fn python() -> PathBuf {
    let path = std::env::var_os("JWTKIT_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/tools/py/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "no Python with Authlib at {}: run `cargo xtask test`, which installs \
         tests/clients/requirements.txt into target/tools/py (or set JWTKIT_PYTHON)",
        path.display()
    );
    path
}

#[test]
fn pythons_authlib() {
    let dir = Scratch::new("authlib");
    let server = start(&dir);
    let url = server.started["url"].as_str().unwrap().to_owned();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/clients/authlib_client.py");
    let run = std::process::Command::new(python())
        .arg(script)
        .args([url.as_str(), "dev-admin", &dev_key(&server, "dev-admin")])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// `tests/clients/authlib_oidc.py` against `url`: a person signs in to `client` (its
/// `client_id`, redirect URI and, for a confidential one, its secret).
fn authlib_signs_in(url: &str, client: &[&str], user: &serde_json::Value) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/clients/authlib_oidc.py");
    let (client_id, redirect_uri, secret) = match client {
        [id, uri] => (*id, *uri, None),
        [id, uri, secret] => (*id, *uri, Some(*secret)),
        _ => panic!("a client is an id, a redirect URI and perhaps a secret"),
    };
    let run = std::process::Command::new(python())
        .arg(script)
        .args([
            url,
            client_id,
            redirect_uri,
            user["username"].as_str().unwrap(),
            user["password"].as_str().unwrap(),
        ])
        .args(secret)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "authlib oidc: ok"
    );
}

#[test]
fn pythons_authlib_signs_a_person_in() {
    let dir = Scratch::new("authlib-oidc");
    let server = start(&dir);
    let url = server.started["url"].as_str().unwrap();
    let development = &server.started["development"];
    let client = &development["client"];
    authlib_signs_in(
        url,
        &[
            client["client_id"].as_str().unwrap(),
            client["redirect_uri"].as_str().unwrap(),
        ],
        &development["user"],
    );
}

/// A confidential client registered with `jwtkit clients add --confidential` in the store a
/// server uses: Authlib signs a person in with the secret (`client_secret_basic`).
#[test]
fn pythons_authlib_as_a_confidential_client_of_the_store() {
    let dir = Scratch::new("authlib-confidential");
    let store = format!("sqlite:{}", dir.path().join("jwtkit.sqlite3").display());
    let registration = r#"{"client_id": "backend", "redirect_uris": ["https://backend.example/cb"], "first_party": true}"#;
    let add = support::jwtkit(
        &[
            "clients",
            "add",
            "--confidential",
            "--json",
            registration,
            "--store",
            &store,
        ],
        None,
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    let made: serde_json::Value = serde_json::from_str(&add.stdout).unwrap();
    let server = start(&dir);
    let url = server.started["url"].as_str().unwrap();
    let secret = made["client_secret"].as_str().unwrap();
    authlib_signs_in(
        url,
        &["backend", "https://backend.example/cb", secret],
        &server.started["development"]["user"],
    );
}

/// The text an HTML attribute value stands for (numeric and the basic named references).
fn unescape_html(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        let reference = &rest[at + 1..at + end];
        let decoded = match reference {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => reference
                .strip_prefix("#x")
                .or_else(|| reference.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| reference.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..=at + end]),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The browser's part of a sign-in: the page at `authorize_url`, then its form posted with
/// the cookie it set and the person's credentials; the `Location` it is sent to.
async fn browser_signs_in(authorize_url: &str, username: &str, password: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let mut form: Vec<(String, String)> = html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest.split_once('"').unwrap().0;
            (name.to_owned(), unescape_html(value))
        })
        .collect();
    form.push(("username".into(), username.into()));
    form.push(("password".into(), password.into()));
    let action = authorize_url.split('?').next().unwrap();
    let posted = browser
        .post(action)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&form)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303, "{}", posted.text().await.unwrap());
    posted.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rust_openidconnect_crate_signs_a_person_in() {
    use openidconnect::core::{
        CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
        CoreUserInfoClaims,
    };
    use openidconnect::{
        AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
    };

    let dir = Scratch::new("openidconnect-crate");
    let server = start(&dir);
    let url = server.started["url"].as_str().unwrap().to_owned();
    let development = &server.started["development"];
    let text = |value: &serde_json::Value| value.as_str().unwrap().to_owned();

    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(url.clone()).unwrap(), &send)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(text(&development["client"]["client_id"])),
        None,
    )
    .set_redirect_uri(RedirectUrl::new(text(&development["client"]["redirect_uri"])).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let callback = browser_signs_in(
        authorize_url.as_str(),
        &text(&development["user"]["username"]),
        &text(&development["user"]["password"]),
    )
    .await;
    let callback = url::Url::parse(&callback).unwrap();
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    assert_eq!(&param("state"), state.secret());
    assert_eq!(param("iss"), url, "RFC 9207");

    let tokens = client
        .exchange_code(AuthorizationCode::new(param("code")))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EdDsa]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash");

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&send)
        .await
        .unwrap();
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("demo"));
    assert!(tokens.refresh_token().is_some());
}
