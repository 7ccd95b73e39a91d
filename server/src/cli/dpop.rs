//! `jwtkit dpop proof`: a DPoP proof (RFC 9449) for one request, so that curl and scripts can
//! call what a DPoP-bound token protects.

use std::io::Write as _;
use std::path::PathBuf;

use jwtkit_core::dpop::{ProofRequest, sign_proof};

use super::token::now_or;
use super::{Failure, input};

/// DPoP (RFC 9449) for command-line clients: proofs of possession of your key.
#[derive(Debug, clap::Args)]
pub(crate) struct DpopArgs {
    #[command(subcommand)]
    command: DpopCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DpopCommand {
    /// Print a proof for one request, to send as its `DPoP` header (a new one for every
    /// request: a server accepts each proof once).
    Proof(ProofArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  jwtkit keygen --alg ES256 > dpop-key.json     # your key pair: keep it, it is what binds the tokens
  curl -X POST http://127.0.0.1:3030/api/v3/auth -H 'content-type: application/json' \\
    -H \"DPoP: $(jwtkit dpop proof --key dpop-key.json --method POST --url http://127.0.0.1:3030/api/v3/auth)\" \\
    -d '{\"api-key\": \"...\"}'
  curl http://127.0.0.1:3030/api/v3/secret -H \"Authorization: DPoP $TOKEN\" \\
    -H \"DPoP: $(jwtkit dpop proof --key dpop-key.json --method GET --url http://127.0.0.1:3030/api/v3/secret --token \"$TOKEN\")\"")]
struct ProofArgs {
    /// Your private key: a JWK or JWK Set file of an asymmetric algorithm (ES256, EdDSA,
    /// ES384, PS256, RS256), e.g. from `jwtkit keygen --alg ES256`.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The key's `kid`, in a set of several.
    #[arg(long, value_name = "ID")]
    kid: Option<String>,
    /// The request's method (`htm`).
    #[arg(long, value_name = "METHOD")]
    method: String,
    /// The request's URL (`htu`; a query and fragment are left out).
    #[arg(long, value_name = "URL")]
    url: String,
    /// The access token sent with the request (its hash is the proof's `ath`); `-` reads it
    /// from standard input.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// The server's nonce, when it asked for one (its `DPoP-Nonce` header).
    #[arg(long, value_name = "NONCE")]
    nonce: Option<String>,
    /// The time of the proof (`iat`), in seconds since 1970 [default: now].
    #[arg(long, value_name = "SECONDS")]
    now: Option<i64>,
    /// Print this many proofs for the same request, one per line, each with its own `jti`
    /// (for a script or a load test that sends the request several times).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    count: u32,
}

/// Runs `jwtkit dpop`.
pub(crate) fn dpop(args: &DpopArgs) -> Result<(), Failure> {
    let DpopCommand::Proof(args) = &args.command;
    let key = input::signing_key(&args.key, args.kid.as_deref())?;
    if !args.method.bytes().all(|b| b.is_ascii_uppercase()) || args.method.is_empty() {
        return Err(Failure::usage(format!(
            "--method {:?} is not an HTTP method: write it in capitals, e.g. GET or POST",
            args.method
        )));
    }
    let url = url::Url::parse(&args.url)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http") && url.has_host())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--url {:?} is not an http(s) URL: give the whole URL the request goes to, e.g. https://api.example/api/v3/secret",
                args.url
            ))
        })?;
    let mut htu = url.clone();
    htu.set_query(None);
    htu.set_fragment(None);
    let token = args.token.as_deref().map(input::token).transpose()?;
    let request = ProofRequest {
        method: &args.method,
        uri: htu.as_str(),
        access_token: token.as_deref(),
        nonce: args.nonce.as_deref(),
    };
    let now = now_or(args.now)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for _ in 0..args.count {
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|e| Failure::usage(format!("no randomness: {e}")))?;
        let jti = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, jti);
        let proof = sign_proof(&key, &request, now, &jti).map_err(|e| {
            Failure::usage(format!(
                "{}: {e} ({}); make a key pair with `jwtkit keygen --alg ES256`",
                args.key.display(),
                e.code()
            ))
        })?;
        writeln!(out, "{proof}").map_err(|e| Failure::usage(format!("cannot write: {e}")))?;
    }
    out.flush()
        .map_err(|e| Failure::usage(format!("cannot write: {e}")))?;
    Ok(())
}
