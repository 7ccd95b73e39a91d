//! `cargo xtask bench-http`: release servers pinned to core 0, load generators on core 1,
//! on loopback, bounded in time:
//! - public vs protected endpoint throughput (wrk), latency and peak RSS, with a thousand
//!   revocations in force (so the revocation check is not the empty fast path);
//! - many clients: pools of distinct live tokens larger than the verified-token cache and
//!   within it, with the cache and without, for HS256, ES256 and RS256 server keys;
//! - refreshes per second on the SQLite store and on Redis (chained, `sessions`);
//! - how long a logout at one instance takes to be enforced at another on one Redis;
//! - sign-ins per second at the OpenID provider, and the protected endpoint's throughput
//!   under a flood of sign-ins (`signin`);
//! - the OpenID provider's code exchange, refresh, userinfo and introspection side by side
//!   with node-oidc-provider (`provider`).

mod dpop;
mod http;
mod pools;
mod provider;
mod server;
mod sessions;
mod signin;

use crate::cmd::{Cmd, step};
use crate::tools::{build_jwtkit, ensure_apt, workspace_root};
use pools::Pool;
use server::{Redis, Server};

/// The benchmark's API key (not the OpenID client's `client_id`, `bench`: a client_id may
/// not be an API key's name).
const API_KEY_NAME: &str = "bench-api";
/// Seconds of load per endpoint and round.
const SECONDS: u32 = 5;
/// Rounds over the three endpoints: interleaved, so that drift on a shared machine hits them
/// alike; the median ratio is reported.
const ROUNDS: usize = 5;
/// Concurrent connections of the load generator.
const CONNECTIONS: u32 = 32;
/// Sessions ended before the endpoint rounds.
const REVOKED: usize = 1000;
/// Distinct live tokens of the large pool (far more than the default cache holds: about
/// 1 500 of the server's tokens in 4 MiB) and of the small one (within it).
const LARGE_POOL: usize = 20_000;
const SMALL_POOL: usize = 1_000;

pub(super) struct Figures {
    pub(super) requests_per_second: f64,
    pub(super) p50: String,
    pub(super) p99: String,
    pub(super) errors: String,
}

