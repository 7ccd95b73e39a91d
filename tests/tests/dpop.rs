//! DPoP (RFC 9449) against the real server, with proofs made by an independent
//! implementation (jsonwebtoken signs them; the header's key and its thumbprint are written
//! here from RFC 7517 and RFC 7638): bound tokens from `/api/v3/auth`, its refresh and the
//! token endpoint, a protected route that asks a bound token's proof of every request, and
//! every refusal by its code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../core/tests/common/reference.rs"]
mod reference;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwtkit_core::{Algorithm, Key};
use jwtkit_e2e::http::Response;
use jwtkit_e2e::server::TestServer;
use jwtkit_e2e::signin;
use jwtkit_server::config::ServeArgs;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use reference::{Reference, reference};

const SECRET: &str = "/api/v3/secret";

/// A client's DPoP key, held by jsonwebtoken.
struct Holder {
    alg: Algorithm,
    key: Reference,
    /// The public JWK, as the proof's header carries it.
    jwk: Value,
    /// Its RFC 7638 thumbprint.
    jkt: String,
}

impl Holder {
    fn new(alg: Algorithm) -> Self {
        let private = Key::generate(alg).unwrap().to_private_jwk();
        let key = reference(alg, &private);
        let members: &[&str] = match alg {
            Algorithm::EdDSA => &["crv", "kty", "x"],
            Algorithm::RS256 | Algorithm::PS256 => &["e", "kty", "n"],
            _ => &["crv", "kty", "x", "y"],
        };
        let full: Value = serde_json::from_str(&private.to_json()).unwrap();
        let jwk: serde_json::Map<String, Value> = members
            .iter()
            .map(|m| ((*m).to_owned(), full[*m].clone()))
            .collect();
        // RFC 7638 §3: the required members, in lexicographic order, without whitespace.
        let canonical = serde_json::to_string(&jwk).unwrap();
        let jkt = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Self {
            alg,
            key,
            jwk: Value::Object(jwk),
            jkt,
        }
    }

    /// A proof with this `header` and `claims`, signed with the key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.key.encoding, self.key.alg).unwrap();
        format!("{input}.{signature}")
    }

    fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg.as_str(), "jwk": self.jwk})
    }

    /// The claims of a proof for `method url` at `iat`, for `token` (its `ath`).
    fn claims(method: &str, url: &str, iat: i64, token: Option<&str>) -> Value {
        let mut jti = [0u8; 12];
        getrandom::fill(&mut jti).unwrap();
        let mut claims =
            json!({"htm": method, "htu": url, "iat": iat, "jti": URL_SAFE_NO_PAD.encode(jti)});
        if let Some(token) = token {
            claims["ath"] = URL_SAFE_NO_PAD
                .encode(Sha256::digest(token.as_bytes()))
                .into();
        }
        claims
    }

    /// A proof for `method path` at `server` now.
    fn proof(&self, server: &TestServer, method: &str, path: &str, token: Option<&str>) -> String {
        let url = format!("{}{path}", server.config.public_url);
        let claims = Self::claims(method, &url, server.clock.now_secs(), token);
        self.sign(&self.header(), &claims)
    }
}

