//! `jwtkit keys`: the signing keys jwtkit keeps in the store (`jwtkit serve` with
//! `key_encryption_key`), listed, published, rotated, retired or imported. Every change is
//! written with the servers' own compare-and-set, and every server on the store takes it up
//! at its next read of the store (within a minute).

use std::path::PathBuf;

use clap::Subcommand;
use jwtkit_core::{KeySet, UnixTime};
use jwtkit_server::config::table::{KEY_ENCRYPTION_KEY, STORE};
use jwtkit_server::keys::edit::{self, EditError};
use jwtkit_server::keys::{Kek, KeyRing};
use jwtkit_server::store::{self, KeyRecords};
use jwtkit_server::time::rfc3339;
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
  jwtkit keys import key.json            # a private JWK, announced in full before it signs

Every command needs the servers' key-encryption key (JWTKIT_KEY_ENCRYPTION_KEY): it
authenticates the store's keys (a ring changed without it is refused) and seals imports.")]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    /// The store: sqlite:FILE or redis://HOST:PORT[/DB] [default: the server's default]
    #[arg(long, env = STORE.env, global = true, value_name = "URL", hide_env_values = true)]
    store: Option<String>,
    /// The servers' key-encryption key: it authenticates the store's keys, and seals an
    /// imported one (prefer the variable to the flag, which other local users can read).
    #[arg(
        long,
        env = KEY_ENCRYPTION_KEY.env,
        global = true,
        value_name = "KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    key_encryption_key: Option<String>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// The keys in the store: kid, algorithm, phase, when published, when signing.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The public JWK Set of the store's keys, from the keys themselves (no private member).
    ExportPublic,
    /// The next key signs as soon as it has been announced for the servers'
    /// key_announcement_period.
    Rotate {
        /// At once, however short its announcement.
        #[arg(long)]
        now: bool,
    },
    /// Removes a key at once and for good: every server stops signing with it and refuses
    /// its tokens once it reads the store again; when it was signing, the next key signs.
    Retire {
        /// Its kid.
        kid: String,
    },
    /// Adds a private JWK (a key pair of the servers' key_algorithm) as a next key, sealed
    /// with the key-encryption key and announced in full before it signs.
    Import {
        /// The JWK file.
        file: PathBuf,
    },
}

pub(crate) fn keys(args: &KeysArgs) -> Result<(), Failure> {
    let location = on_store::location(args.store.as_deref())?;
    let kek = args.key_encryption_key.as_deref().ok_or_else(|| {
        Failure::usage(format!(
            "the store's keys are the servers' key-encryption key's: give it with {} or --key-encryption-key",
            KEY_ENCRYPTION_KEY.env
        ))
    })?;
    let kek = Kek::from_base64url(kek).map_err(|e| {
        Failure::usage(format!(
            "--key-encryption-key {e} (the servers' key_encryption_key; `jwtkit keygen --kek` makes a new one)"
        ))
    })?;
    on_store::run(async {
        let store = store::open_existing(&location)
            .await
            .map_err(on_store::failure)?;
        let records: &dyn KeyRecords = store.as_ref();
        let now = on_store::now()?;
        match &args.command {
            KeysCommand::List { json } => {
                let (ring, at) = edit::read(records, now, &kek).await.map_err(failure)?;
                list(&ring, at, *json);
            }
            KeysCommand::ExportPublic => {
                let (ring, _) = edit::read(records, now, &kek).await.map_err(failure)?;
                let keys = ring
                    .open_all(&kek)
                    .map_err(|e| Failure::usage(e.to_string()))?;
                let set = KeySet::new(keys).map_err(|e| Failure::usage(e.to_string()))?;
                println!("{}", set.to_public_jwks().to_json());
            }
            KeysCommand::Rotate { now: at_once } => {
                let ring = edit::edit(records, now, &kek, |ring, at| {
                    edit::rotate(ring, at, *at_once)
                })
                .await
                .map_err(failure)?;
                if let Some((kid, from)) = next_signing(&ring, now) {
                    println!("key {kid} signs from {from}");
                }
            }
            KeysCommand::Retire { kid } => {
                let ring = edit::edit(records, now, &kek, |ring, at| edit::retire(ring, at, kid))
                    .await
                    .map_err(failure)?;
                println!(
                    "key {kid} retired: every server stops signing with it and refuses its tokens once it reads the store again (within a minute); resource servers trusting them drop it when they next fetch the JWK Set (within its max-age)"
                );
                if ring.current(now.as_secs()).is_none() {
                    println!(
                        "no key signs now: the servers make one at their next read of the store"
                    );
                }
            }
            KeysCommand::Import { file } => {
                let key = input::signing_key(file, None)?;
                let ring = edit::edit(records, now, &kek, |ring, at| {
                    ring.open_all(&kek).map_err(EditError::Ring)?;
                    edit::import(ring, at, &key, &kek)
                })
                .await
                .map_err(failure)?;
                let from = ring
                    .get(key.kid())
                    .map(|r| r.signs_from)
                    .unwrap_or_default();
                println!(
                    "key {} imported: published now, it signs from {}",
                    key.kid(),
                    time(from)
                );
            }
        }
        Ok(())
    })
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