/// What a load sends in `Authorization`.
#[derive(Clone, Copy)]
enum Bearer<'a> {
    None,
    Token(&'a str),
    Pool(&'a Pool),
    /// A wrk script that writes the whole request.
    Script(&'a std::path::Path),
    /// A DPoP-bound token with the proofs of a file, each once (`dpop.lua`).
    Dpop {
        script: &'a std::path::Path,
        proofs: &'a std::path::Path,
        token: &'a str,
    },
}

/// What `cargo xtask bench-http` measures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Everything.
    All,
    /// The OpenID provider beside node-oidc-provider.
    OpenId,
    /// DPoP beside bearer, on SQLite and on Redis.
    Dpop,
}

/// Every measurement, or one group of them.
pub(crate) fn bench_http(selection: Selection) -> Result<(), String> {
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
            .args(["keygen", "--api-key", API_KEY_NAME, "--json"])
            .output()?,
    )
    .map_err(|e| format!("keygen --json: {e}"))?;
    let (Some(api_key), Some(entry)) = (api["key"].as_str(), api["entry"].as_str()) else {
        return Err(format!("keygen --json printed no key and entry: {api}"));
    };
    let hs256 = keys.display().to_string();
    let sqlite = format!("sqlite:{}", dir.join("store.sqlite3").display());
    let args = |keys: &str, store: &str| -> Vec<String> {
        [
            "--token-ttl",
            "10m",
            "--auth-failure-limit",
            "1000000",
            "--keys",
            keys,
            "--api-key",
            entry,
            "--store",
            store,
            "--client",
            signin::CLIENT,
            // One issuer for every instance (a shared store requires it).
            "--issuer",
            "https://bench.jwtkit.example",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    match selection {
        Selection::OpenId => return openid_side_by_side(&jwtkit, &dir, &args, api_key),
        Selection::Dpop => {
            return dpop_beside_bearer(&jwtkit, &dir, &args, &hs256, &sqlite, api_key);
        }
        Selection::All => {}
    }
    step("the benchmark's person (jwtkit users add)");
    add_user(&jwtkit, &sqlite, signin::USERNAME)?;

    step("jwtkit serve on core 0 (HS256, SQLite store, loopback)");
    let server = Server::start(&jwtkit, "0", &args(&hs256, &sqlite))?;
    step(&format!(
        "ending {REVOKED} sessions (revocations in force during the rounds)"
    ));
    sessions::revoke_sessions(&server.addr, api_key, REVOKED)?;
    endpoint_rounds(&server, api_key)?;
    step(&format!(
        "many clients: minting pools of {LARGE_POOL} and {SMALL_POOL} tokens"
    ));
    let large = pools::mint(&dir, "hs256-large", &server.addr, api_key, LARGE_POOL)?;
    let small = pools::mint(&dir, "hs256-small", &server.addr, api_key, SMALL_POOL)?;
    step("the same server without its cache (--token-cache-mib 0), on the same store");
    let mut uncached_args = args(&hs256, &sqlite);
    uncached_args.extend(["--token-cache-mib".to_owned(), "0".to_owned()]);
    let uncached = Server::start(&jwtkit, "0", &uncached_args)?;
    many_clients("HS256", &server, Some(&uncached), api_key, &large, &small)?;
    drop(uncached);
    step("refreshes per second, SQLite store");
    let sqlite_refresh = sessions::refresh_rate(&server.addr, api_key)?;
    step(&format!(
        "sign-ins per second ({} clients), then /api/v3/secret alone and under a flood of {} signing-in clients",
        signin::CLIENTS,
        signin::FLOOD
    ));
    let sign_ins = signin::sign_in_rate(&server.addr)?;
    let (token, _) = http::login(&server.addr, api_key)?;
    let secret_url = format!("http://{}/api/v3/secret", server.addr);
    let alone = wrk(&secret_url, Bearer::Token(&token))?;
    let (flood, flooded) = signin::sign_ins(&server.addr, signin::FLOOD, || {
        wrk(&secret_url, Bearer::Token(&token))
    })?;
    drop(server);
    signin::report(&sign_ins, &alone, &flood, &flooded);

    openid_side_by_side(&jwtkit, &dir, &args, api_key)?;
    dpop_beside_bearer(&jwtkit, &dir, &args, &hs256, &sqlite, api_key)?;

    step("two jwtkit instances (cores 0 and 1) on one Redis");
    let redis = Redis::start(&dir.join("redis"))?;
    let a = Server::start(&jwtkit, "0", &args(&hs256, &redis.url))?;
    let b = Server::start(&jwtkit, "1", &args(&hs256, &redis.url))?;
    step("refreshes per second, Redis store");
    let redis_refresh = sessions::refresh_rate(&a.addr, api_key)?;
    step("revocation propagation: logout at A until B refuses the token");
    let times = sessions::propagation(&a.addr, &b.addr, api_key)?;
    drop((a, b, redis));

    for alg in ["ES256", "RS256"] {
        step(&format!("jwtkit serve on core 0 with an {alg} key"));
        let keys = dir.join(format!("{alg}.json"));
        let key_json = Cmd::new(&jwtkit).args(["keygen", "--alg", alg]).output()?;
        std::fs::write(&keys, key_json).map_err(|e| format!("{}: {e}", keys.display()))?;
        let store = format!("sqlite:{}", dir.join(format!("{alg}.sqlite3")).display());
        let server = Server::start(&jwtkit, "0", &args(&keys.display().to_string(), &store))?;
        let name = alg.to_lowercase();
        let large = pools::mint(
            &dir,
            &format!("{name}-large"),
            &server.addr,
            api_key,
            LARGE_POOL,
        )?;
        let small = pools::mint(
            &dir,
            &format!("{name}-small"),
            &server.addr,
            api_key,
            SMALL_POOL,
        )?;
        many_clients(alg, &server, None, api_key, &large, &small)?;
    }

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

/// DPoP beside bearer on the SQLite store and on Redis (each server on core 0).
fn dpop_beside_bearer(
    jwtkit: &std::path::Path,
    dir: &std::path::Path,
    args: &dyn Fn(&str, &str) -> Vec<String>,
    keys: &str,
    sqlite: &str,
    api_key: &str,
) -> Result<(), String> {
    step("DPoP beside bearer: jwtkit serve on core 0, SQLite store");
    let server = Server::start(jwtkit, "0", &args(keys, sqlite))?;
    let mut rows = dpop::rounds(jwtkit, dir, &server, api_key, "SQLite")?;
    drop(server);
    step("DPoP beside bearer: jwtkit serve on core 0, Redis store");
    let redis = Redis::start(&dir.join("redis-dpop"))?;
    let server = Server::start(jwtkit, "0", &args(keys, &redis.url))?;
    rows.extend(dpop::rounds(jwtkit, dir, &server, api_key, "Redis")?);
    drop(server);
    let parts = dpop::components(&redis.url)?;
    drop(redis);
    dpop::report(&rows, &parts);
    Ok(())
}

/// jwtkit's OpenID provider and node-oidc-provider, each on core 0 with the same EdDSA key
/// (its ID tokens' algorithm), the load on core 1.
fn openid_side_by_side(
    jwtkit: &std::path::Path,
    dir: &std::path::Path,
    args: &dyn Fn(&str, &str) -> Vec<String>,
    api_key: &str,
) -> Result<(), String> {
    step("jwtkit and node-oidc-provider side by side, with one EdDSA key");
    let e2e = workspace_root().join("tests/e2e");
    crate::wasm::npm_ci(&e2e)?;
    let keys = dir.join("eddsa.json");
    let key_json = Cmd::new(jwtkit)
        .args(["keygen", "--alg", "EdDSA"])
        .output()?;
    std::fs::write(&keys, key_json).map_err(|e| format!("{}: {e}", keys.display()))?;
    let sqlite = format!("sqlite:{}", dir.join("provider.sqlite3").display());
    // Redis on the server's core: the server and its store measured on one core, as the
    // peer and its in-memory state are.
    let redis = Redis::start_on(&dir.join("provider-redis"), Some("0"))?;
    for store in [&sqlite, &redis.url] {
        for n in 0..provider::PEOPLE {
            add_user(jwtkit, store, &provider::person(n))?;
        }
    }
    let keys = keys.display().to_string();
    let on_sqlite = Server::start(jwtkit, "0", &args(&keys, &sqlite))?;
    let on_redis = Server::start(jwtkit, "0", &args(&keys, &redis.url))?;
    let secret = "an introspection secret of the benchmark only";
    let peer = Server::node(
        &e2e.join("peers/oidc-provider.mjs"),
        "0",
        &[&keys, provider::REDIRECT, secret],
    )?;
    let ours = [
        provider::Provider::discover("jwtkit, SQLite", &on_sqlite.addr, (API_KEY_NAME, api_key))?,
        provider::Provider::discover("jwtkit, Redis", &on_redis.addr, (API_KEY_NAME, api_key))?,
    ];
    let theirs =
        provider::Provider::discover("oidc-provider", &peer.addr, ("introspector", secret))?;
    // The load generators' threads on core 1, as wrk is.
    let pid = std::process::id().to_string();
    Cmd::new("taskset")
        .args(["-a", "-cp", "1", &pid])
        .output()?;
    let measured = provider::side_by_side(dir, &ours, &theirs);
    Cmd::new("taskset")
        .args(["-a", "-cp", "0,1", &pid])
        .output()?;
    measured
}

/// A person of the benchmark, added to the store with `jwtkit users add` (the password on
/// standard input, as an operator gives it).
fn add_user(jwtkit: &std::path::Path, store: &str, username: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new(jwtkit)
        .args(["users", "add", username, "--store", store])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("jwtkit users add: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no standard input")?
        .write_all(format!("{}\n", signin::PASSWORD).as_bytes())
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("jwtkit users add exited with {status}"))
    }
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
            wrk(&home_url, Bearer::None)?,
            // The public endpoint sent the same Authorization header: the same bytes on the
            // wire and through the HTTP parser, so the difference to /secret is the auth
            // filter alone.
            wrk(&home_url, Bearer::Token(&token))?,
            wrk(&secret_url, Bearer::Token(&token))?,
        ]);
    }
    report(&rounds, &server.peak_rss());
    Ok(())
}