/// `method path` with these headers and a body (JSON or a form, by its first character).
async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        let mime = if body.starts_with('{') {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        raw.push_str(&format!(
            "Content-Type: {mime}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    server.request(&raw).await
}

/// A session started at `/api/v3/auth` with a proof of `holder`: (access, refresh).
async fn bound_session(server: &TestServer, holder: &Holder) -> (String, String) {
    let proof = holder.proof(server, "POST", "/api/v3/auth", None);
    let body = json!({"api-key": server.dev_key("dev")}).to_string();
    let response = send(server, "POST", "/api/v3/auth", &[("DPoP", &proof)], &body).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let data = &response.json()["data"];
    assert_eq!(data["token_type"], "DPoP");
    (
        data["token"].as_str().unwrap().to_owned(),
        data["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// The claims of a JWT, unverified (the test reads what the server wrote).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `GET /api/v3/secret` with `Authorization: {scheme} {token}` and these proofs.
async fn call(server: &TestServer, scheme: &str, token: &str, proofs: &[&str]) -> Response {
    let authorization = format!("{scheme} {token}");
    let mut headers = vec![("Authorization", authorization.as_str())];
    headers.extend(proofs.iter().map(|proof| ("DPoP", *proof)));
    send(server, "GET", SECRET, &headers, "").await
}

fn assert_refused(response: &Response, status: u16, error: &str, code: &str) {
    assert_eq!(
        (response.status, response.code().as_str()),
        (status, code),
        "{}",
        response.body
    );
    assert_eq!(response.json()["error"], error, "{}", response.body);
}

/// A 401 with its `DPoP` challenge: the algorithms, the error and no proof or token.
fn assert_challenged(response: &Response, error: &str, code: &str) {
    assert_refused(response, 401, error, code);
    let challenge = response.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with(
            r#"DPoP realm="jwtkit", algs="ES256 EdDSA Ed25519 ES384 PS256 RS256", error=""#
        ),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!(r#"error="{error}""#)),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_bound_token_is_used_with_a_fresh_proof_of_its_key_on_every_request() {
    let server = TestServer::start(ServeArgs::default()).await;
    for alg in [Algorithm::ES256, Algorithm::EdDSA, Algorithm::PS256] {
        let holder = Holder::new(alg);
        let (token, _) = bound_session(&server, &holder).await;
        assert_eq!(
            claims_of(&token)["cnf"],
            json!({"jkt": holder.jkt}),
            "{alg}"
        );
        for _ in 0..3 {
            let proof = holder.proof(&server, "GET", SECRET, Some(&token));
            let response = call(&server, "DPoP", &token, &[&proof]).await;
            assert_eq!(response.status, 200, "{alg}: {}", response.body);
        }
    }
    // An unbound token is still a bearer token.
    let bearer = server.token(&server.dev_key("dev")).await;
    assert!(claims_of(&bearer).get("cnf").is_none());
    assert_eq!(call(&server, "Bearer", &bearer, &[]).await.status, 200);
}

#[tokio::test]
async fn every_bad_proof_at_a_protected_route_is_refused_for_its_reason() {
    let server = TestServer::start(ServeArgs::default()).await;
    let holder = Holder::new(Algorithm::ES256);
    let (token, _) = bound_session(&server, &holder).await;
    let url = format!("{}{SECRET}", server.config.public_url);
    let now = server.clock.now_secs();
    let sign = |claims: &Value| holder.sign(&holder.header(), claims);
    let fresh = |method: &str, url: &str, iat: i64, token: Option<&str>| {
        sign(&Holder::claims(method, url, iat, token))
    };

    // Replay: accepted once, refused the second time.
    let proof = fresh("GET", &url, now, Some(&token));
    assert_eq!(call(&server, "DPoP", &token, &[&proof]).await.status, 200);
    let replayed = call(&server, "DPoP", &token, &[&proof]).await;
    assert_challenged(&replayed, "invalid_dpop_proof", "ERR_DPOP_PROOF_REPLAYED");

    let cases = [
        (
            "another method",
            fresh("POST", &url, now, Some(&token)),
            "ERR_DPOP_PROOF_HTM",
        ),
        (
            "another URI",
            fresh(
                "GET",
                &format!("{}/api/v3/admin", server.config.public_url),
                now,
                Some(&token),
            ),
            "ERR_DPOP_PROOF_HTU",
        ),
        (
            "no ath",
            fresh("GET", &url, now, None),
            "ERR_DPOP_PROOF_ATH",
        ),
        (
            "another token's ath",
            fresh("GET", &url, now, Some("another.token")),
            "ERR_DPOP_PROOF_ATH",
        ),
        (
            "a stale iat",
            fresh("GET", &url, now - 61, Some(&token)),
            "ERR_DPOP_PROOF_IAT",
        ),
        (
            "a future iat",
            fresh("GET", &url, now + 30, Some(&token)),
            "ERR_DPOP_PROOF_IAT",
        ),
    ];
    for (what, proof, code) in &cases {
        let response = call(&server, "DPoP", &token, &[proof]).await;
        assert_eq!(response.code(), *code, "{what}: {}", response.body);
        assert_challenged(&response, "invalid_dpop_proof", code);
    }

    let claims = Holder::claims("GET", &url, now, Some(&token));
    let mut header = holder.header();
    header["typ"] = "JWT".into();
    let wrong_type = holder.sign(&header, &claims);
    assert_challenged(
        &call(&server, "DPoP", &token, &[&wrong_type]).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_TYPE",
    );

    // A private key in `jwk`.
    let mut header = holder.header();
    let private: Value = serde_json::from_str(
        &Key::generate(Algorithm::ES256)
            .unwrap()
            .to_private_jwk()
            .to_json(),
    )
    .unwrap();
    header["jwk"]["d"] = private["d"].clone();
    assert_challenged(
        &call(&server, "DPoP", &token, &[&holder.sign(&header, &claims)]).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_KEY",
    );

    // A symmetric algorithm (the MAC's key in the clear would be anyone's), and none.
    let hmac = reference(
        Algorithm::HS256,
        &Key::generate(Algorithm::HS256).unwrap().to_private_jwk(),
    );
    let mut header = holder.header();
    header["alg"] = "HS256".into();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mac = jsonwebtoken::crypto::sign(input.as_bytes(), &hmac.encoding, hmac.alg).unwrap();
    assert_challenged(
        &call(&server, "DPoP", &token, &[&format!("{input}.{mac}")]).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_ALGORITHM",
    );
    header["alg"] = "none".into();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_challenged(
        &call(&server, "DPoP", &token, &[&unsigned]).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_ALGORITHM",
    );

    // A signature by another key than the header's.
    let thief = Holder::new(Algorithm::ES256);
    let forged = thief.sign(
        &holder.header(),
        &Holder::claims("GET", &url, now, Some(&token)),
    );
    assert_challenged(
        &call(&server, "DPoP", &token, &[&forged]).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_SIGNATURE",
    );

    // A valid proof of a key that is not the token's: a thief's own key.
    let thiefs = thief.proof(&server, "GET", SECRET, Some(&token));
    assert_challenged(
        &call(&server, "DPoP", &token, &[&thiefs]).await,
        "invalid_token",
        "ERR_DPOP_KEY_MISMATCH",
    );

    // Two proofs, none, the bound token as a bearer token.
    let one = holder.proof(&server, "GET", SECRET, Some(&token));
    let two = holder.proof(&server, "GET", SECRET, Some(&token));
    let response = call(&server, "DPoP", &token, &[&one, &two]).await;
    assert_refused(
        &response,
        400,
        "invalid_dpop_proof",
        "ERR_DPOP_HEADER_INVALID",
    );
    assert_challenged_header(&response);
    assert_challenged(
        &call(&server, "DPoP", &token, &[]).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_MISSING",
    );
    let as_bearer = call(&server, "Bearer", &token, &[]).await;
    assert_refused(&as_bearer, 401, "invalid_token", "ERR_DPOP_TOKEN_AS_BEARER");
    // An unbound token under DPoP proves nothing about it.
    let bearer = server.token(&server.dev_key("dev")).await;
    let proof = holder.proof(&server, "GET", SECRET, Some(&bearer));
    assert_challenged(
        &call(&server, "DPoP", &bearer, &[&proof]).await,
        "invalid_token",
        "ERR_DPOP_KEY_MISMATCH",
    );
    // A token that is no good (here its signature), sent under DPoP: challenged as DPoP
    // (RFC 9449 §7.1), for the token's own reason.
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
    let proof = holder.proof(&server, "GET", SECRET, Some(&forged));
    assert_challenged(
        &call(&server, "DPoP", &forged, &[&proof]).await,
        "invalid_token",
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    // The proof the refusals did not consume still works once.
    assert_eq!(call(&server, "DPoP", &token, &[&one]).await.status, 200);
}

fn assert_challenged_header(response: &Response) {
    let challenge = response.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
}

#[tokio::test]
async fn a_bound_session_refreshes_only_with_a_proof_of_its_key() {
    let server = TestServer::start(ServeArgs::default()).await;
    let holder = Holder::new(Algorithm::EdDSA);
    let (_, refresh) = bound_session(&server, &holder).await;
    let refresh_with = |refresh: String, proof: Option<String>| {
        let server = &server;
        async move {
            let body = json!({ "refresh_token": refresh }).to_string();
            let headers: Vec<(&str, &str)> = proof.iter().map(|p| ("DPoP", p.as_str())).collect();
            send(server, "POST", "/api/v3/auth/refresh", &headers, &body).await
        }
    };
    let refreshed = refresh_with(
        refresh.clone(),
        Some(holder.proof(&server, "POST", "/api/v3/auth/refresh", None)),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let data = &refreshed.json()["data"];
    assert_eq!(data["token_type"], "DPoP");
    let token = data["token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token)["cnf"]["jkt"], holder.jkt);
    let next = data["refresh_token"].as_str().unwrap().to_owned();

    // A thief with the refresh token and a key of its own: the session ends.
    let thief = Holder::new(Algorithm::EdDSA);
    let stolen = refresh_with(
        next.clone(),
        Some(thief.proof(&server, "POST", "/api/v3/auth/refresh", None)),
    )
    .await;
    assert_refused(
        &stolen,
        401,
        "invalid_grant",
        "ERR_REFRESH_TOKEN_KEY_MISMATCH",
    );
    let after = refresh_with(
        next,
        Some(holder.proof(&server, "POST", "/api/v3/auth/refresh", None)),
    )
    .await;
    assert_eq!(after.code(), "ERR_REFRESH_TOKEN_REVOKED", "{}", after.body);
    let proof = holder.proof(&server, "GET", SECRET, Some(&token));
    assert_eq!(
        call(&server, "DPoP", &token, &[&proof]).await.code(),
        "ERR_JWT_REVOKED"
    );

    // Without any proof: the same.
    let (_, refresh) = bound_session(&server, &holder).await;
    let bare = refresh_with(refresh, None).await;
    assert_refused(
        &bare,
        401,
        "invalid_grant",
        "ERR_REFRESH_TOKEN_KEY_MISMATCH",
    );

    // A bad proof is refused before the refresh token is touched.
    let (_, refresh) = bound_session(&server, &holder).await;
    let wrong_path = holder.proof(&server, "POST", "/api/v3/auth", None);
    let refused = refresh_with(refresh.clone(), Some(wrong_path)).await;
    assert_challenged(&refused, "invalid_dpop_proof", "ERR_DPOP_PROOF_HTU");
    let fine = refresh_with(
        refresh,
        Some(holder.proof(&server, "POST", "/api/v3/auth/refresh", None)),
    )
    .await;
    assert_eq!(fine.status, 200, "{}", fine.body);
}

#[tokio::test]
async fn the_token_endpoint_binds_what_it_issues_and_says_so() {
    let server = TestServer::start(ServeArgs::default()).await;
    let metadata = server
        .get("/.well-known/oauth-authorization-server", &[])
        .await
        .json();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "Ed25519", "ES384", "PS256", "RS256"])
    );
    let holder = Holder::new(Algorithm::ES384);
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("dev-admin:{}", server.dev_key("dev-admin")))
    );
    let grant = |proof: Option<String>| {
        let (server, basic) = (&server, basic.clone());
        async move {
            let mut headers = vec![("Authorization", basic.as_str())];
            headers.extend(proof.iter().map(|p| ("DPoP", p.as_str())));
            send(
                server,
                "POST",
                "/oauth2/token",
                &headers,
                "grant_type=client_credentials",
            )
            .await
        }
    };
    let issued = grant(Some(holder.proof(&server, "POST", "/oauth2/token", None))).await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(issued.json()["token_type"], "DPoP");
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token)["cnf"]["jkt"], holder.jkt);
    let proof = holder.proof(&server, "GET", SECRET, Some(&token));
    assert_eq!(call(&server, "DPoP", &token, &[&proof]).await.status, 200);

    // Introspection tells a resource server that the token is bound, and to which key.
    let introspected = send(
        &server,
        "POST",
        "/oauth2/introspect",
        &[("Authorization", &basic)],
        &format!("token={token}"),
    )
    .await
    .json();
    assert_eq!(introspected["token_type"], "DPoP");
    assert_eq!(introspected["cnf"]["jkt"], holder.jkt);

    // A bad proof at the token endpoint: RFC 9449 §5's 400, in RFC 6749's form.
    let stale = holder.sign(
        &holder.header(),
        &Holder::claims(
            "POST",
            &format!("{}/oauth2/token", server.config.public_url),
            server.clock.now_secs() - 600,
            None,
        ),
    );
    let refused = grant(Some(stale)).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (400, "ERR_DPOP_PROOF_IAT"),
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"], "invalid_dpop_proof");
    // Without a proof, a bearer token as before.
    let bearer = grant(None).await;
    assert_eq!(bearer.json()["token_type"], "Bearer");
}

#[tokio::test]
async fn a_client_registered_with_dpop_bound_access_tokens_gets_nothing_without_a_proof() {
    const BOUND_APP: &str = r#"{"client_id": "bound-app", "redirect_uris": ["https://app.example/cb"], "first_party": true, "dpop_bound_access_tokens": true}"#;
    let server = TestServer::start(
        ServeArgs::default().with(&jwtkit_server::config::table::CLIENTS, BOUND_APP),
    )
    .await;
    let mut browser = signin::Browser::default();
    let query = signin::request(
        &server,
        &[
            ("client_id", "bound-app"),
            ("redirect_uri", "https://app.example/cb"),
        ],
    );
    let code = signin::sign_in(&server, &mut browser, &query).await;
    let form = signin::query(&[
        ("grant_type", "authorization_code"),
        ("client_id", "bound-app"),
        ("code", &code),
        ("redirect_uri", "https://app.example/cb"),
        ("code_verifier", signin::VERIFIER),
    ]);
    // Refused before the code is looked at: the same code then works with a proof.
    let bare = send(&server, "POST", "/oauth2/token", &[], &form).await;
    assert_eq!(
        (bare.status, bare.code().as_str()),
        (400, "ERR_DPOP_PROOF_REQUIRED"),
        "{}",
        bare.body
    );
    assert_eq!(bare.json()["error"], "invalid_dpop_proof");
    let holder = Holder::new(Algorithm::ES256);
    let proof = holder.proof(&server, "POST", "/oauth2/token", None);
    let bound = send(&server, "POST", "/oauth2/token", &[("DPoP", &proof)], &form).await;
    assert_eq!(bound.status, 200, "{}", bound.body);
    assert_eq!(bound.json()["token_type"], "DPoP");
    let access = bound.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&access)["cnf"]["jkt"], holder.jkt);
    // Its userinfo takes the token with a proof only.
    let proof = holder.proof(&server, "GET", "/oauth2/userinfo", Some(&access));
    let authorization = format!("DPoP {access}");
    let info = send(
        &server,
        "GET",
        "/oauth2/userinfo",
        &[("Authorization", &authorization), ("DPoP", &proof)],
        "",
    )
    .await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert!(info.json()["sub"].is_string());
    // And the refresh token is bound to the key (a public client).
    let refresh = bound.json()["refresh_token"].as_str().unwrap().to_owned();
    let form = signin::query(&[
        ("grant_type", "refresh_token"),
        ("client_id", "bound-app"),
        ("refresh_token", &refresh),
    ]);
    let thief = Holder::new(Algorithm::ES256);
    let proof = thief.proof(&server, "POST", "/oauth2/token", None);
    let stolen = send(&server, "POST", "/oauth2/token", &[("DPoP", &proof)], &form).await;
    assert_eq!(
        stolen.code(),
        "ERR_REFRESH_TOKEN_KEY_MISMATCH",
        "{}",
        stolen.body
    );
}

