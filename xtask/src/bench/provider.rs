//! The OpenID provider's endpoints side by side with node-oidc-provider (an OpenID Certified
//! provider, `tests/e2e/peers/oidc-provider.mjs`), each server alone on core 0, the same load
//! generators on core 1, rounds interleaved: codes exchanged, refresh tokens rotated in
//! chains, userinfo and introspection per second. Both sign ID tokens with the same EdDSA
//! key and rotate refresh tokens at every use; jwtkit's access tokens are signed JWTs (RFC
//! 9068) and its state is in SQLite, the peer's access tokens are opaque and its state in its
//! in-memory adapter. Sixteen people sign in once per round, and the codes go round them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::http::{Answer, Client};
use super::{Bearer, Figures, median, signin, wrk};
use crate::cmd::step;

/// The redirect URI of the benchmark's public client (never followed).
pub(super) const REDIRECT: &str = "http://127.0.0.1/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const QUERY: &str = "client_id=bench&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&response_type=code\
&scope=openid%20profile%20email&state=s&nonce=n\
&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
/// Codes minted, then exchanged, per round and provider.
const CODES: usize = 4000;
/// The people signed in, each with a browser of their own; codes go round them.
pub(super) const PEOPLE: usize = 16;
/// Concurrent clients of the code and refresh loads.
const CLIENTS: usize = 8;
/// Seconds of refresh load.
const SECONDS: u64 = 5;
/// Interleaved rounds; medians are reported.
const ROUNDS: usize = 3;

/// One provider under measurement: its address, endpoint paths and introspecting client.
pub(super) struct Provider {
    pub(super) name: &'static str,
    pub(super) addr: String,
    authorize: String,
    token: String,
    userinfo: String,
    introspect: String,
    /// `Authorization` of a client allowed to introspect.
    introspector: String,
}

impl Provider {
    /// The provider at `addr` as its discovery document describes it, `id:secret`
    /// introspecting.
    pub(super) fn discover(
        name: &'static str,
        addr: &str,
        introspector: (&str, &str),
    ) -> Result<Self, String> {
        let mut client = Client::connect(addr)?;
        let (status, body) = client.request("GET", "/.well-known/openid-configuration", &[], "")?;
        let metadata: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("{name} discovery: {e}"))?;
        if status != 200 {
            return Err(format!("{name} discovery answered {status}"));
        }
        let path = |key: &str| -> Result<String, String> {
            let url = metadata[key]
                .as_str()
                .ok_or_else(|| format!("{name}: no {key}"))?;
            let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
            Ok(rest.find('/').map_or("/", |at| &rest[at..]).to_owned())
        };
        Ok(Self {
            name,
            addr: addr.to_owned(),
            authorize: path("authorization_endpoint")?,
            token: path("token_endpoint")?,
            userinfo: path("userinfo_endpoint")?,
            introspect: path("introspection_endpoint")?,
            introspector: format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", introspector.0, introspector.1))
            ),
        })
    }
}

/// The cookies a browser holds for one provider.
#[derive(Default, Clone)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, answer: &Answer) {
        for (name, value) in &answer.headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.0.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    self.0.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Where a redirect goes: the path on the provider, or the client's URI with its query.
fn location(answer: &Answer) -> Option<&str> {
    matches!(answer.status, 302 | 303)
        .then(|| answer.header("location"))
        .flatten()
}

