//! The session benchmarks: refreshes per second (each client refreshing its own session in
//! a chain), and how long a logout at one instance takes to be enforced at another.

use std::time::{Duration, Instant};

use serde_json::json;

use super::http::{Client, login};

/// Concurrent clients of the refresh load.
const CLIENTS: usize = 8;
/// Seconds of refresh load.
const SECONDS: u64 = 5;
/// Logouts whose propagation is timed.
const PROPAGATIONS: usize = 20;

/// What a refresh run measured.
pub(super) struct RefreshFigures {
    pub(super) per_second: f64,
    pub(super) p50: Duration,
    pub(super) p99: Duration,
    pub(super) errors: usize,
}

/// `CLIENTS` threads, each logging in once and then refreshing in a chain for `SECONDS`.
pub(super) fn refresh_rate(addr: &str, key: &str) -> Result<RefreshFigures, String> {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (addr, key) = (addr.to_owned(), key.to_owned());
            std::thread::spawn(move || -> Result<(Vec<Duration>, usize), String> {
                let (_, mut token) = login(&addr, &key)?;
                let mut client = Client::connect(&addr)?;
                let (mut latencies, mut errors) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let start = Instant::now();
                    let (status, body) = client
                        .post_json("/api/v3/auth/refresh", &json!({ "refresh_token": token }))?;
                    latencies.push(start.elapsed());
                    match body["data"]["refresh_token"].as_str() {
                        Some(next) if status == 200 => token = next.to_owned(),
                        _ => {
                            errors += 1;
                            token = login(&addr, &key)?.1;
                        }
                    }
                }
                Ok((latencies, errors))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for thread in threads {
        let (mine, failed) = thread.join().map_err(|_| "a load thread panicked")??;
        latencies.extend(mine);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    Ok(RefreshFigures {
        per_second: latencies.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
        errors,
    })
}

/// Ends `count` sessions, so that the revocation view every request consults is not empty.
pub(super) fn revoke_sessions(addr: &str, key: &str, count: usize) -> Result<(), String> {
    let mut client = Client::connect(addr)?;
    for _ in 0..count {
        let (status, body) = client.post_json("/api/v3/auth", &json!({ "api-key": key }))?;
        let refresh = body["data"]["refresh_token"]
            .as_str()
            .ok_or_else(|| format!("auth answered {status}: {body}"))?;
        let (status, _) =
            client.post_json("/api/v3/auth/logout", &json!({ "refresh_token": refresh }))?;
        if status != 200 {
            return Err(format!("logout answered {status}"));
        }
    }
    Ok(())
}

/// Times, `PROPAGATIONS` times, a logout at `a` until `b` refuses the access token (which
/// it had verified and cached just before); returns the sorted times.
pub(super) fn propagation(a: &str, b: &str, key: &str) -> Result<Vec<Duration>, String> {
    let mut times = Vec::new();
    let mut at_b = Client::connect(b)?;
    for _ in 0..PROPAGATIONS {
        let (access, _) = login(a, key)?;
        let bearer = format!("Bearer {access}");
        let secret = |client: &mut Client| {
            client
                .request("GET", "/api/v3/secret", &[("Authorization", &bearer)], "")
                .map(|(status, _)| status)
        };
        if secret(&mut at_b)? != 200 {
            return Err("the second instance refuses a live token".to_owned());
        }
        let (status, _) = Client::connect(a)?.request(
            "POST",
            "/api/v3/auth/logout",
            &[("Authorization", &bearer)],
            "",
        )?;
        if status != 200 {
            return Err(format!("logout answered {status}"));
        }
        let start = Instant::now();
        while secret(&mut at_b)? != 401 {
            if start.elapsed() > Duration::from_secs(5) {
                return Err("a revocation did not reach the second instance in 5 s".to_owned());
            }
        }
        times.push(start.elapsed());
    }
    times.sort_unstable();
    Ok(times)
}
