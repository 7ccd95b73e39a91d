//! A person signing in at the OpenID provider, as the tests play it: a browser's cookies,
//! the demo page's authorization request, the sign-in form, the redirect's parameters and
//! the token endpoint's exchange.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use jwtkit_core::protocol::CLIENT_REFRESH_COOKIE_PREFIX;
use jwtkit_server::config::DEMO_CLIENT_ID;

use crate::http::Response;
use crate::server::TestServer;

/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A browser: the cookies it holds for the provider.
#[derive(Default)]
pub struct Browser {
    /// The CSRF cookie.
    pub csrf: Option<String>,
    /// The sign-in cookie.
    pub login: Option<String>,
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        [
            ("__Host-jwtkit-csrf", &self.csrf),
            ("__Host-jwtkit-login", &self.login),
        ]
        .iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| format!("{n}={v}")))
        .collect::<Vec<_>>()
        .join("; ")
    }

    pub fn keep(&mut self, response: &Response) {
        for set in &response.set_cookies {
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            match name {
                "__Host-jwtkit-csrf" => self.csrf = Some(value.to_owned()),
                "__Host-jwtkit-login" => self.login = (!value.is_empty()).then(|| value.to_owned()),
                // A client's refresh-token cookie is its page's, not the provider's pages'.
                client if client.starts_with(CLIENT_REFRESH_COOKIE_PREFIX) => {}
                other => panic!("an unexpected cookie {other}"),
            }
        }
    }

    pub async fn get(&mut self, server: &TestServer, query: &str) -> Response {
        let cookies = self.cookie_header();
        let mut headers = vec![];
        if !cookies.is_empty() {
            headers.push(("cookie", cookies.as_str()));
        }
        let response = server
            .get(&format!("/oauth2/authorize?{query}"), &headers)
            .await;
        self.keep(&response);
        response
    }

    pub async fn post(&mut self, server: &TestServer, body: &str) -> Response {
        let cookies = self.cookie_header();
        let response = server
            .request(&format!(
                "POST /oauth2/authorize HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: {cookies}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ))
            .await;
        self.keep(&response);
        response
    }
}

/// The demo page's authorization request, with `extra` parameters.
pub fn request(server: &TestServer, extra: &[(&str, &str)]) -> String {
    let redirect = format!("{}/", server.config.public_url);
    let mut pairs = vec![
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", redirect.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        pairs.retain(|(n, _)| n != name);
        if !value.is_empty() {
            pairs.push((name, value));
        }
    }
    query(&pairs)
}

pub fn password(server: &TestServer) -> String {
    server.config.dev.as_ref().unwrap().user.1.clone()
}

/// The hidden `csrf` field of a page.
pub fn csrf_field(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + 43].to_owned()
}

/// The query of a redirect's `Location`, as pairs.
pub fn location(response: &Response) -> Vec<(String, String)> {
    assert_eq!(response.status, 303, "{}", response.body);
    let location = response.header("location").unwrap();
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Signs in through the page: the code of the redirect.
pub async fn sign_in(server: &TestServer, browser: &mut Browser, query: &str) -> String {
    let page = browser.get(server, query).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = format!(
        "{query}&csrf={}&username=demo&password={}",
        csrf_field(&page.body),
        enc(&password(server))
    );
    let redirect = browser.post(server, &body).await;
    let pairs = location(&redirect);
    param(&pairs, "code").expect("a code").to_owned()
}

pub async fn exchange(
    server: &TestServer,
    code: &str,
    verifier: &str,
    client_id: &str,
) -> Response {
    let redirect_uri = format!("{}/", server.config.public_url);
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    token(server, &form, None).await
}

/// A token request: the form `pairs`, with `Authorization: {authorization}` if given.
pub async fn token(
    server: &TestServer,
    pairs: &[(&str, &str)],
    authorization: Option<&str>,
) -> Response {
    let body = query(pairs);
    let authorization =
        authorization.map_or_else(String::new, |value| format!("Authorization: {value}\r\n"));
    server
        .request(&format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{authorization}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
}

pub async fn userinfo(server: &TestServer, access: &str) -> Response {
    server
        .get(
            "/oauth2/userinfo",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await
}