/// The `code` of a redirect to the client.
fn code_of(location: &str) -> Option<String> {
    let query = location.strip_prefix(REDIRECT)?.strip_prefix('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("code="))
        .map(str::to_owned)
}

/// The `n`th person of the benchmark.
pub(super) fn person(n: usize) -> String {
    format!("{}-{n}", signin::USERNAME)
}

/// The authorization request of `person`'s browser.
fn query(person: &str) -> String {
    format!("{QUERY}&login_hint={person}")
}

/// `person`'s browser signing in once, as the provider asks (jwtkit's form; the peer's
/// interaction, which completes at once): its cookies then get a code without a page.
fn sign_in(provider: &Provider, person: &str) -> Result<Jar, String> {
    let mut client = Client::connect(&provider.addr)?;
    let mut jar = Jar::default();
    let query = query(person);
    let mut next = format!("{}?{query}", provider.authorize);
    for _ in 0..6 {
        let cookie = jar.header();
        let answer = client.exchange("GET", &next, &[("Cookie", &cookie)], None, "")?;
        jar.keep(&answer);
        let answer = match answer.body.find("name=\"csrf\" value=\"") {
            Some(at) if answer.status == 200 => {
                let csrf = answer.body.get(at + 19..at + 19 + 43).unwrap_or_default();
                let form = format!(
                    "{query}&csrf={csrf}&username={person}&password={}",
                    signin::PASSWORD.replace(' ', "+")
                );
                let cookie = jar.header();
                let posted = client.exchange(
                    "POST",
                    &provider.authorize,
                    &[("Cookie", &cookie)],
                    Some("application/x-www-form-urlencoded"),
                    &form,
                )?;
                jar.keep(&posted);
                posted
            }
            _ => answer,
        };
        match location(&answer) {
            Some(to) if to.starts_with(REDIRECT) => return Ok(jar),
            Some(to) => {
                next = match to.split_once("://") {
                    Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]).to_owned(),
                    None => to.to_owned(),
                };
            }
            None => {
                return Err(format!(
                    "{}: signing in stopped at {} {}",
                    provider.name,
                    answer.status,
                    answer.body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    Err(format!("{}: signing in took too many steps", provider.name))
}

/// `work(thread index, client)` on `CLIENTS` threads with a connection each; their results.
fn on_threads<T: Send + 'static>(
    addr: &str,
    work: impl Fn(usize, &mut Client) -> Result<T, String> + Send + Sync + 'static,
) -> Result<Vec<T>, String> {
    let work = Arc::new(work);
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (addr, work) = (addr.to_owned(), work.clone());
            std::thread::spawn(move || work(i, &mut Client::connect(&addr)?))
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().map_err(|_| "a load thread panicked".to_owned())?)
        .collect()
}

/// `CODES` codes, round the people of `jars` (their browsers).
fn mint_codes(provider: &Provider, jars: &[(String, Jar)]) -> Result<Vec<String>, String> {
    let requests: Arc<Vec<(String, String)>> = Arc::new(
        jars.iter()
            .map(|(person, jar)| {
                (
                    format!("{}?{}", provider.authorize, query(person)),
                    jar.header(),
                )
            })
            .collect(),
    );
    let per_thread = CODES / CLIENTS;
    let minted = on_threads(&provider.addr, move |i, client| {
        (0..per_thread)
            .map(|k| {
                let (path, cookie) = &requests[(i * per_thread + k) % requests.len()];
                let answer = client.exchange("GET", path, &[("Cookie", cookie)], None, "")?;
                location(&answer)
                    .and_then(code_of)
                    .ok_or_else(|| format!("no code: {} {}", answer.status, answer.body))
            })
            .collect::<Result<Vec<_>, String>>()
    })?;
    Ok(minted.into_iter().flatten().collect())
}

/// What a timed run of requests did.
struct Run {
    per_second: f64,
    errors: usize,
    /// The first refusal's status and body.
    first_error: Option<String>,
}

/// Every code exchanged once (`CLIENTS` at a time); the rate, and each thread's first
/// (access token, refresh token).
fn exchange(
    provider: &Provider,
    codes: Vec<String>,
) -> Result<(Run, Vec<(String, String)>), String> {
    let shares: Arc<Vec<Vec<String>>> = Arc::new(
        (0..CLIENTS)
            .map(|i| codes.iter().skip(i).step_by(CLIENTS).cloned().collect())
            .collect(),
    );
    let token = provider.token.clone();
    let started = Instant::now();
    let results = on_threads(&provider.addr, move |i, client| {
        let mut first = None;
        let (mut errors, mut first_error) = (0, None);
        for code in &shares[i] {
            let form = format!(
                "grant_type=authorization_code&client_id=bench&code={code}\
                 &redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_verifier={VERIFIER}"
            );
            let answer = client.exchange(
                "POST",
                &token,
                &[],
                Some("application/x-www-form-urlencoded"),
                &form,
            )?;
            let tokens: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
            match (
                tokens["access_token"].as_str(),
                tokens["refresh_token"].as_str(),
            ) {
                (Some(access), Some(refresh))
                    if answer.status == 200 && tokens["id_token"].is_string() =>
                {
                    first.get_or_insert((access.to_owned(), refresh.to_owned()));
                }
                _ => {
                    errors += 1;
                    first_error.get_or_insert(format!("{} {}", answer.status, answer.body));
                }
            }
        }
        let first = first.ok_or_else(|| {
            format!(
                "no code was exchanged: {}",
                first_error.clone().unwrap_or_default()
            )
        })?;
        Ok((first, errors, first_error))
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let errors = results.iter().map(|(_, e, _)| e).sum();
    let first_error = results.iter().find_map(|(_, _, f)| f.clone());
    let tokens = results.into_iter().map(|(t, _, _)| t).collect();
    Ok((
        Run {
            per_second: codes.len() as f64 / elapsed,
            errors,
            first_error,
        },
        tokens,
    ))
}

/// Each thread rotating its refresh token in a chain for `SECONDS`.
fn refresh(provider: &Provider, tokens: &[(String, String)]) -> Result<Run, String> {
    let starts: Arc<Vec<String>> = Arc::new(tokens.iter().map(|(_, r)| r.clone()).collect());
    let token_path = provider.token.clone();
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let results = on_threads(&provider.addr, move |i, client| {
        let mut token = starts[i].clone();
        let (mut done, mut errors, mut first_error) = (0usize, 0usize, None);
        while Instant::now() < deadline {
            let form = format!("grant_type=refresh_token&client_id=bench&refresh_token={token}");
            let answer = client.exchange(
                "POST",
                &token_path,
                &[],
                Some("application/x-www-form-urlencoded"),
                &form,
            )?;
            done += 1;
            let tokens: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
            match tokens["refresh_token"].as_str() {
                Some(next) if answer.status == 200 => token = next.to_owned(),
                _ => {
                    // The chain is broken: this client stops.
                    errors += 1;
                    first_error = Some(format!("{} {}", answer.status, answer.body));
                    break;
                }
            }
        }
        Ok((done, errors, first_error))
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Run {
        per_second: results.iter().map(|(d, _, _)| d).sum::<usize>() as f64 / elapsed,
        errors: results.iter().map(|(_, e, _)| e).sum(),
        first_error: results.iter().find_map(|(_, _, f)| f.clone()),
    })
}

/// The wrk script that introspects `token` as the provider's introspecting client.
fn introspection_script(
    dir: &Path,
    provider: &Provider,
    token: &str,
) -> Result<std::path::PathBuf, String> {
    let name: String = provider
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let script = dir.join(format!("introspect-{name}.lua"));
    let text = format!(
        "-- jwtkit bench-http: one introspection request, sent again and again.\n\
         wrk.method = \"POST\"\n\
         wrk.body = \"token={token}\"\n\
         wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
         wrk.headers[\"Authorization\"] = \"{}\"\n",
        provider.introspector
    );
    std::fs::write(&script, text).map_err(|e| format!("{}: {e}", script.display()))?;
    Ok(script)
}

/// One round's figures for one provider.
struct Round {
    exchange: Run,
    refresh: Run,
    userinfo: Figures,
    introspection: Figures,
}

fn round(dir: &Path, provider: &Provider) -> Result<Round, String> {
    step(&format!(
        "{}: {PEOPLE} people signing in, {CODES} codes minted",
        provider.name
    ));
    let jars = (0..PEOPLE)
        .map(|n| Ok((person(n), sign_in(provider, &person(n))?)))
        .collect::<Result<Vec<_>, String>>()?;
    let codes = mint_codes(provider, &jars)?;
    step(&format!(
        "{}: {CODES} codes exchanged by {CLIENTS} clients",
        provider.name
    ));
    let (exchange, tokens) = exchange(provider, codes)?;
    step(&format!(
        "{}: refresh tokens rotated in {CLIENTS} chains for {SECONDS} s",
        provider.name
    ));
    let refresh = refresh(provider, &tokens)?;
    let access = &tokens[0].0;
    let mut probe = Client::connect(&provider.addr)?;
    let bearer = format!("Bearer {access}");
    let answer = probe.exchange(
        "GET",
        &provider.userinfo,
        &[("Authorization", &bearer)],
        None,
        "",
    )?;
    if answer.status != 200 {
        println!(
            "{}: userinfo answers {} {}",
            provider.name, answer.status, answer.body
        );
    }
    let userinfo = wrk(
        &format!("http://{}{}", provider.addr, provider.userinfo),
        Bearer::Token(access),
    )?;
    let script = introspection_script(dir, provider, access)?;
    let introspection = wrk(
        &format!("http://{}{}", provider.addr, provider.introspect),
        Bearer::Script(&script),
    )?;
    Ok(Round {
        exchange,
        refresh,
        userinfo,
        introspection,
    })
}

/// `ROUNDS` interleaved rounds at each of `ours` and at `peer`; the table of medians, and of
/// each of ours against the peer.
pub(super) fn side_by_side(dir: &Path, ours: &[Provider], peer: &Provider) -> Result<(), String> {
    let mut rounds: Vec<Vec<Round>> = Vec::new();
    for _ in 0..ROUNDS {
        let mut round_of_all = Vec::new();
        for provider in ours.iter().chain([peer]) {
            round_of_all.push(round(dir, provider)?);
        }
        rounds.push(round_of_all);
    }
    let providers: Vec<&Provider> = ours.iter().chain([peer]).collect();
    for round_of_all in &rounds {
        for (provider, round) in providers.iter().zip(round_of_all) {
            for (what, run) in [
                ("code exchange", &round.exchange),
                ("refresh", &round.refresh),
            ] {
                if let Some(error) = &run.first_error {
                    let error: String = error.chars().take(300).collect();
                    println!("{} {what}: first refusal {error}", provider.name);
                }
            }
        }
    }
    println!("\nOpenID provider endpoints, each server on one core, median of {ROUNDS} rounds");
    let mut header = format!("{:<20}", "endpoint");
    for provider in &providers {
        header.push_str(&format!(" {:>15}", provider.name));
    }
    for provider in ours {
        header.push_str(&format!(
            " {:>15}",
            format!("{} ×", provider.name.trim_start_matches("jwtkit, "))
        ));
    }
    println!("{header}   errors");
    type Pick = fn(&Round) -> (f64, String);
    let rows: [(&str, Pick); 4] = [
        ("code exchange", |r| {
            (r.exchange.per_second, r.exchange.errors.to_string())
        }),
        ("refresh (rotating)", |r| {
            (r.refresh.per_second, r.refresh.errors.to_string())
        }),
        ("userinfo", |r| {
            (r.userinfo.requests_per_second, r.userinfo.errors.clone())
        }),
        ("introspection", |r| {
            (
                r.introspection.requests_per_second,
                r.introspection.errors.clone(),
            )
        }),
    ];
    let peer_at = providers.len() - 1;
    for (name, pick) in rows {
        let mut line = format!("{name:<20}");
        for at in 0..providers.len() {
            let mut rates: Vec<f64> = rounds.iter().map(|r| pick(&r[at]).0).collect();
            line.push_str(&format!(" {:>13.0}/s", median(&mut rates)));
        }
        for at in 0..ours.len() {
            let mut ratios: Vec<f64> = rounds
                .iter()
                .map(|r| pick(&r[at]).0 / pick(&r[peer_at]).0)
                .collect();
            line.push_str(&format!(" {:>14.2}×", median(&mut ratios)));
        }
        let errors: Vec<String> = rounds
            .iter()
            .flat_map(|r| r.iter().map(|round| pick(round).1))
            .filter(|e| e != "0" && e != "none")
            .collect();
        println!(
            "{line}   {}",
            if errors.is_empty() {
                "none".to_owned()
            } else {
                errors.join("; ")
            }
        );
    }
    Ok(())
}
