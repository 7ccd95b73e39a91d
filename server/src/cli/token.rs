//! `jwtkit issue`, `jwtkit decode` and `jwtkit verify`.

use std::path::PathBuf;
use std::time::Duration;

use jwtkit_core::{Algorithm, Clock, ParseOptions, UnixTime, Validation, Verifier, dangerous};
use jwtkit_server::SystemClock;
use jwtkit_server::issuer::TokenIssuer;
use jwtkit_server::keys::SigningKeys;
use jwtkit_server::remote::{RemoteError, RemoteKeys, RemoteOptions};
use jwtkit_server::time::{parse_duration, rfc3339};
use serde_json::{Map, Value, json};

use jwtkit_server::config::table::TOKEN_TTL;

use super::keygen::pretty;
use super::{Failure, input, seen};

/// Sign an access token (`typ: at+jwt`) with a key from a key file.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  jwtkit issue --keys key.json --sub billing --role admin
  jwtkit issue --keys key.json --sub ann --ttl 10m --claim tenant=acme --claim 'scopes=[\"read\"]'")]
pub(crate) struct IssueArgs {
    /// A JWK or JWK Set file; the signing key is the first private key (or --kid).
    #[arg(long, value_name = "FILE")]
    keys: PathBuf,
    /// The key to sign with.
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// The `sub` claim.
    #[arg(long, value_name = "SUBJECT")]
    sub: String,
    /// The `iss` claim (the default is the issuer of a `jwtkit serve` with the default
    /// settings; give a configured server's).
    #[arg(long, value_name = "ISSUER", default_value_t = jwtkit_server::config::default_issuer())]
    iss: String,
    /// The `aud` claim.
    #[arg(long, value_name = "AUDIENCE", default_value = "jwtkit-api")]
    aud: String,
    /// Lifetime, e.g. 3m, 90s, 1h; at most 24h, as the server's (a revocation is kept no
    /// longer).
    #[arg(long, value_name = "DURATION", default_value = "3m")]
    ttl: String,
    /// A role for the `roles` claim; repeatable.
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// An extra claim NAME=VALUE; VALUE is JSON when it parses as JSON, else a string. Repeatable.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
    /// Issue as of this time (seconds since the epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
}

/// Show a token's header and claims WITHOUT verifying anything.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  jwtkit decode eyJhbGciOi...
  pbpaste | jwtkit decode -")]
pub(crate) struct DecodeArgs {
    /// The token, or - to read it from standard input.
    token: String,
    /// Print {"verified": false, "header", "claims"} as JSON.
    #[arg(long)]
    json: bool,
    /// Judge expiry as of this time (seconds since the epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
}

/// Verify a token's signature and claims exactly as the server does.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit status: 0 verified (the claims are printed), 1 rejected (the error code and message are
printed), 2 usage or configuration error.

Examples:
  jwtkit verify \"$TOKEN\" --keys key.json --iss http://127.0.0.1:3030 --aud jwtkit-api --typ at+jwt --require sub
  jwtkit verify - --keys jwks.json --alg ES256 --now 1700000000 --json < token.txt
  jwtkit verify - --issuer https://auth.example --aud orders < token.txt
  jwtkit verify - --jwks-url https://auth.example/jwks.json --iss https://auth.example < token.txt")]