/// Many clients at `server` (and at `uncached`, the same without its cache), tokens minted
/// with the API key `key`: the public endpoint and the protected one sent the large pool in
/// turn, the protected one sent the
/// small pool and a single token, interleaved for `ROUNDS` rounds; medians, and each as a
/// share of the public endpoint's throughput.
fn many_clients(
    alg: &str,
    server: &Server,
    uncached: Option<&Server>,
    key: &str,
    large: &Pool,
    small: &Pool,
) -> Result<(), String> {
    let (token, _) = http::login(&server.addr, key)?;
    let url = |server: &Server, path: &str| format!("http://{}{path}", server.addr);
    let mut loads = vec![
        (
            "/api/v3/home, large pool".to_owned(),
            url(server, "/api/v3/home"),
            Bearer::Pool(large),
        ),
        (
            "/api/v3/secret, one token".to_owned(),
            url(server, "/api/v3/secret"),
            Bearer::Token(&token),
        ),
        (
            format!("/api/v3/secret, {} tokens", small.size),
            url(server, "/api/v3/secret"),
            Bearer::Pool(small),
        ),
        (
            format!("/api/v3/secret, {} tokens", large.size),
            url(server, "/api/v3/secret"),
            Bearer::Pool(large),
        ),
    ];
    if let Some(uncached) = uncached {
        for pool in [small, large] {
            loads.push((
                format!("no cache: /secret, {} tokens", pool.size),
                url(uncached, "/api/v3/secret"),
                Bearer::Pool(pool),
            ));
        }
    }
    let mut figures: Vec<Vec<Figures>> = loads.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for ((_, url, bearer), figures) in loads.iter().zip(&mut figures) {
            figures.push(wrk(url, *bearer)?);
        }
    }
    println!(
        "\n{alg}, many clients: median of {ROUNDS} rounds\nload                              req/s    / public   p50        p99        errors"
    );
    let public = median(
        &mut figures[0]
            .iter()
            .map(|f| f.requests_per_second)
            .collect::<Vec<_>>(),
    );
    for ((name, _, _), figures) in loads.iter().zip(&figures) {
        let rate = median(
            &mut figures
                .iter()
                .map(|f| f.requests_per_second)
                .collect::<Vec<_>>(),
        );
        let latency = |pick: fn(&Figures) -> &str| {
            let mut micros: Vec<f64> = figures.iter().filter_map(|f| micros(pick(f))).collect();
            format!("{:.0} µs", median(&mut micros))
        };
        let errors: Vec<&str> = figures
            .iter()
            .map(|f| f.errors.as_str())
            .filter(|e| *e != "none")
            .collect();
        println!(
            "{name:<32} {rate:>8.0}   {:>6.2}   {:>9}  {:>9}  {}",
            rate / public,
            latency(|f| &f.p50),
            latency(|f| &f.p99),
            if errors.is_empty() {
                "none".to_owned()
            } else {
                errors.join("; ")
            }
        );
    }
    println!("server peak RSS: {}", server.peak_rss());
    if let Some(uncached) = uncached {
        println!("server without cache, peak RSS: {}", uncached.peak_rss());
    }
    Ok(())
}

