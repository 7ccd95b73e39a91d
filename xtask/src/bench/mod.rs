//! `cargo xtask bench-http`: release servers pinned to core 0, load generators on core 1,
//! on loopback, bounded in time:
//! - public vs protected endpoint throughput (wrk), latency and peak RSS, with a thousand
//!   revocations in force (so the revocation check is not the empty fast path);
//! - refreshes per second on the SQLite store and on Redis (chained, `sessions`);
//! - how long a logout at one instance takes to be enforced at another on one Redis.

mod http;
mod server;
mod sessions;

use crate::cmd::{Cmd, step};
use crate::tools::{build_jwtkit, ensure_apt, workspace_root};
use server::{Redis, Server};

/// Seconds of load per endpoint and round.
const SECONDS: u32 = 5;
/// Rounds over the three endpoints: interleaved, so that drift on a shared machine hits them
/// alike; the median ratio is reported.
const ROUNDS: usize = 5;
/// Concurrent connections of the load generator.
const CONNECTIONS: u32 = 32;
/// Sessions ended before the endpoint rounds.
const REVOKED: usize = 1000;

struct Figures {
    requests_per_second: f64,
    p50: String,
    p99: String,
    errors: String,
}

pub(crate) fn bench_http() -> Result<(), String> {
    ensure_apt(&[("wrk", "wrk"), ("redis-server", "redis-server")])?;
    let jwtkit = build_jwtkit(true, None)?;
    let dir = workspace_root().join("target/bench");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    // HS256, as in the tutorial: a fresh key and API key made by the CLI itself.
    let keys = dir.join("hs256.json");
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
    let keys = keys.display().to_string();
    let sqlite = format!("sqlite:{}", dir.join("store.sqlite3").display());
    let args = |store: &str| -> Vec<String> {
        [
            "--token-ttl",
            "10m",
            "--auth-failure-limit",
            "1000000",
            "--keys",
            &keys,
            "--api-key",
            entry,
            "--store",
            store,
        ]
        .map(str::to_owned)
        .to_vec()
    };

    step("jwtkit serve on core 0 (HS256, SQLite store, loopback)");
    let server = Server::start(&jwtkit, "0", &args(&sqlite))?;
    step(&format!(
        "ending {REVOKED} sessions (revocations in force during the rounds)"
    ));
    sessions::revoke_sessions(&server.addr, api_key, REVOKED)?;
    endpoint_rounds(&server, api_key)?;
    step("refreshes per second, SQLite store");
    let sqlite_refresh = sessions::refresh_rate(&server.addr, api_key)?;
    drop(server);

    step("two jwtkit instances (cores 0 and 1) on one Redis");
    let redis = Redis::start(&dir.join("redis"))?;
    let a = Server::start(&jwtkit, "0", &args(&redis.url))?;
    let b = Server::start(&jwtkit, "1", &args(&redis.url))?;
    step("refreshes per second, Redis store");
    let redis_refresh = sessions::refresh_rate(&a.addr, api_key)?;
    step("revocation propagation: logout at A until B refuses the token");
    let times = sessions::propagation(&a.addr, &b.addr, api_key)?;
    drop((a, b, redis));

    println!("\nstore    refresh/s   p50        p99        errors");
    for (name, f) in [("SQLite", &sqlite_refresh), ("Redis", &redis_refresh)] {
        println!(
            "{name:<8} {:>9.0}   {:>8.2?}   {:>8.2?}   {}",
            f.per_second, f.p50, f.p99, f.errors
        );
    }
    println!(
        "revocation propagation between two instances: median {:.2?}, max {:.2?} ({} logouts)",
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    Ok(())
}

/// The public endpoint, the same with the protected route's header, and the protected one,
/// interleaved for `ROUNDS` rounds.
fn endpoint_rounds(server: &Server, key: &str) -> Result<(), String> {
    let (token, _) = http::login(&server.addr, key)?;
    let addr = &server.addr;
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
    report(&rounds, &server.peak_rss());
    Ok(())
}

fn report(rounds: &[[Figures; 3]], peak_rss: &str) {
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
        "protected / public throughput, median of {ROUNDS} rounds, {REVOKED} revocations in \
         force: {:.2} (/ public with the same header: {:.2}); server peak RSS: {peak_rss}",
        median(&mut ratios),
        median(&mut header_ratios)
    );
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
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