#[command(group = clap::ArgGroup::new("key_source").required(true).args(["keys", "jwks_url", "issuer"]))]
pub(crate) struct VerifyArgs {
    /// The token, or - to read it from standard input.
    token: String,
    /// A JWK or JWK Set file.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// The URL of a JWK Set to fetch the keys from (https, or http to loopback).
    #[arg(long, value_name = "URL")]
    jwks_url: Option<String>,
    /// An issuer whose keys to fetch by discovery (RFC 8414 or OpenID); also requires it as
    /// `iss`.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Allowed algorithm; repeatable. Also the algorithm of keys that name none.
    #[arg(long = "alg", value_name = "ALG")]
    algs: Vec<String>,
    /// Required `iss` [default: not checked].
    #[arg(long, value_name = "ISSUER")]
    iss: Option<String>,
    /// Required audience in `aud` [default: not checked].
    #[arg(long, value_name = "AUDIENCE")]
    aud: Option<String>,
    /// Required `typ` header, compared as a media type [default: not checked].
    #[arg(long, value_name = "TYPE")]
    typ: Option<String>,
    /// A claim that must be present; repeatable.
    #[arg(long = "require", value_name = "CLAIM")]
    require: Vec<String>,
    /// Clock-skew allowance, e.g. 30, 30s or 2m, as `jwtkit serve --leeway` (at most 10m).
    #[arg(long, value_name = "DURATION", default_value = "0")]
    leeway: String,
    /// Verify as of this time (seconds since the epoch): to reproduce a rejection from a log.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
    /// Refuse tokens longer than this many bytes.
    #[arg(long, value_name = "N", default_value_t = jwtkit_core::parse::DEFAULT_MAX_BYTES)]
    max_bytes: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// "HS256, HS384, ..., PS256": every algorithm jwtkit takes, as written.
pub(super) fn algorithm_names() -> String {
    Algorithm::ALL
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn now_or(now: Option<i64>) -> Result<UnixTime, Failure> {
    match now {
        None => SystemClock
            .now()
            .map_err(|e| Failure::usage(format!("{e} ({}); give the time with --now", e.code()))),
        Some(secs) => UnixTime::from_secs(secs).ok_or_else(|| {
            let hint = if secs > 253_402_300_799 && secs / 1000 <= 253_402_300_799 {
                ": this looks like milliseconds; give seconds (e.g. `date +%s`)"
            } else {
                ""
            };
            Failure::usage(format!("--now must be between 0 and 253402300799{hint}"))
        }),
    }
}

pub(crate) fn issue(args: &IssueArgs) -> Result<(), Failure> {
    let key = input::signing_key(&args.keys, args.kid.as_deref())?;
    let ttl = parse_duration(&args.ttl)
        .filter(|ttl| !ttl.is_zero())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--ttl {:?} is not a positive duration (e.g. 3m)",
                args.ttl
            ))
        })?;
    // As long as the server's longest token: revocations are remembered no longer.
    let (_, max) = TOKEN_TTL.range.durations().unwrap_or_default();
    if ttl > max {
        return Err(Failure::usage(format!(
            "--ttl {:?} is longer than {}h, the longest an access token may live (a revocation is remembered no longer); issue a shorter one",
            args.ttl,
            max.as_secs() / 3600
        )));
    }
    let mut extra = Map::new();
    for claim in &args.claims {
        let (name, value) = claim
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| Failure::usage(format!("--claim {claim:?} must be NAME=VALUE")))?;
        // JSON when it parses as JSON, else the text itself.
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        extra.insert(name.to_owned(), value);
    }
    let issuer = TokenIssuer::new(SigningKeys::single(key), &args.iss, &args.aud, ttl);
    let issued = issuer
        .issue_with_claims(&args.sub, &args.roles, &extra, now_or(args.now)?)
        .map_err(|e| {
            Failure::usage(format!(
                "cannot issue: {e}; --claim cannot set a claim that has its own flag"
            ))
        })?;
    println!("{}", issued.token);
    Ok(())
}

