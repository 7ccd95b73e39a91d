//! The OpenID provider across two real `jwtkit serve` processes on one real Redis: a person
//! signs in at A and the code is redeemed at B (once: a replay at A is refused), the sign-in
//! at the provider made at A lets B answer without the form, and a logout at A ends the
//! sessions at B, whose tokens it then refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Jwtkit, RedisServer, Scratch, http, jwtkit};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "https://app.example/callback";

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A raw response's status, a header and body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// A `Set-Cookie`'s `name=value`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let value = line.strip_prefix("set-cookie: ")?;
            let pair = value.split(';').next()?;
            pair.starts_with(&format!("{name}="))
                .then(|| pair.to_owned())
        })
    }

    /// A query parameter of the `Location`.
    fn param(&self, name: &str) -> Option<String> {
        let location = url::Url::parse(&self.header("location")?).ok()?;
        location
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

fn send(at: &Jwtkit, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let response = http(at.addr, &raw);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Answer {
        status: response[9..12].parse().unwrap(),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn authorize_query(extra: &str) -> String {
    format!(
        "client_id=app&redirect_uri={}&response_type=code&scope=openid%20profile&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(REDIRECT)
    )
}

fn exchange(at: &Jwtkit, code: &str) -> (u16, Value) {
    let body = format!(
        "grant_type=authorization_code&client_id=app&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(REDIRECT)
    );
    let answer = send(
        at,
        "POST",
        "/oauth2/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        &body,
    );
    (
        answer.status,
        serde_json::from_str(&answer.body).unwrap_or(Value::Null),
    )
}

#[test]
fn a_sign_in_at_one_instance_is_redeemed_and_ended_at_the_other() {
    let redis = RedisServer::start("provider-instances");
    let dir = Scratch::new("provider-instances");
    let key = jwtkit_core::Key::generate(jwtkit_core::Algorithm::EdDSA).unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, key.to_private_jwk().to_json()).unwrap();
    let store = redis.url();
    let added = jwtkit(
        &["users", "add", "alice", "--store", &store],
        Some("correct horse battery\n"),
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    let client = serde_json::json!({
        "client_id": "app", "redirect_uris": [REDIRECT], "first_party": true,
    })
    .to_string();
    let keys = keys.display().to_string();
    let args = [
        "--store",
        &store,
        "--keys",
        &keys,
        "--client",
        &client,
        "--issuer",
        "https://auth.example",
    ];
    let a = Jwtkit::start(&args);
    let b = Jwtkit::start(&args);

    // Signed in at A.
    let page = send(
        &a,
        "GET",
        &format!("/oauth2/authorize?{}", authorize_query("")),
        &[],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf_cookie = page.cookie("__Host-jwtkit-csrf").unwrap();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_owned();
    let form = format!(
        "{}&csrf={csrf}&username=alice&password=correct%20horse%20battery",
        authorize_query("")
    );
    let signed_in = send(
        &a,
        "POST",
        "/oauth2/authorize",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", &csrf_cookie),
        ],
        &form,
    );
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let login = signed_in.cookie("__Host-jwtkit-login").unwrap();
    let code = signed_in.param("code").unwrap();

    // Redeemed at B, once: the replay at A is refused.
    let (status, tokens) = exchange(&b, &code);
    assert_eq!(status, 200, "{tokens}");
    let (status, replay) = exchange(&a, &code);
    assert_eq!(
        (status, replay["code"].as_str()),
        (400, Some("ERR_AUTHORIZATION_CODE_REPLAYED"))
    );

    // B knows A's sign-in: a code without the form.
    let silent = send(
        &b,
        "GET",
        &format!("/oauth2/authorize?{}", authorize_query("&prompt=none")),
        &[("cookie", &login)],
        "",
    );
    let code = silent.param("code").expect("a code at B from A's sign-in");
    let (status, tokens) = exchange(&a, &code);
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    assert_eq!(b.get("/oauth2/userinfo", Some(&access)).0, 200);

    // Logged out at A: B refuses the session's access token within a second, and knows
    // the sign-in no more.
    let out = send(
        &a,
        "GET",
        &format!("/oauth2/logout?id_token_hint={id_token}"),
        &[("cookie", &login)],
        "",
    );
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("You are signed out"));
    let start = Instant::now();
    loop {
        let (status, body) = b.get("/oauth2/userinfo", Some(&access));
        if status == 401 {
            assert_eq!(body["code"], "ERR_JWT_REVOKED");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "B still accepts the token"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let none = send(
        &b,
        "GET",
        &format!("/oauth2/authorize?{}", authorize_query("&prompt=none")),
        &[("cookie", &login)],
        "",
    );
    assert_eq!(none.param("error").as_deref(), Some("login_required"));
}
