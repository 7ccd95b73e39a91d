//! Fetching an issuer's metadata and key set: HTTPS only (plain HTTP to loopback alone), no
//! redirects, a timeout and a size cap on every response, and the strict reading of what
//! comes back.

use std::fmt;
use std::time::Duration;

use jwtkit_core::{Jwk, JwkSet, Key, KeySet};
use reqwest::header::{ACCEPT, CACHE_CONTROL};
use url::Url;

/// Why keys could not be fetched (the message never carries a response body).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteError {
    /// The URL is not HTTPS (or HTTP to a loopback address), or carries credentials.
    InsecureUrl(String),
    /// The request failed: connection, TLS, timeout.
    Transport(String),
    /// The answer was not 200.
    Status(u16),
    /// The answer was over the size cap.
    TooLarge(usize),
    /// The metadata is not JSON, lacks `jwks_uri`, or names another issuer.
    Metadata(String),
    /// The key set is not a strict JWK Set, holds private members, or no usable key.
    KeySet(String),
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InsecureUrl(url) => write!(
                f,
                "{url} is not an https URL (plain http only to a loopback address, and no credentials)"
            ),
            Self::Transport(reason) => write!(f, "request failed: {reason}"),
            Self::Status(status) => write!(f, "answered HTTP {status}, not 200"),
            Self::TooLarge(limit) => write!(f, "answer is over {limit} bytes"),
            Self::Metadata(reason) => write!(f, "invalid issuer metadata: {reason}"),
            Self::KeySet(reason) => write!(f, "invalid key set: {reason}"),
        }
    }
}

impl std::error::Error for RemoteError {}

/// A URL keys may be fetched from: `https`, or `http` to a loopback address; no
/// credentials (see the crate's `fetchable` rule).
pub fn checked_url(text: &str) -> Result<Url, RemoteError> {
    crate::fetchable::fetchable_url(text).map_err(|e| RemoteError::InsecureUrl(e.shown))
}

/// An answer: its body and how long it may be cached (`Cache-Control: max-age`).
pub(super) struct Fetched {
    pub(super) body: Vec<u8>,
    pub(super) max_age: Option<Duration>,
}

/// The HTTP client of a remote key source.
#[derive(Debug, Clone)]
pub(super) struct Fetcher {
    http: reqwest::Client,
    max_bytes: usize,
}

impl Fetcher {
    pub(super) fn new(timeout: Duration, max_bytes: usize) -> Result<Self, RemoteError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jwtkit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RemoteError::Transport(e.to_string()))?;
        Ok(Self { http, max_bytes })
    }

    /// `GET url` as JSON, read up to the size cap.
    pub(super) async fn get(&self, url: &Url) -> Result<Fetched, RemoteError> {
        let transport = |e: reqwest::Error| RemoteError::Transport(e.without_url().to_string());
        let mut response = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json, application/jwk-set+json")
            .send()
            .await
            .map_err(transport)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(RemoteError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(RemoteError::TooLarge(self.max_bytes));
        }
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(RemoteError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

/// `max-age` of a `Cache-Control` value; `None` with `no-store` or `no-cache`, or without it.
fn max_age(value: &str) -> Option<Duration> {
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return None;
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            age = seconds.trim_matches('"').parse::<u64>().ok();
        }
    }
    age.map(Duration::from_secs)
}