pub(crate) fn decode(args: &DecodeArgs) -> Result<(), Failure> {
    let token = input::token(&args.token)?;
    let decoded = match dangerous::decode_unverified(&token, &ParseOptions::default()) {
        Ok(decoded) => decoded,
        Err(error) => {
            let error = jwtkit_core::Error::from(error);
            let seen = seen::what_was_seen(&error, &token, None, None);
            report_rejection(&error, &seen, args.json);
            return Err(Failure::Rejected);
        }
    };
    let now = now_or(args.now)?;
    let header = Value::Object(decoded.header().members().clone());
    let claims = Value::Object(decoded.claims().members().clone());
    if args.json {
        println!(
            "{}",
            pretty(&json!({"verified": false, "header": header, "claims": claims}))?
        );
        return Ok(());
    }
    println!("UNVERIFIED: decoded only; the signature and claims were NOT checked.\n");
    println!("header:\n{}\n", pretty(&header)?);
    println!("claims:\n{}\n", pretty(&claims)?);
    for (name, time) in [
        ("issued", decoded.claims().iat()),
        ("not before", decoded.claims().nbf()),
    ] {
        if let Some(time) = time {
            println!("{name}: {}", describe(time, now));
        }
    }
    match (decoded.claims().exp(), decoded.seconds_until_expiry(now)) {
        (Some(exp), Some(left)) if left > 0.0 => {
            println!("expires in {} ({})", human(left), rfc3339(exp));
        }
        (Some(exp), Some(left)) => println!("expired {} ago ({})", human(-left), rfc3339(exp)),
        _ => println!("expiry: none (no \"exp\" claim)"),
    }
    Ok(())
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let algs = args
        .algs
        .iter()
        .map(|name| {
            name.parse::<Algorithm>().map_err(|_| {
                Failure::usage(format!(
                    "--alg {name:?} is not a supported algorithm: {}",
                    algorithm_names()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let default_alg = match algs.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let leeway = parse_duration(&args.leeway)
        .filter(|d| {
            d.subsec_nanos() == 0 && d.as_secs() <= u64::from(jwtkit_core::MAX_LEEWAY_SECONDS)
        })
        .ok_or_else(|| {
            Failure::usage(format!(
                "--leeway {:?} is not whole seconds from 0s to 10m: give e.g. 30, 30s or 2m",
                args.leeway
            ))
        })?;
    let mut policy = Validation::builder()
        .algorithms(algs)
        .leeway_seconds(leeway.as_secs() as u32)
        .max_token_bytes(args.max_bytes);
    let iss = match (&args.iss, &args.issuer) {
        (Some(iss), Some(issuer)) if iss != issuer => {
            return Err(Failure::usage(
                "--iss differs from --issuer, whose tokens name it as `iss`",
            ));
        }
        (iss, issuer) => iss.as_ref().or(issuer.as_ref()),
    };
    policy = match iss {
        Some(iss) => policy.expect_issuer(iss),
        None => policy.ignore_issuer(),
    };
    policy = match &args.aud {
        Some(aud) => policy.expect_audience(aud),
        None => policy.ignore_audience(),
    };
    policy = match &args.typ {
        Some(typ) => policy.expect_type(typ),
        None => policy.ignore_type(),
    };
    for claim in &args.require {
        policy = policy.require_claim(claim);
    }
    let policy = policy.build().map_err(|e| Failure::usage(e.to_string()))?;
    let options = RemoteOptions::default();
    let keys = match (&args.keys, &args.jwks_url, &args.issuer) {
        (Some(path), _, _) => input::keys(path, default_alg)?,
        (None, Some(url), _) => {
            fetched_keys(RemoteKeys::from_jwks_uri(url, policy.clone(), options))?
        }
        (None, None, Some(issuer)) => {
            fetched_keys(RemoteKeys::discover(issuer, policy.clone(), options))?
        }
        (None, None, None) => return Err(Failure::usage("give --keys, --jwks-url or --issuer")),
    };
    let token = input::token(&args.token)?;
    let now = now_or(args.now)?;
    let verifier = Verifier::new(keys, policy);
    match verifier.verify(&token, now) {
        Ok(verified) => {
            let claims = Value::Object(verified.claims().members().clone());
            if args.json {
                let header = Value::Object(verified.header().members().clone());
                println!(
                    "{}",
                    pretty(&json!({"verified": true, "header": header, "claims": claims}))?
                );
            } else {
                println!("{}", pretty(&claims)?);
                let unchecked: Vec<&str> = [
                    ("iss", &iss.cloned()),
                    ("aud", &args.aud),
                    ("typ", &args.typ),
                ]
                .into_iter()
                .filter(|(_, expected)| expected.is_none())
                .map(|(name, _)| name)
                .collect();
                if !unchecked.is_empty() {
                    eprintln!(
                        "verified; not checked (no flag given): {}",
                        unchecked.join(", ")
                    );
                }
            }
            Ok(())
        }
        Err(error) => {
            let expected = seen::Expected {
                iss: iss.map(String::as_str),
                aud: args.aud.as_deref(),
            };
            let seen =
                seen::what_was_seen(&error, &token, Some((verifier.keys(), expected)), Some(now));
            report_rejection(&error, &seen, args.json);
            Err(Failure::Rejected)
        }
    }
}

/// The keys a fetch brings (of a JWK Set URL, or of an issuer by discovery).
fn fetched_keys(
    fetch: impl std::future::Future<Output = Result<std::sync::Arc<RemoteKeys>, RemoteError>>,
) -> Result<jwtkit_core::KeySet, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))?;
    let remote = runtime
        .block_on(fetch)
        .map_err(|e| Failure::usage(format!("cannot fetch the keys: {e}")))?;
    // A fetch that succeeded brought keys.
    remote
        .keys()
        .ok_or_else(|| Failure::usage("cannot fetch the keys: none arrived"))
}

/// The rejection, and below it what was seen that explains it (`seen` in JSON).
fn report_rejection(error: &jwtkit_core::Error, seen: &[String], json: bool) {
    if json {
        println!(
            "{}",
            json!({
                "verified": false,
                "code": error.code(),
                "message": error.to_string(),
                "seen": seen,
            })
        );
    } else {
        eprintln!("rejected: {} ({})", error, error.code());
        for line in seen {
            eprintln!("  {line}");
        }
    }
}

fn describe(time: UnixTime, now: UnixTime) -> String {
    let delta = time.as_secs_f64() - now.as_secs_f64();
    let relative = if delta > 0.0 {
        format!("in {}", human(delta))
    } else {
        format!("{} ago", human(-delta))
    };
    format!("{} ({relative})", rfc3339(time))
}

/// Whole seconds as "2m 14s".
fn human(secs: f64) -> String {
    humantime::format_duration(Duration::from_secs(secs.round() as u64)).to_string()
}
