//! The limit on failed authentications, over real HTTP: per client address, in windows;
//! failures counted, never successes; the client named only by the forwarding header the
//! trusted proxies write; IPv4 peers of a dual-stack listener trusted as IPv4.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jwtkit_e2e::server::TestServer;
use jwtkit_server::config::{ServeArgs, table};

/// A wrong API key at `/api/v3/auth`, through `header` (name: value) when given.
async fn guess(server: &TestServer, header: Option<&str>) -> u16 {
    let header = header.map_or_else(String::new, |h| format!("{h}\r\n"));
    let raw = format!(
        "POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{header}Content-Type: application/json\r\nContent-Length: 24\r\n\r\n{{\"api-key\":\"jwtk_wrong\"}}"
    );
    server.request(&raw).await.status
}

#[tokio::test]
async fn failed_auth_attempts_are_rate_limited_per_address() {
    let args = ServeArgs::default()
        .with(&table::AUTH_FAILURE_LIMIT, "3")
        .with(&table::AUTH_FAILURE_WINDOW, "60s");
    let server = TestServer::start(args).await;
    for _ in 0..3 {
        let response = server
            .post_json("/api/v3/auth", r#"{"api-key":"jwtk_wrong"}"#)
            .await;
        assert_eq!(response.status, 401);
    }
    let limited = server
        .post_json("/api/v3/auth", r#"{"api-key":"jwtk_wrong"}"#)
        .await;
    assert_eq!(
        (limited.status, limited.code().as_str()),
        (429, "ERR_TOO_MANY_FAILED_ATTEMPTS")
    );
    assert_eq!(limited.header("retry-after"), Some("60"));
    // Even the right key waits: the limit is on the address, not the key.
    let right = server
        .post_json(
            "/api/v3/auth",
            &format!(r#"{{"api-key":"{}"}}"#, server.dev_key("dev")),
        )
        .await;
    assert_eq!(right.status, 429);
    server.clock.advance(60);
    let after = server
        .post_json(
            "/api/v3/auth",
            &format!(r#"{{"api-key":"{}"}}"#, server.dev_key("dev")),
        )
        .await;
    assert_eq!(after.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_cannot_overrun_the_limit() {
    let args = ServeArgs::default().with(&table::AUTH_FAILURE_LIMIT, "10");
    let server = TestServer::start(args).await;
    let guesses = (0..50).map(|_| server.post_json("/api/v3/auth", r#"{"api-key":"jwtk_wrong"}"#));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40);
    server.stop().await;
}

#[tokio::test]
async fn forwarded_clients_count_apart_only_through_trusted_proxies() {
    async fn attempt(server: &TestServer, client: &str) -> u16 {
        let raw = format!(
            "POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Forwarded-For: {client}\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{{\"api-key\":\"jwtk_wrong\"}}"
        );
        server.request(&raw).await.status
    }
    // The test client is 127.0.0.1: a trusted proxy here, so each forwarded client counts
    // on its own and one cannot lock out the other.
    let trusted = ServeArgs::default()
        .with(&table::AUTH_FAILURE_LIMIT, "2")
        .with(&table::TRUSTED_PROXIES, "127.0.0.1");
    let server = TestServer::start(trusted).await;
    for expected in [401, 401, 429] {
        assert_eq!(attempt(&server, "203.0.113.7").await, expected);
    }
    assert_eq!(attempt(&server, "203.0.113.8").await, 401);
    server.stop().await;
    // Untrusted, the header is the client's own word: ignored, everyone is 127.0.0.1.
    let untrusted = ServeArgs::default().with(&table::AUTH_FAILURE_LIMIT, "2");
    let server = TestServer::start(untrusted).await;
    for (client, expected) in [
        ("203.0.113.7", 401),
        ("203.0.113.8", 401),
        ("203.0.113.9", 429),
    ] {
        assert_eq!(attempt(&server, client).await, expected, "{client}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_clients_are_never_refused_for_their_successes() {
    // Forty valid logins at once from one address, with a limit of 3: successes are not
    // failures, so none is refused.
    let server =
        TestServer::start(ServeArgs::default().with(&table::AUTH_FAILURE_LIMIT, "3")).await;
    let body = format!(r#"{{"api-key":"{}"}}"#, server.dev_key("dev"));
    let logins = (0..40).map(|_| server.post_json("/api/v3/auth", &body));
    let statuses: Vec<u16> = futures_util::future::join_all(logins)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // Failures still count: the third makes the limit, the fourth is refused.
    for expected in [401, 401, 401, 429] {
        assert_eq!(guess(&server, None).await, expected);
    }
    server.stop().await;
}

#[tokio::test]
async fn only_the_forwarding_header_the_proxies_write_is_read() {
    // Behind a proxy that appends to one header and passes the other through, a client
    // writing the other must not pick its counter: it stays the same client. The header the
    // proxies write is read: another client named there counts apart.
    let args = ServeArgs::default()
        .with(&table::AUTH_FAILURE_LIMIT, "2")
        .with(&table::TRUSTED_PROXIES, "127.0.0.1");
    // The setting, and the headers of a request from `client` with `spoof` in the other.
    type Headers = fn(&str, u32) -> String;
    let cases: [(&str, Headers); 2] = [
        ("x-forwarded-for", |client, spoof| {
            format!("Forwarded: for=198.51.100.{spoof}\r\nX-Forwarded-For: {client}")
        }),
        ("forwarded", |client, spoof| {
            format!("Forwarded: for={client}\r\nX-Forwarded-For: 198.51.100.{spoof}")
        }),
    ];
    for (header, headers) in cases {
        let server = TestServer::start(args.clone().with(&table::FORWARDED_HEADER, header)).await;
        for (n, expected) in [(1, 401), (2, 401), (3, 429)] {
            let sent = headers("203.0.113.7", n);
            assert_eq!(
                guess(&server, Some(&sent)).await,
                expected,
                "{header}: guess {n}"
            );
        }
        let other = headers("203.0.113.8", 4);
        assert_eq!(
            guess(&server, Some(&other)).await,
            401,
            "{header}: another client behind the proxy"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn ipv4_proxies_are_trusted_on_a_dual_stack_listener() {
    // Listening on [::], the IPv4 proxy 127.0.0.1 arrives as ::ffff:127.0.0.1: still the
    // trusted proxy, so the clients it forwards count apart.
    let args = ServeArgs::default()
        .with(&table::AUTH_FAILURE_LIMIT, "1")
        .with(&table::TRUSTED_PROXIES, "127.0.0.1");
    let server = TestServer::start_on(args, "[::]:0").await;
    assert_eq!(
        guess(&server, Some("X-Forwarded-For: 203.0.113.7")).await,
        401
    );
    assert_eq!(
        guess(&server, Some("X-Forwarded-For: 203.0.113.7")).await,
        429
    );
    assert_eq!(
        guess(&server, Some("X-Forwarded-For: 203.0.113.8")).await,
        401,
        "another client behind the proxy"
    );
    server.stop().await;
}
