//! DPoP beside bearer: `/api/v3/secret` with an unbound token, and with a DPoP-bound token
//! and a fresh proof on every request (`dpop.lua` sends proofs made beforehand by `jwtkit
//! dpop proof --count`, each once), for ES256 and EdDSA proofs, in interleaved rounds. What a
//! proof adds per request is its signature check, its parse and the replay record's write
//! to the store; no cache can spare any of it.

use std::path::Path;

use super::http::Client;
use super::server::Server;
use super::{Bearer, SECONDS, median, wrk};
use crate::cmd::{Cmd, step};

/// Proofs made per round and algorithm: more than a round sends (a proof sent twice is a
/// refused replay, counted among the errors).
const PROOFS: u32 = 150_000;
/// Interleaved rounds; medians are reported.
const ROUNDS: usize = 3;
/// The proofs' algorithms.
const ALGORITHMS: [&str; 2] = ["ES256", "EdDSA"];

/// The wrk script: the bound token given after `--`, with the proofs of the file given
/// before it, each once (formatted in init, as the bearer loads' fixed header is).
const SCRIPT: &str = r#"-- jwtkit bench-http: a DPoP-bound token with a proof of its own per request.
local requests, at = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format(nil, nil, { Authorization = "DPoP " .. args[2], DPoP = line })
  end
end
function request()
  at = at % #requests + 1
  return requests[at]
end
"#;

/// One algorithm's medians at one store.
pub(super) struct Row {
    store: String,
    alg: &'static str,
    bearer: f64,
    dpop: f64,
    errors: String,
}

/// The rounds at `server` (on `store`), its API key `key`.
pub(super) fn rounds(
    jwtkit: &Path,
    dir: &Path,
    server: &Server,
    key: &str,
    store: &str,
) -> Result<Vec<Row>, String> {
    let script = dir.join("dpop.lua");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("{}: {e}", script.display()))?;
    let url = format!("http://{}/api/v3/secret", server.addr);
    let (bearer_token, _) = super::http::login(&server.addr, key)?;
    let mut bound = Vec::new();
    for alg in ALGORITHMS {
        let key_file = dir.join(format!("dpop-{alg}.json"));
        let jwk = Cmd::new(jwtkit).args(["keygen", "--alg", alg]).output()?;
        std::fs::write(&key_file, jwk).map_err(|e| format!("{}: {e}", key_file.display()))?;
        let token = bound_token(jwtkit, &key_file, &server.addr, key)?;
        bound.push((alg, key_file, token));
    }
    let mut bearer_rates = Vec::new();
    let mut dpop_rates: Vec<Vec<f64>> = vec![Vec::new(); ALGORITHMS.len()];
    let mut errors: Vec<Vec<String>> = vec![Vec::new(); ALGORITHMS.len()];
    for _ in 0..ROUNDS {
        bearer_rates.push(wrk(&url, Bearer::Token(&bearer_token))?.requests_per_second);
        for (i, (alg, key_file, token)) in bound.iter().enumerate() {
            step(&format!(
                "{PROOFS} {alg} proofs (jwtkit dpop proof --count)"
            ));
            let proofs = dir.join(format!("dpop-{alg}.proofs"));
            let text = Cmd::new(jwtkit)
                .args(["dpop", "proof", "--method", "GET", "--count"])
                .arg(PROOFS.to_string())
                .arg("--key")
                .arg(key_file)
                .args(["--url", &url, "--token", token])
                .output()?;
            std::fs::write(&proofs, text).map_err(|e| format!("{}: {e}", proofs.display()))?;
            let figures = wrk(
                &url,
                Bearer::Dpop {
                    script: &script,
                    proofs: &proofs,
                    token,
                },
            )?;
            dpop_rates[i].push(figures.requests_per_second);
            if figures.errors != "none" {
                errors[i].push(figures.errors);
            }
            if figures.requests_per_second * f64::from(SECONDS) > f64::from(PROOFS) {
                errors[i].push("more requests than proofs: replays were refused".to_owned());
            }
        }
    }
    let bearer = median(&mut bearer_rates);
    Ok(ALGORITHMS
        .iter()
        .enumerate()
        .map(|(i, alg)| Row {
            store: store.to_owned(),
            alg,
            bearer,
            dpop: median(&mut dpop_rates[i]),
            errors: if errors[i].is_empty() {
                "none".to_owned()
            } else {
                errors[i].join("; ")
            },
        })
        .collect())
}

