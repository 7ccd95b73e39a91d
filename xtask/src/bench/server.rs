//! The processes the benchmarks start, and stop by their PIDs: release `jwtkit serve`
//! instances and a Node.js peer pinned to a core, and a `redis-server` of their own.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;

/// A running `jwtkit serve --json`.
pub(super) struct Server {
    pub(super) child: Child,
    pub(super) addr: String,
}

impl Server {
    /// `taskset -c CORE jwtkit serve --json --bind 127.0.0.1:0 ARGS`.
    pub(super) fn start(jwtkit: &Path, core: &str, args: &[String]) -> Result<Self, String> {
        let child = Cmd::new("taskset")
            .args(["-c", core])
            .arg(jwtkit)
            .args(["serve", "--json", "--bind", "127.0.0.1:0"])
            .args(["--metrics-bind", "127.0.0.1:0"])
            .args(args)
            .env("JWTKIT_LOG", "warn")
            .spawn()?;
        Self::started(child, "jwtkit serve --json")
    }

    /// `taskset -c CORE node SCRIPT ARGS`, a peer that prints {"url"} as its first line.
    pub(super) fn node(script: &Path, core: &str, args: &[&str]) -> Result<Self, String> {
        let child = Cmd::new("taskset")
            .args(["-c", core, "node"])
            .arg(script)
            .args(args)
            .spawn()?;
        Self::started(child, "the peer")
    }

    /// A server whose first line of output is {"url": "http://ADDR"}.
    fn started(mut child: Child, what: &str) -> Result<Self, String> {
        let started = child
            .stdout
            .take()
            .and_then(|stdout| BufReader::new(stdout).lines().next())
            .and_then(Result::ok);
        // From here on, a failure stops the process (Drop).
        let mut server = Self {
            child,
            addr: String::new(),
        };
        let started: serde_json::Value = started
            .and_then(|line| serde_json::from_str(&line).ok())
            .ok_or_else(|| format!("{what} printed no JSON line"))?;
        let addr = started["url"]
            .as_str()
            .and_then(|url| url.strip_prefix("http://"))
            .ok_or_else(|| format!("no url from {what}: {started}"))?;
        server.addr = addr.to_owned();
        Ok(server)
    }

    /// The peak resident set size, from `/proc`.
    pub(super) fn peak_rss(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            })
            .unwrap_or_else(|| "unknown".to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stop what we started, by its PID, gracefully; then reap it.
        let pid = self.child.id().to_string();
        if Cmd::new("kill").args(["-TERM", &pid]).output().is_ok() {
            self.child.wait().ok();
        }
    }
}

/// A `redis-server` on a free loopback port, without persistence.
pub(super) struct Redis {
    child: Child,
    pub(super) url: String,
}

impl Redis {
    pub(super) fn start(dir: &Path) -> Result<Self, String> {
        Self::start_on(dir, None)
    }

    /// A `redis-server` pinned to `core` when given (sharing it with a server: the server
    /// and its store measured on one core).
    pub(super) fn start_on(dir: &Path, core: Option<&str>) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let command = match core {
            Some(core) => Cmd::new("taskset").args(["-c", core, "redis-server"]),
            None => Cmd::new("redis-server"),
        };
        let child = command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir)
            .spawn()?;
        let redis = Self {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("redis-server does not answer".to_owned());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(redis)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        if Cmd::new("kill").args(["-TERM", &pid]).output().is_ok() {
            self.child.wait().ok();
        }
    }
}
