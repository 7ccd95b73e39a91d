//! `jwtkit keys`: the signing keys jwtkit keeps in the store (`jwtkit serve` with
//! `key_encryption_key`), listed, published, rotated, retired or imported. Every change is
//! written with the servers' own compare-and-set, and every server on the store takes it up
//! at its next read of the store (within a minute).

use std::path::PathBuf;

use clap::Subcommand;
use jwtkit_core::{Algorithm, UnixTime};
use jwtkit_server::config::table::{
    KEY_ALGORITHM, KEY_ANNOUNCEMENT_PERIOD, KEY_ENCRYPTION_KEY, STORE,
};
use jwtkit_server::keys::edit::{self, EditError};
use jwtkit_server::keys::{Kek, KeyRing};
use jwtkit_server::store::{self, Store};
use jwtkit_server::time::{parse_duration, rfc3339};
use serde_json::json;

use super::{Failure, input, on_store};

/// List, publish, rotate, retire or import the signing keys kept in the store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The keys are those `jwtkit serve --key-encryption-key` generates and rotates in the store
(none are there while keys are configured with --keys or --secret). A key is next (published,
not yet signing), current (signing) or retired (published, no longer signing).

Examples:
  jwtkit keys list
  jwtkit keys export-public > jwks.json   # the public JWK Set the servers publish
  jwtkit keys rotate                     # the next key signs once announced in full
  jwtkit keys rotate --now               # at once (resource servers fetch it on its first token)
  jwtkit keys retire KID                 # a compromised key: its tokens are refused from then on
  jwtkit keys import key.json            # a private JWK, announced in full before it signs")]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    /// The store: sqlite:FILE or redis://HOST:PORT[/DB] [default: the server's default]
    #[arg(long, env = STORE.env, global = true, value_name = "URL", hide_env_values = true)]
    store: Option<String>,
    /// How long a key is published before it signs: the servers' key_announcement_period.
    #[arg(
        long,
        env = KEY_ANNOUNCEMENT_PERIOD.env,
        global = true,
        value_name = "DURATION",
        default_value = KEY_ANNOUNCEMENT_PERIOD.default
    )]
    key_announcement_period: String,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// The keys in the store: kid, algorithm, phase, when published, when signing.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The public JWK Set of the store's keys (no private member).
    ExportPublic,
    /// The next key signs as soon as it has been announced for the announcement period.
    Rotate {
        /// At once, however short its announcement.
        #[arg(long)]
        now: bool,
    },
    /// Removes a key at once: every server refuses its tokens once it reads the store again;
    /// when it was signing, the next key signs.
    Retire {
        /// Its kid.
        kid: String,
    },
    /// Adds a private JWK (a key pair of the servers' key_algorithm) as a next key, sealed
    /// with the key-encryption key.
    Import {
        /// The JWK file.
        file: PathBuf,
        /// The servers' key-encryption key.
        #[arg(long, env = KEY_ENCRYPTION_KEY.env, value_name = "KEY", hide_env_values = true)]
        key_encryption_key: Option<String>,
        /// The servers' key_algorithm (a next key of another is withdrawn by them).
        #[arg(long, env = KEY_ALGORITHM.env, value_name = "ALG", default_value = KEY_ALGORITHM.default)]
        key_algorithm: String,
    },
}

