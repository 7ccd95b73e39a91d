//! Test helpers: a manual clock, an in-process server on a real loopback socket, and a
//! minimal HTTP/1.1 client that sends exactly the bytes a test asks for.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jwtkit_core::{Clock, UnixTime};
use jwtkit_server::config::{Config, ServeArgs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub const START: i64 = 1_800_000_000;

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(START)))
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    pub fn now_secs(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    pub fn now_secs_time(&self) -> UnixTime {
        self.now()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst)).unwrap()
    }
}

/// A server running in this process on 127.0.0.1 port 0.
pub struct TestServer {
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(args: ServeArgs) -> Self {
        Self::start_config(args.resolve().expect("valid test configuration")).await
    }

    pub async fn start_config(config: Config) -> Self {
        let clock = ManualClock::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = config.clone();
        let shared: jwtkit_server::SharedClock = clock.clone();
        let task = tokio::spawn(async move {
            jwtkit_server::serve::serve(&served, listener, shared, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            clock,
            config,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The plaintext of the generated development API key `name`.
    pub fn dev_key(&self, name: &str) -> String {
        let dev = self.config.dev.as_ref().expect("development setup");
        dev.api_keys
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap()
            .1
            .clone()
    }

    pub async fn request(&self, raw: &str) -> Response {
        send(self.addr, raw.as_bytes()).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut raw = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str("\r\n");
        self.request(&raw).await
    }

    pub async fn post_json(&self, path: &str, body: &str) -> Response {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
    }

    /// A token for the API key `key` (asserting success).
    pub async fn token(&self, key: &str) -> String {
        let response = self
            .post_json("/api/v3/auth", &format!(r#"{{"api-key":"{key}"}}"#))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["data"]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signals a graceful shutdown without waiting for it.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

pub async fn send(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes).await;
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Response {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|te| te == "chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}