/// The `jwks_uri` of RFC 8414 / OpenID metadata whose `issuer` must be exactly `issuer`.
pub(super) fn jwks_uri(metadata: &[u8], issuer: &str) -> Result<Url, RemoteError> {
    let invalid = |reason: &str| RemoteError::Metadata(reason.to_owned());
    let value: serde_json::Value =
        serde_json::from_slice(metadata).map_err(|_| invalid("not JSON"))?;
    match value.get("issuer").and_then(|v| v.as_str()) {
        Some(named) if named == issuer => {}
        Some(named) => {
            // Both shown (at most 200 characters each): a trailing `/` or `localhost` for
            // `127.0.0.1` is the usual difference, and the fix is the trusted URL's.
            let shown = |url: &str| url.chars().take(200).collect::<String>();
            return Err(RemoteError::Metadata(format!(
                "its \"issuer\" is {:?}, not the trusted issuer {:?} (they must be equal, \
                 character for character: set trust_issuer to the metadata's issuer)",
                shown(named),
                shown(issuer)
            )));
        }
        None => return Err(invalid("no \"issuer\"")),
    }
    let uri = value
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid("no \"jwks_uri\""))?;
    checked_url(uri)
}

/// Where an issuer's metadata is: RFC 8414's well-known URI (inserted before the issuer's
/// path), then OpenID Connect's (appended to it).
pub(super) fn metadata_urls(issuer: &str) -> Result<[Url; 2], RemoteError> {
    let url = checked_url(issuer)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(RemoteError::Metadata(
            "an issuer has no query or fragment".to_owned(),
        ));
    }
    let path = url.path().trim_end_matches('/');
    let mut rfc8414 = url.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let mut openid = url.clone();
    openid.set_path(&format!("{path}/.well-known/openid-configuration"));
    Ok([rfc8414, openid])
}

/// The verification keys of a remote JWK Set. The set is refused as a whole when it is not
/// strict JSON or any key carries private or symmetric material (a publisher that leaks keys
/// is not one to trust); keys for something else — encryption keys, algorithms jwtkit does
/// not take, keys without `alg` — are left out and named in `skipped`.
pub(super) fn key_set(body: &[u8]) -> Result<(KeySet, Vec<String>), RemoteError> {
    let text = std::str::from_utf8(body).map_err(|_| RemoteError::KeySet("not UTF-8".into()))?;
    let set = JwkSet::from_json(text).map_err(|e| RemoteError::KeySet(e.to_string()))?;
    if set.keys.iter().any(has_secret_members) {
        return Err(RemoteError::KeySet(
            "a key has private or symmetric members".into(),
        ));
    }
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for jwk in &set.keys {
        let name = jwk.kid.clone().unwrap_or_else(|| "(no kid)".to_owned());
        if jwk.alg.is_none() {
            skipped.push(format!("{name}: no \"alg\""));
            continue;
        }
        match Key::from_jwk(jwk, None) {
            Ok(key) => keys.push(key),
            Err(error) => skipped.push(format!("{name}: {}", error.code())),
        }
    }
    if keys.is_empty() {
        return Err(RemoteError::KeySet("no usable verification key".into()));
    }
    let keys = KeySet::new(keys).map_err(|e| RemoteError::KeySet(e.to_string()))?;
    Ok((keys, skipped))
}

