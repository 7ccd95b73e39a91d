//! The server under load and faults, on loopback only, bounded in count and time: a mixed
//! load with zero 5xx and zero dropped connections and flat memory; idle connections that do
//! not starve active clients; oversized headers refused quickly; the /auth rate limit under a
//! brute-force loop; graceful shutdown finishing an in-flight request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jwtkit_core::Signer;
use jwtkit_e2e::http::send;
use jwtkit_e2e::server::TestServer;
use jwtkit_server::config::{ServeArgs, table};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 120;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn get(path: &str, token: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
}

fn post_auth(key: &str) -> String {
    let body = format!(r#"{{"api-key":"{key}"}}"#);
    format!(
        "POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One round of the mixed load; returns the count of each status (0 = no response).
async fn mixed_round(
    server: &TestServer,
    valid: &str,
    expired: &str,
    key: &str,
) -> BTreeMap<u16, usize> {
    let requests = [
        (get("/api/v3/secret", valid), 200),
        (get("/api/v3/secret", "not.a.token"), 401),
        (get("/api/v3/secret", expired), 401),
        (get("/api/v3/admin", valid), 403),
        (post_auth(key), 200),
        (
            "GET /api/v3/home HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_owned(),
            200,
        ),
    ];
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let addr = server.addr;
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = BTreeMap::new();
            for i in 0..REQUESTS_PER_CLIENT {
                let (raw, expected) = &requests[(client + i) % requests.len()];
                let response = send(addr, raw.as_bytes()).await;
                assert_eq!(response.status, *expected, "{}", response.body);
                *seen.entry(response.status).or_insert(0) += 1;
            }
            seen
        }));
    }
    let mut total = BTreeMap::new();
    for task in tasks {
        for (status, n) in task.await.unwrap() {
            *total.entry(status).or_insert(0) += n;
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_has_no_5xx_no_dropped_connections_and_flat_memory() {
    // One key logs in thousands of times: more live sessions than the default cap, which
    // would end the oldest — the one whose token the round keeps using.
    let server =
        TestServer::start(ServeArgs::default().with(&table::MAX_SESSIONS_PER_SUBJECT, "1000000"))
            .await;
    let key = server.dev_key("dev");
    let valid = server.token(&key).await;
    let now = server.clock.now_secs();
    let expired = Signer::new(server.config.signing.fixed().unwrap().1.clone())
        .typ("at+jwt")
        .sign(&json!({"iss": server.config.issuer, "aud": "jwtkit-api", "sub": "dev", "exp": now - 1}))
        .unwrap();
    let started = Instant::now();
    let warmup = mixed_round(&server, &valid, &expired, &key).await;
    let rss_after_warmup = rss_kib();
    let mut totals = warmup.clone();
    for _ in 0..3 {
        for (status, n) in mixed_round(&server, &valid, &expired, &key).await {
            *totals.entry(status).or_insert(0) += n;
        }
    }
    let rss_end = rss_kib();
    let requests: usize = totals.values().sum();
    let elapsed = started.elapsed();
    println!(
        "load: {requests} requests in {:.1} s ({:.0} req/s), statuses {totals:?}, RSS {rss_after_warmup} KiB after warm-up, {rss_end} KiB at the end",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(requests, 4 * CLIENTS * REQUESTS_PER_CLIENT);
    assert!(
        totals.keys().all(|status| *status < 500 && *status > 0),
        "{totals:?}"
    );
    // Flat memory: three more rounds after warm-up grow the whole test process by < 16 MiB.
    assert!(
        rss_end < rss_after_warmup + 16 * 1024,
        "{rss_after_warmup} KiB -> {rss_end} KiB"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_do_not_starve_active_clients() {
    let server = TestServer::start(ServeArgs::default()).await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        // Half a request line, then nothing: a slowloris client.
        stream
            .write_all(b"GET /api/v3/home HTTP/1.1\r\nHost:")
            .await
            .unwrap();
        idle.push(stream);
    }
    let started = Instant::now();
    for _ in 0..50 {
        let response = send(
            server.addr,
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(response.status, 200);
    }
    let elapsed = started.elapsed();
    println!(
        "50 requests beside 200 idle connections in {} ms",
        elapsed.as_millis()
    );
    assert!(elapsed < Duration::from_secs(10));
    drop(idle);
    server.stop().await;
}

#[tokio::test]
async fn oversized_headers_are_refused_quickly() {
    let server = TestServer::start(ServeArgs::default()).await;
    let started = Instant::now();
    let huge = format!(
        "GET /api/v3/home HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // The server may answer (and close) before the whole header is sent.
    let _ = stream.write_all(huge.as_bytes()).await;
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .unwrap();
    let head = String::from_utf8_lossy(&bytes);
    assert!(
        head.starts_with("HTTP/1.1 431"),
        "{}",
        &head[..head.len().min(200)]
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // A large Authorization header carrying an oversized token is a 401, not a crash.
    let token = format!("{}.{}.{}", "a".repeat(6000), "b".repeat(6000), "c");
    let response = server
        .get(
            "/api/v3/secret",
            &[("Authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(
        (response.status, response.code().as_str()),
        (401, "ERR_JWT_TOO_LARGE")
    );
    server.stop().await;
}

#[tokio::test]
async fn auth_rate_limit_holds_under_brute_force_and_recovers() {
    let args = ServeArgs::default()
        .with(&table::AUTH_FAILURE_LIMIT, "10")
        .with(&table::AUTH_FAILURE_WINDOW, "1m");
    let server = TestServer::start(args).await;
    let mut statuses = BTreeMap::new();
    for i in 0..200 {
        let response = server.request(&post_auth(&format!("jwtk_guess{i}"))).await;
        *statuses.entry(response.status).or_insert(0) += 1;
    }
    println!("brute force: {statuses:?}");
    assert_eq!(statuses, BTreeMap::from([(401, 10), (429, 190)]));
    server.clock.advance(60);
    assert_eq!(
        server.request(&post_auth("jwtk_guess")).await.status,
        401,
        "the window ended"
    );
    assert_eq!(
        server
            .request(&post_auth(&server.dev_key("dev")))
            .await
            .status,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_an_in_flight_request() {
    let mut server = TestServer::start(ServeArgs::default()).await;
    let request = post_auth(&server.dev_key("dev"));
    let (head, body) = request.split_at(request.len() - 10);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.signal_stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The request started before the shutdown: it completes.
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let addr = server.addr;
    tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .unwrap();
    // After shutdown nothing listens.
    assert!(TcpStream::connect(addr).await.is_err());
}