#[tokio::test]
async fn with_nonces_every_proof_carries_the_servers_current_one() {
    let server = TestServer::start(
        ServeArgs::default().with(&jwtkit_server::config::table::DPOP_NONCE_INTERVAL, "60s"),
    )
    .await;
    let holder = Holder::new(Algorithm::ES256);
    let with_nonce = |method: &str, path: &str, token: Option<&str>, nonce: &str| {
        let url = format!("{}{path}", server.config.public_url);
        let mut claims = Holder::claims(method, &url, server.clock.now_secs(), token);
        claims["nonce"] = nonce.into();
        holder.sign(&holder.header(), &claims)
    };
    // No nonce yet: refused with the nonce to use (RFC 9449 §8).
    let body = json!({"api-key": server.dev_key("dev")}).to_string();
    let proof = holder.proof(&server, "POST", "/api/v3/auth", None);
    let first = send(&server, "POST", "/api/v3/auth", &[("DPoP", &proof)], &body).await;
    assert_challenged(&first, "use_dpop_nonce", "ERR_DPOP_NONCE_REQUIRED");
    let nonce = first.header("dpop-nonce").unwrap().to_owned();
    let proof = with_nonce("POST", "/api/v3/auth", None, &nonce);
    let started = send(&server, "POST", "/api/v3/auth", &[("DPoP", &proof)], &body).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let token = started.json()["data"]["token"].as_str().unwrap().to_owned();

    // A protected route asks the same (RFC 9449 §9), and takes the nonce.
    let bare = holder.proof(&server, "GET", SECRET, Some(&token));
    let refused = call(&server, "DPoP", &token, &[&bare]).await;
    assert_challenged(&refused, "use_dpop_nonce", "ERR_DPOP_NONCE_REQUIRED");
    assert_eq!(refused.header("dpop-nonce"), Some(nonce.as_str()));
    let forged = format!(
        "{}.AAAAAAAAAAAAAAAAAAAAAA",
        nonce.split('.').next().unwrap()
    );
    let proof = with_nonce("GET", SECRET, Some(&token), &forged);
    assert_challenged(
        &call(&server, "DPoP", &token, &[&proof]).await,
        "use_dpop_nonce",
        "ERR_DPOP_NONCE_REQUIRED",
    );
    let proof = with_nonce("GET", SECRET, Some(&token), &nonce);
    assert_eq!(call(&server, "DPoP", &token, &[&proof]).await.status, 200);

    // The token endpoint: 400, the nonce in the header.
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("dev-admin:{}", server.dev_key("dev-admin")))
    );
    let proof = holder.proof(&server, "POST", "/oauth2/token", None);
    let headers = [("Authorization", basic.as_str()), ("DPoP", proof.as_str())];
    let refused = send(
        &server,
        "POST",
        "/oauth2/token",
        &headers,
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (400, "ERR_DPOP_NONCE_REQUIRED"),
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"], "use_dpop_nonce");
    assert_eq!(refused.header("dpop-nonce"), Some(nonce.as_str()));

    // Two minutes on, the nonce is stale: a new one is handed out.
    server.clock.advance(120);
    let proof = with_nonce("GET", SECRET, Some(&token), &nonce);
    let stale = call(&server, "DPoP", &token, &[&proof]).await;
    assert_eq!(stale.code(), "ERR_DPOP_NONCE_REQUIRED", "{}", stale.body);
    assert_ne!(stale.header("dpop-nonce"), Some(nonce.as_str()));
}