fn has_secret_members(jwk: &Jwk) -> bool {
    [&jwk.d, &jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi, &jwk.k]
        .iter()
        .any(|member| member.is_some())
        || jwk.oth.is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;
    use jwtkit_core::Algorithm;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://auth.example/keys",
            "http://127.0.0.1:8080/jwks",
            "http://[::1]/jwks",
            "http://localhost/jwks",
        ] {
            assert!(checked_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://auth.example/jwks",
            "http://10.0.0.1/jwks",
            "ftp://auth.example/jwks",
            "https://user:pw@auth.example/jwks",
            "auth.example",
        ] {
            assert!(
                matches!(checked_url(bad), Err(RemoteError::InsecureUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn insecure_urls_are_named_without_their_credentials() {
        for (url, shown) in [
            (
                "http://admin:hunter2@auth.example/jwks",
                "http://…@auth.example/jwks",
            ),
            ("https://hunter2@auth.example", "https://…@auth.example"),
            ("ftp://auth.example/a@b", "ftp://auth.example/a@b"),
        ] {
            let message = checked_url(url).unwrap_err().to_string();
            assert!(message.starts_with(shown), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn metadata_is_looked_up_where_both_standards_put_it() {
        let [rfc, oidc] = metadata_urls("https://auth.example/tenant/").unwrap();
        assert_eq!(
            rfc.as_str(),
            "https://auth.example/.well-known/oauth-authorization-server/tenant"
        );
        assert_eq!(
            oidc.as_str(),
            "https://auth.example/tenant/.well-known/openid-configuration"
        );
        let [rfc, _] = metadata_urls("https://auth.example").unwrap();
        assert_eq!(
            rfc.as_str(),
            "https://auth.example/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn metadata_must_name_the_trusted_issuer() {
        let doc = br#"{"issuer": "https://a.example", "jwks_uri": "https://a.example/jwks"}"#;
        assert!(jwks_uri(doc, "https://a.example").is_ok());
        let differs = jwks_uri(doc, "https://a.example/").unwrap_err().to_string();
        assert!(
            differs.contains(r#"its "issuer" is "https://a.example", not the trusted issuer "https://a.example/""#),
            "both named: {differs}"
        );
        for (doc, issuer) in [
            (&doc[..], "https://a.example/"),
            (br#"{"issuer": "https://a.example"}"#, "https://a.example"),
            (
                br#"{"issuer": "https://a.example", "jwks_uri": "http://a.example/jwks"}"#,
                "https://a.example",
            ),
        ] {
            assert!(
                jwks_uri(doc, issuer).is_err(),
                "{}",
                String::from_utf8_lossy(doc)
            );
        }
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("max-age=300, no-cache"), None);
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("public"), None);
    }

    #[test]
    fn key_sets_with_secrets_are_refused_and_unusable_keys_left_out() {
        let key = Key::generate(Algorithm::ES256).unwrap();
        let public = key.to_public_jwk().unwrap();
        let mut enc = public.clone();
        enc.kid = Some("enc".into());
        enc.use_ = Some("enc".into());
        let mut bare = public.clone();
        bare.kid = Some("bare".into());
        bare.alg = None;
        let set = JwkSet {
            keys: vec![public.clone(), enc, bare],
        };
        let (keys, skipped) = key_set(set.to_json().as_bytes()).unwrap();
        assert_eq!(keys.iter().count(), 1);
        assert_eq!(skipped.len(), 2, "{skipped:?}");

        let private = JwkSet {
            keys: vec![key.to_private_jwk()],
        };
        assert!(matches!(
            key_set(private.to_json().as_bytes()),
            Err(RemoteError::KeySet(_))
        ));
        let hmac = Key::generate(Algorithm::HS256).unwrap().to_private_jwk();
        let secret = JwkSet { keys: vec![hmac] };
        assert!(key_set(secret.to_json().as_bytes()).is_err());
        assert!(key_set(br#"{"keys": []}"#).is_err());
        assert!(
            key_set(br#"{"keys": [], "keys": []}"#).is_err(),
            "strict JSON"
        );
    }

    /// A loopback HTTP server answering its connections in turn with `answers` (raw HTTP;
    /// `None`: read the request and never answer). What each asked for, by path. Errors in
    /// it are ignored (the test's own assertions decide), so it never panics out of sight.
    async fn answering(answers: Vec<Option<Vec<u8>>>) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = paths.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            for answer in answers {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut request = vec![0; 4096];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let path = String::from_utf8_lossy(&request[..n])
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                seen.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(path);
                match answer {
                    Some(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    None => held.push(socket),
                }
            }
            std::future::pending::<()>().await;
        });
        (origin, paths)
    }

    fn ok(headers: &str, body: &[u8]) -> Option<Vec<u8>> {
        let mut answer =
            format!("HTTP/1.1 200 OK\r\nconnection: close\r\n{headers}\r\n").into_bytes();
        answer.extend_from_slice(body);
        Some(answer)
    }

    fn jwks() -> String {
        let key = Key::generate(Algorithm::ES256).unwrap();
        JwkSet {
            keys: vec![key.to_public_jwk().unwrap()],
        }
        .to_json()
    }

    fn url(origin: &str, path: &str) -> Url {
        Url::parse(&format!("{origin}{path}")).unwrap()
    }

    #[test]
    fn requests_time_out_after_10_s_and_read_at_most_256_kib_by_default() {
        let options = super::super::RemoteOptions::default();
        assert_eq!(
            (options.timeout, options.max_bytes),
            (Duration::from_secs(10), 256 * 1024)
        );
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let body = jwks();
        let (origin, paths) = answering(vec![
            Some(b"HTTP/1.1 302 Found\r\nlocation: /moved\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()),
            ok(&format!("content-length: {}\r\n", body.len()), body.as_bytes()),
        ])
        .await;
        let fetcher = Fetcher::new(Duration::from_secs(5), 1024).unwrap();
        let result = fetcher.get(&url(&origin, "/jwks")).await;
        assert!(
            matches!(result, Err(RemoteError::Status(302))),
            "{:?}",
            result.err()
        );
        assert_eq!(
            *paths.lock().unwrap(),
            ["/jwks"],
            "the Location was not asked"
        );
    }

    #[tokio::test]
    async fn a_silent_server_is_a_transport_error_at_the_timeout() {
        let (origin, _) = answering(vec![None]).await;
        let fetcher = Fetcher::new(Duration::from_millis(300), 1024).unwrap();
        let started = std::time::Instant::now();
        let result = fetcher.get(&url(&origin, "/jwks")).await;
        let waited = started.elapsed();
        assert!(
            matches!(result, Err(RemoteError::Transport(_))),
            "{:?}",
            result.err()
        );
        assert!(
            (Duration::from_millis(250)..Duration::from_secs(5)).contains(&waited),
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn answers_over_the_cap_are_refused_announced_or_not() {
        let cap = 1024;
        let chunked = |size: usize| {
            let mut answer =
                "HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
                    .to_owned();
            for chunk in [size / 2, size - size / 2] {
                answer.push_str(&format!("{chunk:x}\r\n{}\r\n", "x".repeat(chunk)));
            }
            answer.push_str("0\r\n\r\n");
            Some(answer.into_bytes())
        };
        let (origin, _) = answering(vec![
            ok(
                &format!("content-length: {}\r\n", cap + 1),
                &vec![b'x'; cap + 1],
            ),
            chunked(cap + 1),
            chunked(cap),
        ])
        .await;
        let fetcher = Fetcher::new(Duration::from_secs(5), cap).unwrap();
        for (what, expected) in [
            ("announced", Some(cap)),
            ("chunked", Some(cap)),
            ("at the cap", None),
        ] {
            let result = fetcher.get(&url(&origin, "/jwks")).await;
            match expected {
                Some(limit) => assert!(
                    matches!(result, Err(RemoteError::TooLarge(l)) if l == limit),
                    "{what}: {:?}",
                    result.err()
                ),
                None => assert_eq!(result.unwrap().body.len(), cap, "{what}"),
            }
        }
    }

    #[test]
    fn one_private_key_refuses_the_whole_set() {
        let public = Key::generate(Algorithm::ES256)
            .unwrap()
            .to_public_jwk()
            .unwrap();
        let private = Key::generate(Algorithm::EdDSA).unwrap().to_private_jwk();
        let set = JwkSet {
            keys: vec![public.clone(), private],
        };
        let result = key_set(set.to_json().as_bytes());
        assert_eq!(
            result.err(),
            Some(RemoteError::KeySet(
                "a key has private or symmetric members".into()
            )),
            "refused whole, not the private key dropped"
        );
        let alone = JwkSet { keys: vec![public] };
        assert!(
            key_set(alone.to_json().as_bytes()).is_ok(),
            "its public key alone is usable"
        );
    }
}
