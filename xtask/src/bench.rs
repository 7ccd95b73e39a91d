//! `cargo xtask bench-http`: the release server pinned to one core, wrk on the other, on
//! loopback, bounded in time; public vs protected endpoint throughput, latency and peak RSS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use crate::cmd::{Cmd, step};
use crate::tools::workspace_root;

/// Seconds of load per endpoint and round.
const SECONDS: u32 = 5;
/// Rounds over the three endpoints: interleaved, so that drift on a shared machine hits them
/// alike; the median ratio is reported.
const ROUNDS: usize = 3;
/// Concurrent connections of the load generator.
const CONNECTIONS: u32 = 32;

struct Figures {
    requests_per_second: f64,
    p50: String,
    p99: String,
    errors: String,
}

pub(crate) fn bench_http() -> Result<(), String> {
    let root = workspace_root();
    if Command::new("wrk").arg("--version").output().is_err() {
        step("installing wrk (Debian package)");
        Cmd::new("apt-get").arg("update").run()?;
        Cmd::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()?;
    }
    step("building the release server");
    Cmd::new("cargo")
        .args([
            "build",
            "--release",
            "-p",
            "jwtkit-server",
            "--bin",
            "jwtkit",
        ])
        .dir(&root)
        .run()?;

    // HS256, as in the tutorial: a fresh key and API key made by the CLI itself.
    let jwtkit = root.join("target/release/jwtkit");
    let keys = root.join("target/bench-hs256.json");
    let key_json = output(Command::new(&jwtkit).args(["keygen", "--alg", "HS256"]))?;
    std::fs::write(&keys, key_json).map_err(|e| format!("{}: {e}", keys.display()))?;
    let api = output(Command::new(&jwtkit).args(["keygen", "--api-key", "bench"]))?;
    let api_key = api
        .lines()
        .nth(1)
        .map(str::trim)
        .ok_or("no API key from keygen")?
        .to_owned();
    let entry = api
        .lines()
        .find_map(|l| l.trim().strip_prefix("--api-key '"))
        .and_then(|l| l.strip_suffix('\''))
        .ok_or("no API key entry from keygen")?
        .to_owned();

    step("starting jwtkit serve on core 0 (HS256, loopback)");
    let mut server = Command::new("taskset")
        .args(["-c", "0"])
        .arg(&jwtkit)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--token-ttl",
            "10m",
            "--api-key",
            &entry,
        ])
        .arg("--keys")
        .arg(&keys)
        .env("JWTKIT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start jwtkit: {e}"))?;
    let result = run_against(&mut server, &api_key);
    // Stop what we started, by its PID, gracefully.
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    result
}

fn run_against(server: &mut Child, key: &str) -> Result<(), String> {
    let stdout = server.stdout.take().ok_or("no server output")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split("listening on http://")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_owned)
        })
        .ok_or("no address in the banner")?;
    // Keep draining the banner pipe in the background.
    std::thread::spawn(move || lines.for_each(drop));
    let token = fetch_token(&addr, key)?;
    let (home_url, secret_url) = (
        format!("http://{addr}/api/v3/home"),
        format!("http://{addr}/api/v3/secret"),
    );
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        rounds.push([
            wrk(&home_url, None)?,
            // The public endpoint sent the same Authorization header: the same bytes on the
            // wire and through the HTTP parser, so the difference to /secret is the auth
            // filter alone.
            wrk(&home_url, Some(&token))?,
            wrk(&secret_url, Some(&token))?,
        ]);
    }
    let peak_rss = std::fs::read_to_string(format!("/proc/{}/status", server.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("\nround  endpoint                  req/s      p50       p99       errors");
    let names = ["/api/v3/home", "/api/v3/home + header", "/api/v3/secret"];
    let (mut ratios, mut header_ratios) = (Vec::new(), Vec::new());
    for (round, figures) in rounds.iter().enumerate() {
        for (name, f) in names.iter().zip(figures) {
            println!(
                "{:<6} {name:<24} {:>8.0}  {:>8}  {:>8}  {}",
                round + 1,
                f.requests_per_second,
                f.p50,
                f.p99,
                f.errors
            );
        }
        let [home, home_header, secret] = figures;
        ratios.push(secret.requests_per_second / home.requests_per_second);
        header_ratios.push(secret.requests_per_second / home_header.requests_per_second);
    }
    println!(
        "protected / public throughput, median of {ROUNDS} rounds: {:.2} (/ public with the \
         same header: {:.2}); server peak RSS: {peak_rss}",
        median(&mut ratios),
        median(&mut header_ratios)
    );
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The standard output of a successful command.
fn output(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// POST /api/v3/auth over a plain socket; returns the token.
fn fetch_token(addr: &str, key: &str) -> Result<String, String> {
    let body = format!(r#"{{"api-key":"{key}"}}"#);
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST /api/v3/auth HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let start = response
        .find("\"token\":\"")
        .ok_or("no token in the auth response")?
        + 9;
    let end = response[start..].find('"').ok_or("unterminated token")? + start;
    Ok(response[start..end].to_owned())
}

fn wrk(url: &str, token: Option<&str>) -> Result<Figures, String> {
    step(&format!(
        "wrk on core 1: {url} ({SECONDS} s, {CONNECTIONS} connections)"
    ));
    let mut command = Command::new("taskset");
    command
        .args(["-c", "1", "wrk", "-t1"])
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{SECONDS}s"))
        .arg("--latency");
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let output = command.arg(url).output().map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Figures {
        requests_per_second: field("Requests/sec:").parse().unwrap_or(0.0),
        p50: field("50%"),
        p99: field("99%"),
        errors: if errors.is_empty() {
            "none".to_owned()
        } else {
            errors
        },
    })
}