#[tokio::test]
async fn a_revoked_bound_token_ends_its_session_only_with_a_proof_of_its_key() {
    let server = TestServer::start(ServeArgs::default()).await;
    let holder = Holder::new(Algorithm::ES256);
    let (token, refresh) = bound_session(&server, &holder).await;
    // RFC 7009: possession revokes the access token itself (not its session).
    let revoked = send(
        &server,
        "POST",
        "/api/v3/auth/revoke",
        &[],
        &format!("token={token}&token_type_hint=access_token"),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    // A thief holding the revoked token cannot log the session out without the key.
    let authorization = format!("DPoP {token}");
    let logout = |proof: Option<String>| {
        let (server, authorization) = (&server, authorization.clone());
        async move {
            let mut headers = vec![("Authorization", authorization.as_str())];
            headers.extend(proof.iter().map(|p| ("DPoP", p.as_str())));
            send(server, "POST", "/api/v3/auth/logout", &headers, "").await
        }
    };
    let thief = Holder::new(Algorithm::ES256);
    let refused = logout(Some(thief.proof(
        &server,
        "POST",
        "/api/v3/auth/logout",
        Some(&token),
    )))
    .await;
    assert_challenged(&refused, "invalid_token", "ERR_DPOP_KEY_MISMATCH");
    assert_challenged(
        &logout(None).await,
        "invalid_dpop_proof",
        "ERR_DPOP_PROOF_MISSING",
    );
    let refreshed = send(
        &server,
        "POST",
        "/api/v3/auth/refresh",
        &[(
            "DPoP",
            &holder.proof(&server, "POST", "/api/v3/auth/refresh", None),
        )],
        &json!({ "refresh_token": refresh }).to_string(),
    )
    .await;
    assert_eq!(
        refreshed.status, 200,
        "the session lives on: {}",
        refreshed.body
    );
    // Its holder can.
    let ended = logout(Some(holder.proof(
        &server,
        "POST",
        "/api/v3/auth/logout",
        Some(&token),
    )))
    .await;
    assert_eq!(ended.status, 200, "{}", ended.body);
}

#[tokio::test]
async fn a_proof_is_remembered_only_once_its_caller_is_authenticated() {
    let server = TestServer::start(ServeArgs::default()).await;
    let holder = Holder::new(Algorithm::ES256);
    // /api/v3/auth: a wrong API key with a good proof is refused for the key, and the proof
    // is not spent (an anonymous caller writes nothing to the store).
    let proof = holder.proof(&server, "POST", "/api/v3/auth", None);
    let auth = |key: String| {
        let (server, proof) = (&server, proof.clone());
        async move {
            let body = json!({"api-key": key}).to_string();
            send(server, "POST", "/api/v3/auth", &[("DPoP", &proof)], &body).await
        }
    };
    let wrong = auth("jwtk_not-a-key".to_owned()).await;
    assert_eq!(wrong.code(), "ERR_API_KEY_INVALID", "{}", wrong.body);
    assert_eq!(auth(server.dev_key("dev")).await.status, 200);
    let replayed = auth(server.dev_key("dev")).await;
    assert_eq!(
        replayed.code(),
        "ERR_DPOP_PROOF_REPLAYED",
        "{}",
        replayed.body
    );

    // The token endpoint: the same for a client that fails to authenticate.
    let proof = holder.proof(&server, "POST", "/oauth2/token", None);
    let grant = |secret: String| {
        let (server, proof) = (&server, proof.clone());
        async move {
            let basic = format!("Basic {}", STANDARD.encode(format!("dev-admin:{secret}")));
            let headers = [("Authorization", basic.as_str()), ("DPoP", proof.as_str())];
            send(
                server,
                "POST",
                "/oauth2/token",
                &headers,
                "grant_type=client_credentials",
            )
            .await
        }
    };
    let refused = grant("wrong".to_owned()).await;
    assert_eq!(
        refused.code(),
        "ERR_CLIENT_AUTHENTICATION_FAILED",
        "{}",
        refused.body
    );
    assert_eq!(grant(server.dev_key("dev-admin")).await.status, 200);
    let replayed = grant(server.dev_key("dev-admin")).await;
    assert_eq!(
        replayed.code(),
        "ERR_DPOP_PROOF_REPLAYED",
        "{}",
        replayed.body
    );

    // The refresh: what is no refresh token at all does not spend the proof.
    let (_, refresh_token) = bound_session(&server, &holder).await;
    let proof = holder.proof(&server, "POST", "/api/v3/auth/refresh", None);
    let refresh = |token: String| {
        let (server, proof) = (&server, proof.clone());
        async move {
            let body = json!({"refresh_token": token}).to_string();
            send(
                server,
                "POST",
                "/api/v3/auth/refresh",
                &[("DPoP", &proof)],
                &body,
            )
            .await
        }
    };
    let garbage = refresh("not a refresh token".to_owned()).await;
    assert_eq!(
        garbage.code(),
        "ERR_REFRESH_TOKEN_INVALID",
        "{}",
        garbage.body
    );
    let rotated = refresh(refresh_token).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
}