/// A wrk latency ("812.00us", "1.25ms", "2.01s") in microseconds.
fn micros(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e3)
    } else {
        (text.strip_suffix('s')?, 1e6)
    };
    number.parse::<f64>().ok().map(|n| n * scale)
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

fn wrk(url: &str, bearer: Bearer<'_>) -> Result<Figures, String> {
    let sending = match bearer {
        Bearer::None => String::new(),
        Bearer::Token(_) => ", one token".to_owned(),
        Bearer::Pool(pool) => format!(", {} tokens in turn", pool.size),
        Bearer::Script(script) => format!(", {}", script.display()),
        Bearer::Dpop { .. } => ", a DPoP-bound token, a fresh proof per request".to_owned(),
    };
    step(&format!(
        "wrk on core 1: {url} ({SECONDS} s, {CONNECTIONS} connections{sending})"
    ));
    let mut command = Cmd::new("taskset")
        .args(["-c", "1", "wrk", "-t1"])
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{SECONDS}s"))
        .arg("--latency");
    match bearer {
        Bearer::None => {}
        Bearer::Token(token) => {
            command = command.args(["-H", &format!("Authorization: Bearer {token}")]);
        }
        Bearer::Pool(pool) => command = command.arg("-s").arg(&pool.script),
        Bearer::Script(script) | Bearer::Dpop { script, .. } => {
            command = command.arg("-s").arg(script);
        }
    }
    command = command.arg(url);
    match bearer {
        Bearer::Pool(pool) => command = command.arg("--").arg(&pool.tokens),
        Bearer::Dpop { proofs, token, .. } => command = command.arg("--").arg(proofs).arg(token),
        _ => {}
    }
    let text = command.output()?;
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