/// A token bound to the key of `key_file`: `/api/v3/auth` with a proof.
fn bound_token(jwtkit: &Path, key_file: &Path, addr: &str, key: &str) -> Result<String, String> {
    let proof = Cmd::new(jwtkit)
        .args(["dpop", "proof", "--method", "POST", "--key"])
        .arg(key_file)
        .args(["--url", &format!("http://{addr}/api/v3/auth")])
        .output()?;
    let body = serde_json::json!({ "api-key": key }).to_string();
    let (status, text) =
        Client::connect(addr)?.request("POST", "/api/v3/auth", &[("DPoP", proof.trim())], &body)?;
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match (
        status,
        answer["data"]["token_type"].as_str(),
        answer["data"]["token"].as_str(),
    ) {
        (200, Some("DPoP"), Some(token)) => Ok(token.to_owned()),
        _ => Err(format!(
            "a bound token: /api/v3/auth answered {status}: {text}"
        )),
    }
}

/// What a proof's cost is judged against (issue 26: within 1.15× of the bare verification
/// plus the replay write), measured by criterion in the same run on core 0, in µs: the bare
/// aws-lc-rs verification and the whole proof check per algorithm, the write per store.
pub(super) struct Components {
    /// (alg, bare verification, `verify_proof`).
    verify: Vec<(&'static str, f64, f64)>,
    /// (store, one replay record written).
    write: Vec<(&'static str, f64)>,
}

/// Runs core's `DPoP proof` group and the server's `replays` bench (Redis at `redis_url`).
pub(super) fn components(redis_url: &str) -> Result<Components, String> {
    let root = crate::tools::workspace_root();
    let quick = ["--warm-up-time", "1", "--measurement-time", "3"];
    step("criterion: a proof's check beside the bare verification (core 0)");
    Cmd::new("taskset")
        .args([
            "-c",
            "0",
            "cargo",
            "bench",
            "-p",
            "jwtkit-core",
            "--features",
            "aws-lc",
        ])
        .args(["--bench", "jwt", "--", "DPoP proof"])
        .args(quick)
        .dir(&root)
        .run()?;
    step("criterion: the replay record's write, SQLite and Redis (core 0)");
    Cmd::new("taskset")
        .args([
            "-c",
            "0",
            "cargo",
            "bench",
            "-p",
            "jwtkit-server",
            "--bench",
            "replays",
            "--",
        ])
        .args(quick)
        .env("JWTKIT_BENCH_REDIS", redis_url)
        .dir(&root)
        .run()?;
    let median = |group: &str, function: &str| -> Result<f64, String> {
        let file = root.join(format!(
            "target/criterion/{group}/{function}/new/estimates.json"
        ));
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let estimates: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        estimates["median"]["point_estimate"]
            .as_f64()
            .map(|ns| ns / 1000.0)
            .ok_or_else(|| format!("{} has no median", file.display()))
    };
    let mut verify = Vec::new();
    for alg in ALGORITHMS {
        let group = format!("DPoP proof {alg}");
        verify.push((alg, median(&group, "floor")?, median(&group, "jwtkit")?));
    }
    let mut write = Vec::new();
    for (store, function) in [("SQLite", "sqlite"), ("Redis", "redis")] {
        write.push((store, median("DPoP replay write", function)?));
    }
    Ok(Components { verify, write })
}

/// The table: requests per second with each, what a proof adds to a request, and that
/// against the bare verification plus the replay write.
pub(super) fn report(rows: &[Row], parts: &Components) {
    println!(
        "\nDPoP beside bearer, /api/v3/secret, one core, median of {ROUNDS} rounds\n\
         store    proof   bearer/s   DPoP/s   added/request   bare verify   proof check   write     added / (verify + write)   errors"
    );
    for row in rows {
        let added = 1e6 / row.dpop - 1e6 / row.bearer;
        let (_, bare, check) = parts
            .verify
            .iter()
            .find(|(alg, _, _)| *alg == row.alg)
            .copied()
            .unwrap_or((row.alg, f64::NAN, f64::NAN));
        let write = parts
            .write
            .iter()
            .find(|(store, _)| *store == row.store)
            .map_or(f64::NAN, |(_, write)| *write);
        let ratio = added / (bare + write);
        println!(
            "{:<8} {:<6} {:>9.0} {:>9.0}   {:>8.1} µs   {:>8.1} µs   {:>8.1} µs   {:>5.1} µs   {:>6.2}× (target ≤ 1.15×: {})   {}",
            row.store,
            row.alg,
            row.bearer,
            row.dpop,
            added,
            bare,
            check,
            write,
            ratio,
            if ratio <= 1.15 { "yes" } else { "no" },
            row.errors
        );
    }
}
