//! Sign-ins at the OpenID provider: how many per second the server completes (each an
//! argon2id hash at the OWASP parameters on the server's bounded hashing pool, a sign-in
//! written to the store and a code issued), and what a flood of them leaves of the protected
//! endpoint's throughput.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Figures;
use super::http::Client;

/// The benchmark's person and the public client it signs in to.
pub(super) const USERNAME: &str = "bench";
pub(super) const PASSWORD: &str = "correct horse battery staple";
pub(super) const CLIENT: &str = r#"{"client_id": "bench", "redirect_uris": ["http://127.0.0.1/callback"], "first_party": true}"#;
/// Concurrent clients signing in.
pub(super) const CLIENTS: usize = 4;
/// Clients flooding the server with sign-ins while the protected endpoint is loaded.
pub(super) const FLOOD: usize = 16;
/// Seconds of sign-in load.
const SECONDS: u64 = 5;

/// What a sign-in run measured.
pub(super) struct SignInFigures {
    pub(super) per_second: f64,
    pub(super) p50: Duration,
    pub(super) p99: Duration,
    pub(super) errors: usize,
}

const QUERY: &str = "client_id=bench&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&response_type=code\
&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

/// One client: the sign-in page once (its CSRF cookie and field), then the form posted in a
/// loop until `stop`; each answer's latency, and the errors.
fn sign_in_loop(addr: &str, stop: &AtomicBool) -> Result<(Vec<Duration>, usize), String> {
    let mut client = Client::connect(addr)?;
    let page = client.exchange("GET", &format!("/oauth2/authorize?{QUERY}"), &[], None, "")?;
    let cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .ok_or("the sign-in page set no CSRF cookie")?
        .to_owned();
    let at = page
        .body
        .find("name=\"csrf\" value=\"")
        .ok_or("the sign-in page has no CSRF field")?
        + 19;
    let csrf = page
        .body
        .get(at..at + 43)
        .ok_or("a short CSRF field")?
        .to_owned();
    let form = format!(
        "{QUERY}&csrf={csrf}&username={USERNAME}&password={}",
        PASSWORD.replace(' ', "+")
    );
    let (mut latencies, mut errors) = (Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let answer = client.exchange(
            "POST",
            "/oauth2/authorize",
            &[("Cookie", &cookie)],
            Some("application/x-www-form-urlencoded"),
            &form,
        )?;
        latencies.push(start.elapsed());
        if answer.status != 303 {
            errors += 1;
        }
    }
    Ok((latencies, errors))
}

/// `clients` threads signing in until `stop` is set (by `run`, which returns first).
pub(super) fn sign_ins<T>(
    addr: &str,
    clients: usize,
    run: impl FnOnce() -> Result<T, String>,
) -> Result<(SignInFigures, T), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (addr, stop) = (addr.to_owned(), stop.clone());
            std::thread::spawn(move || sign_in_loop(&addr, &stop))
        })
        .collect();
    let outcome = run();
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for thread in threads {
        let (mine, failed) = thread.join().map_err(|_| "a sign-in thread panicked")??;
        latencies.extend(mine);
        errors += failed;
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let figures = SignInFigures {
        per_second: latencies.len() as f64 / elapsed,
        p50: at(0.5),
        p99: at(0.99),
        errors,
    };
    Ok((figures, outcome?))
}

/// Sign-ins alone for `SECONDS`.
pub(super) fn sign_in_rate(addr: &str) -> Result<SignInFigures, String> {
    let (figures, ()) = sign_ins(addr, CLIENTS, || {
        std::thread::sleep(Duration::from_secs(SECONDS));
        Ok(())
    })?;
    Ok(figures)
}

/// Prints the sign-in figures: alone, and the protected endpoint alone and under the flood.
pub(super) fn report(
    alone: &SignInFigures,
    secret: &Figures,
    flood: &SignInFigures,
    flooded: &Figures,
) {
    println!(
        "\nsign-ins (argon2id, 19 MiB, t=2; server on one core): {:.1}/s, p50 {:.2?}, p99 {:.2?}, {} errors",
        alone.per_second, alone.p50, alone.p99, alone.errors
    );
    println!(
        "/api/v3/secret alone: {:.0} req/s (p99 {}); under {FLOOD} signing-in clients: {:.0} req/s (p99 {}), {:.2} of alone, while {:.1} sign-ins/s (p99 {:.2?}, {} errors)\n",
        secret.requests_per_second,
        secret.p99,
        flooded.requests_per_second,
        flooded.p99,
        flooded.requests_per_second / secret.requests_per_second,
        flood.per_second,
        flood.p99,
        flood.errors
    );
}
