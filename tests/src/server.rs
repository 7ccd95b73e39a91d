//! An in-process jwtkit server on a real loopback socket (127.0.0.1, port 0), reading time
//! from a clock the test moves by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jwtkit_core::{Clock, ClockError, UnixTime};
use jwtkit_server::config::{Config, ServeArgs, StoreLocation};
use jwtkit_server::serve::Listeners;
use tokio::sync::oneshot;

use crate::http::{Response, send};

/// The time every test server starts at (2027-01-15T08:00:00Z).
pub const START: i64 = 1_800_000_000;

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock reading [`START`].
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(START)))
    }

    /// Moves the clock by `secs` (either direction).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// The time, in whole seconds.
    pub fn now_secs(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// The time (panics when the clock was broken down).
    pub fn time(&self) -> UnixTime {
        self.now().unwrap()
    }

    /// Makes the clock unreadable (a negative reading), as a broken system clock is.
    pub fn break_down(&self) {
        self.0.store(-1, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Result<UnixTime, ClockError> {
        UnixTime::from_secs(self.now_secs()).ok_or(ClockError::Unavailable)
    }
}

/// A server running in this process on 127.0.0.1 port 0.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its `/metrics` is served (a loopback port of its own).
    pub metrics_addr: SocketAddr,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// Its configuration.
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _scratch: Scratch,
}

/// A directory of one test's own, removed when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new, empty directory under the system's temporary directory.
    pub fn new() -> Self {
        static COUNT: AtomicI64 = AtomicI64::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("jwtkit-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Best effort: a leftover directory in /tmp is harmless.
        std::fs::remove_dir_all(&self.0).ok();
    }
}

impl TestServer {
    /// Starts a server for `args` (which must be valid).
    pub async fn start(args: ServeArgs) -> Self {
        Self::start_config(args.resolve().expect("valid test configuration")).await
    }

    /// Starts a server for `args` listening on `bind` (e.g. `[::]:0`, a dual-stack socket).
    pub async fn start_on(args: ServeArgs, bind: &str) -> Self {
        let config = args.resolve().expect("valid test configuration");
        Self::start_config_on(config, bind).await
    }

    /// Starts a server for a resolved configuration. A relative SQLite store (the default)
    /// is placed in a directory of the test's own.
    pub async fn start_config(config: Config) -> Self {
        Self::start_config_on(config, "127.0.0.1:0").await
    }

    async fn start_config_on(mut config: Config, bind: &str) -> Self {
        let scratch = Scratch::new();
        if let StoreLocation::Sqlite(path) = &config.store
            && path.is_relative()
        {
            config.store = StoreLocation::Sqlite(scratch.path().join(path));
        }
        let clock = ManualClock::new();
        let listeners =
            Listeners::bind(bind.parse().unwrap(), Some("127.0.0.1:0".parse().unwrap()))
                .await
                .unwrap();
        // Where a client reaches it: a socket on every address is reached on loopback.
        let mut addr = listeners.api_addr().unwrap();
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let metrics_addr = listeners.metrics_addr().unwrap();
        // What the server itself makes of it: the public URL and issuer follow the address.
        let config = config.listening_on(addr);
        let (stop, stopped) = oneshot::channel::<()>();
        let served = config.clone();
        let shared: jwtkit_server::SharedClock = clock.clone();
        let task = tokio::spawn(async move {
            jwtkit_server::serve::serve(&served, listeners, shared, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            metrics_addr,
            clock,
            config,
            stop: Some(stop),
            task: Some(task),
            _scratch: scratch,
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

    /// `GET /metrics` from the metrics listener.
    pub async fn metrics(&self) -> Response {
        send(
            self.metrics_addr,
            b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        )
        .await
    }

    /// Sends these exact request bytes.
    pub async fn request(&self, raw: &str) -> Response {
        send(self.addr, raw.as_bytes()).await
    }

    /// `GET path` with these headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut raw = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str("\r\n");
        self.request(&raw).await
    }

    /// `POST path` with a JSON body.
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

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}
