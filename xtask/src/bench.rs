//! `cargo xtask bench-http`: the release server pinned to one core, wrk on the other, on
//! loopback, bounded in time; public vs protected endpoint throughput, latency and peak RSS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Child;

use crate::cmd::{Cmd, step};
use crate::tools::{build_jwtkit, ensure_apt, workspace_root};

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
    ensure_apt(&[("wrk", "wrk")])?;
    let jwtkit = build_jwtkit(true)?;

    // HS256, as in the tutorial: a fresh key and API key made by the CLI itself.
    let keys = workspace_root().join("target/bench-hs256.json");
    let key_json = Cmd::new(&jwtkit)
        .args(["keygen", "--alg", "HS256"])
        .output()?;
    std::fs::write(&keys, key_json).map_err(|e| format!("{}: {e}", keys.display()))?;
    let api: serde_json::Value = serde_json::from_str(
        &Cmd::new(&jwtkit)
            .args(["keygen", "--api-key", "bench", "--json"])
            .output()?,
    )
    .map_err(|e| format!("keygen --json: {e}"))?;
    let (Some(api_key), Some(entry)) = (api["key"].as_str(), api["entry"].as_str()) else {
        return Err(format!("keygen --json printed no key and entry: {api}"));
    };

    step("starting jwtkit serve on core 0 (HS256, loopback)");
    let mut server = Cmd::new("taskset")
        .args(["-c", "0"])
        .arg(&jwtkit)
        .args([
            "serve",
            "--json",
            "--bind",
            "127.0.0.1:0",
            "--token-ttl",
            "10m",
        ])
        .args(["--api-key", entry])
        .arg("--keys")
        .arg(&keys)
        .env("JWTKIT_LOG", "warn")
        .spawn()?;
    let result = run_against(&mut server, api_key);
    // Stop what we started, by its PID, gracefully.
    let stopped = Cmd::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .output()
        .and_then(|_| server.wait().map_err(|e| e.to_string()));
    result.and(stopped.map(drop))
}

fn run_against(server: &mut Child, key: &str) -> Result<(), String> {
    let stdout = server.stdout.take().ok_or("no server output")?;
    let mut lines = BufReader::new(stdout).lines();
    let started = lines
        .next()
        .and_then(Result::ok)
        .ok_or("jwtkit serve --json printed nothing")?;
    let started: serde_json::Value =
        serde_json::from_str(&started).map_err(|e| format!("jwtkit serve --json: {e}"))?;
    let addr = started["url"]
        .as_str()
        .and_then(|url| url.strip_prefix("http://"))
        .ok_or_else(|| format!("no url from jwtkit serve --json: {started}"))?
        .to_owned();
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

/// POST /api/v3/auth over a plain socket; returns the token.
fn fetch_token(addr: &str, key: &str) -> Result<String, String> {
    let body = serde_json::json!({ "api-key": key }).to_string();
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
    let (_, body) = response
        .split_once("\r\n\r\n")
        .ok_or("no body in the auth response")?;
    let body: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("auth response: {e}"))?;
    body["data"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no token in the auth response: {body}"))
}

fn wrk(url: &str, token: Option<&str>) -> Result<Figures, String> {
    step(&format!(
        "wrk on core 1: {url} ({SECONDS} s, {CONNECTIONS} connections)"
    ));
    let mut command = Cmd::new("taskset")
        .args(["-c", "1", "wrk", "-t1"])
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{SECONDS}s"))
        .arg("--latency");
    if let Some(token) = token {
        command = command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let text = command.arg(url).output()?;
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
