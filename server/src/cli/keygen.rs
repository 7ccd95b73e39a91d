//! `jwtkit keygen` and `jwtkit jwks`.

use std::path::PathBuf;

use jwtkit_core::{Algorithm, Key};

use super::{Failure, input};
use jwtkit_server::apikeys::{
    ApiKey, generate_api_key, generate_client_secret, generate_secret, hash_api_key,
};

/// Make a signing key (a private JWK), or an API key with its hashed config entry.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  jwtkit keygen --alg EdDSA > key.json         # a private JWK; the kid is its RFC 7638 thumbprint
  jwtkit keygen --alg HS256 --kid 2026-11
  jwtkit keygen --api-key billing --role user  # prints the key once, and the entry to configure
  jwtkit serve --secret \"$(jwtkit keygen --secret)\"  # an HS256 secret as text, for --secret
  jwtkit keygen --client-secret                 # a confidential OpenID client's secret and hash
  jwtkit serve --key-encryption-key \"$(jwtkit keygen --kek)\"  # keys generated and rotated in the store")]
pub(crate) struct KeygenArgs {
    /// Algorithm of the key: HS256, HS384, HS512, EdDSA, ES256, ES384, RS256, PS256.
    #[arg(
        long,
        value_name = "ALG",
        conflicts_with_all = ["api_key", "secret", "client_secret", "kek"],
        required_unless_present_any = ["api_key", "secret", "client_secret", "kek"]
    )]
    alg: Option<String>,
    /// Key ID [default: the key's RFC 7638 thumbprint].
    #[arg(long, value_name = "ID", requires = "alg")]
    kid: Option<String>,
    /// Print a secret for `jwtkit serve --secret` instead: `jwts_` and 32 random bytes as
    /// base64url, text used as it is written (a key file from --alg HS256 is for --keys).
    #[arg(long, conflicts_with = "api_key")]
    secret: bool,
    /// Print a `client_secret` for a confidential OpenID client instead (`jwtcs_` and 32
    /// random bytes), and the `client_secret_hash` its registration holds.
    #[arg(long, conflicts_with_all = ["api_key", "secret"])]
    client_secret: bool,
    /// Print a key-encryption key for `jwtkit serve --key-encryption-key` instead: 32 random
    /// bytes as base64url, which seal the signing keys jwtkit keeps in the store.
    #[arg(long, conflicts_with_all = ["api_key", "secret", "client_secret"])]
    kek: bool,
    /// Make an API key with this name instead (the `sub` of the tokens it obtains).
    #[arg(long = "api-key", value_name = "NAME")]
    api_key: Option<String>,
    /// Role granted to the API key's tokens; repeatable.
    #[arg(long = "role", value_name = "ROLE", requires = "api_key")]
    roles: Vec<String>,
    /// With --api-key: print {"name", "key", "hash", "roles", "entry"} as one JSON line
    /// instead of the instructions; with --client-secret, {"client_secret",
    /// "client_secret_hash"} (a signing key is always printed as a JWK).
    #[arg(long)]
    json: bool,
}

/// Print the public JWK Set of a key file (never any private material).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  jwtkit jwks --keys keys.json > public.json")]
pub(crate) struct JwksArgs {
    /// A JWK or JWK Set file.
    #[arg(long, value_name = "FILE")]
    keys: PathBuf,
}

pub(crate) fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    if let Some(name) = &args.api_key {
        return api_key(name, &args.roles, args.json);
    }
    if args.client_secret {
        let secret =
            generate_client_secret().map_err(|e| Failure::usage(format!("no randomness: {e}")))?;
        let hash = hash_api_key(&secret);
        if args.json {
            let out = serde_json::json!({"client_secret": secret, "client_secret_hash": hash});
            println!("{out}");
        } else {
            println!("client_secret (give it to the client; it is shown only now):\n  {secret}\n");
            println!("Its registration holds the hash only:\n  \"client_secret_hash\": \"{hash}\"");
        }
        return Ok(());
    }
    if args.kek {
        let kek = jwtkit_server::keys::Kek::generate()
            .map_err(|e| Failure::usage(format!("cannot make a key-encryption key: {e}")))?;
        println!("{kek}");
        return Ok(());
    }
    if args.secret {
        let secret =
            generate_secret().map_err(|e| Failure::usage(format!("no randomness: {e}")))?;
        println!("{secret}");
        return Ok(());
    }
    let alg = args
        .alg
        .as_deref()
        .ok_or_else(|| Failure::usage("--alg is required"))?;
    let alg: Algorithm = alg.parse().map_err(|_| {
        Failure::usage(format!(
            "--alg must be one of {}",
            super::token::algorithm_names()
        ))
    })?;
    let key = Key::generate(alg).map_err(|e| Failure::usage(e.to_string()))?;
    let mut jwk = key.to_private_jwk();
    if let Some(kid) = &args.kid {
        if kid.is_empty() {
            return Err(Failure::usage("--kid must not be empty"));
        }
        jwk.kid = Some(kid.clone());
    }
    println!("{}", pretty(&jwk)?);
    Ok(())
}

fn api_key(name: &str, roles: &[String], json: bool) -> Result<(), Failure> {
    let key = generate_api_key().map_err(|e| Failure::usage(format!("no randomness: {e}")))?;
    let hash = hash_api_key(&key);
    let entry = ApiKey::from_hash(name, &hash, roles.to_vec())
        .map_err(Failure::usage)?
        .entry();
    if json {
        let out = serde_json::json!({
            "name": name, "key": key, "hash": hash, "roles": roles, "entry": entry,
        });
        println!("{out}");
        return Ok(());
    }
    let toml_roles = roles
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("API key (give it to the client; it is shown only now):\n  {key}\n");
    println!("Server entry (the key is stored only as its hash):\n  --api-key '{entry}'\n");
    println!(
        "or in jwtkit.toml:\n  [[api_keys]]\n  name = {name:?}\n  hash = {hash:?}\n  roles = [{toml_roles}]"
    );
    Ok(())
}

pub(crate) fn jwks(args: &JwksArgs) -> Result<(), Failure> {
    let keys = input::keys(&args.keys, None)?;
    println!("{}", pretty(&keys.to_public_jwks())?);
    Ok(())
}

pub(super) fn pretty<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value).map_err(|e| Failure::usage(e.to_string()))
}