pub(crate) fn keys(args: &KeysArgs) -> Result<(), Failure> {
    let location = on_store::location(args.store.as_deref())?;
    let announcement = parse_duration(&args.key_announcement_period)
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--key-announcement-period {:?} is not a duration (e.g. 7d, 1h)",
                args.key_announcement_period
            ))
        })?;
    on_store::run(async {
        let store = store::open_existing(&location)
            .await
            .map_err(on_store::failure)?;
        let now = on_store::now()?;
        match &args.command {
            KeysCommand::List { json } => {
                let (ring, at) = edit::read(as_records(&store), now).await.map_err(failure)?;
                list(&ring, at, *json);
            }
            KeysCommand::ExportPublic => {
                let (ring, _) = edit::read(as_records(&store), now).await.map_err(failure)?;
                let keys: Vec<serde_json::Value> = ring
                    .keys
                    .iter()
                    .filter_map(|key| serde_json::from_str(&key.public).ok())
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({ "keys": keys })).unwrap_or_default()
                );
            }
            KeysCommand::Rotate { now: at_once } => {
                let ring = edit::edit(as_records(&store), now, |ring, at| {
                    edit::rotate(ring, at, announcement, *at_once)
                })
                .await
                .map_err(failure)?;
                if let Some(next) = next_signing(&ring, now) {
                    println!("key {} signs from {}", next.0, next.1);
                }
            }
            KeysCommand::Retire { kid } => {
                let ring = edit::edit(as_records(&store), now, |ring, at| {
                    edit::retire(ring, at, kid)
                })
                .await
                .map_err(failure)?;
                println!(
                    "key {kid} retired: every server refuses its tokens once it reads the store again (within a minute)"
                );
                if ring.keys.is_empty() {
                    println!("no key is left: the servers generate one at their next read");
                }
            }
            KeysCommand::Import {
                file,
                key_encryption_key,
                key_algorithm,
            } => {
                let kek = key_encryption_key.as_deref().ok_or_else(|| {
                    Failure::usage(format!(
                        "the key is sealed with the servers' key-encryption key: give it with --key-encryption-key or {}",
                        KEY_ENCRYPTION_KEY.env
                    ))
                })?;
                let kek = Kek::from_base64url(kek).map_err(|e| {
                    Failure::usage(format!(
                        "--key-encryption-key {e} (`jwtkit keygen --kek` makes one)"
                    ))
                })?;
                let alg: Algorithm = key_algorithm.parse().map_err(|_| {
                    Failure::usage(format!(
                        "--key-algorithm {key_algorithm:?} is not an algorithm"
                    ))
                })?;
                let key = input::signing_key(file, None)?;
                if key.algorithm() != alg {
                    return Err(Failure::usage(format!(
                        "{} is an {} key, and the servers' key_algorithm is {alg}: they would withdraw it (give --key-algorithm {} if they use it)",
                        file.display(),
                        key.algorithm(),
                        key.algorithm()
                    )));
                }
                // A wrong key-encryption key would seal a key no server can open.
                let (ring, _) = edit::read(as_records(&store), now).await.map_err(failure)?;
                ring.open_all(&kek)
                    .map_err(|e| Failure::usage(format!("{e}: check --key-encryption-key")))?;
                let ring = edit::edit(as_records(&store), now, |ring, at| {
                    edit::import(ring, at, announcement, &key, &kek)
                })
                .await
                .map_err(failure)?;
                let record = ring
                    .get(key.kid())
                    .map(|r| r.signs_from)
                    .unwrap_or_default();
                println!(
                    "key {} imported: published now, it signs from {}",
                    key.kid(),
                    time(record)
                );
            }
        }
        Ok(())
    })
}

fn as_records(store: &std::sync::Arc<dyn Store>) -> &dyn jwtkit_server::store::KeyRecords {
    store.as_ref()
}

fn failure(error: EditError) -> Failure {
    Failure::usage(error.to_string())
}

/// `secs` as RFC 3339.
fn time(secs: i64) -> String {
    UnixTime::from_secs(secs).map_or_else(|| secs.to_string(), rfc3339)
}

/// The next key to sign after `now`, and when.
fn next_signing(ring: &KeyRing, now: UnixTime) -> Option<(String, String)> {
    let at = now.as_secs();
    let current = ring.current(at)?;
    let upcoming = ring.upcoming(at);
    match upcoming.first() {
        Some(next) => Some((next.kid.clone(), time(next.signs_from))),
        None => Some((current.kid.clone(), time(current.signs_from))),
    }
}

fn list(ring: &KeyRing, at: i64, as_json: bool) {
    let rows: Vec<serde_json::Value> = ring
        .keys
        .iter()
        .map(|key| {
            json!({
                "kid": key.kid,
                "alg": key.alg,
                "phase": ring.phase(key, at).name(),
                "published": time(key.announced),
                "signs_from": time(key.signs_from),
                "signs_until": ring.signs_until(key).map(time),
            })
        })
        .collect();
    if as_json {
        println!("{}", serde_json::Value::from(rows));
        return;
    }
    println!(
        "{:<44} {:<6} {:<8} {:<21} {:<21} signs until",
        "kid", "alg", "phase", "published", "signs from"
    );
    for row in &rows {
        let text = |name: &str| row[name].as_str().unwrap_or("-").to_owned();
        println!(
            "{:<44} {:<6} {:<8} {:<21} {:<21} {}",
            text("kid"),
            text("alg"),
            text("phase"),
            text("published"),
            text("signs_from"),
            text("signs_until")
        );
    }
    println!("{} key(s)", rows.len());
}
