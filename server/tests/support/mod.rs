//! Helpers of the server's integration tests: a real `redis-server` per test, the real
//! `jwtkit serve` process, and a one-request HTTP client.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A directory of the test's own, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new, empty directory: one of its own for every call, even with the same name.
    pub fn new(name: &str) -> Self {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("jwtkit-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to the file `name` in it; returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// What a run of the `jwtkit` binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `jwtkit COMMAND list --json --store STORE`: the JSON array it prints.
pub fn list_json(command: &str, store: &str) -> Vec<serde_json::Value> {
    let run = jwtkit(&[command, "list", "--json", "--store", store], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str::<serde_json::Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Runs the `jwtkit` binary with `args`, `stdin` (or none) on its standard input.
pub fn jwtkit(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwtkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        // A command refused before it reads its input has closed the pipe: its refusal is
        // what the test reads.
        match input.write_all(text.as_bytes()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of the test's own: loopback, a free port, a temporary directory, no
/// persistence; stopped by its PID.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: Scratch,
}

impl RedisServer {
    pub fn start(name: &str) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            dir: Scratch::new(&format!("redis-{name}")),
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts (again) on the same port, and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): install it with `cargo xtask test` \
                     (which installs what it needs) or `apt-get install redis-server`"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.answers() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {} does not answer", self.port);
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Closes every client connection (`CLIENT KILL TYPE normal`), as a network blip would.
    pub fn drop_clients(&self) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .write_all(b"CLIENT KILL TYPE normal SKIPME yes\r\n")
            .unwrap();
        let mut reply = [0u8; 1];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b":", "an integer reply");
    }

    /// Kills it (by its PID), as an outage would, and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A running `jwtkit serve --json` on a free loopback port.
pub struct Jwtkit {
    pub child: Child,
    pub addr: SocketAddr,
    /// What `--json` printed: {"url", "metrics", "demo_page", "development"}.
    pub started: serde_json::Value,
    /// Its log (standard error), drained as it comes so that it never blocks on a full pipe.
    logs: Arc<Mutex<String>>,
}

impl Jwtkit {
    /// Starts `jwtkit serve --json --bind 127.0.0.1:0 ARGS` and reads its one JSON line.
    pub fn start(args: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", args)
    }

    /// [`Jwtkit::start`] listening on `bind`.
    pub fn start_on(bind: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jwtkit"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["serve", "--json", "--bind", bind])
            .args(["--metrics-bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut logs = sink.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            std::thread::sleep(Duration::from_millis(200));
            panic!("jwtkit serve did not start ({e}): {}", logs.lock().unwrap())
        });
        let addr = started["url"]
            .as_str()
            .unwrap()
            .strip_prefix("http://")
            .unwrap()
            .parse()
            .unwrap();
        Self {
            child,
            addr,
            started,
            logs,
        }
    }

    /// One request; the status and the body as JSON (null when it is not).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, serde_json::Value) {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let response = http(self.addr, &raw);
        let status = response[9..12].parse().unwrap();
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (
            status,
            serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        )
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    }

    pub fn get(&self, path: &str, bearer: Option<&str>) -> (u16, serde_json::Value) {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request("GET", path, &headers, "")
    }

    /// `GET /metrics` from its metrics listener: the text.
    pub fn metrics(&self) -> String {
        let url = self.started["metrics"]
            .as_str()
            .expect("a metrics listener");
        let addr = url
            .strip_prefix("http://")
            .and_then(|rest| rest.strip_suffix("/metrics"))
            .unwrap()
            .parse()
            .unwrap();
        http(
            addr,
            "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
    }

    /// Stops it with SIGTERM (by its PID), waits for a clean exit; returns what it logged.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "a graceful shutdown exits 0: {exit:?}");
        std::thread::sleep(Duration::from_millis(100));
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Jwtkit {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// One request on a new connection (`Connection: close`), the whole response as text.
pub fn http(addr: SocketAddr, raw: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A DPoP proof (RFC 9449) by `key` for `method url`, made now, for `token` if given.
#[allow(dead_code)] // not every test binary makes proofs
pub fn dpop_proof(key: &jwtkit_core::Key, method: &str, url: &str, token: Option<&str>) -> String {
    let now = jwtkit_core::Clock::now(&jwtkit_server::SystemClock).unwrap();
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).unwrap();
    let jti: String = jti.iter().map(|b| format!("{b:02x}")).collect();
    let request = jwtkit_core::dpop::ProofRequest {
        method,
        uri: url,
        access_token: token,
        nonce: None,
    };
    jwtkit_core::dpop::sign_proof(key, &request, now, &jti).unwrap()
}
