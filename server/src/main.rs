//! The `jwtkit` command: the API server and the token tools.

mod cli;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use jwtkit_server::SystemClock;
use jwtkit_server::config::{Mode, ResourceConfig, ServeArgs};
use jwtkit_server::log_writer::LogWriter;
use jwtkit_server::serve::{
    Listeners, banner, banner_json, resource_authenticator, serve_resource, serve_with_keys,
    shutdown_signal, start_keys, warnings,
};

/// jwtkit — JSON Web Tokens, strictly: an API server and the tools to make keys, mint,
/// inspect and verify tokens, all judged by the same rules.
#[derive(Debug, Parser)]
#[command(
    name = "jwtkit",
    version,
    after_help = "\
Examples:
  jwtkit serve                                  # development setup on 127.0.0.1:3030
  jwtkit keygen --alg EdDSA > key.json
  jwtkit issue --keys key.json --sub billing > token.txt
  jwtkit decode - < token.txt
  jwtkit verify - --keys key.json --iss http://127.0.0.1:3030 --aud jwtkit-api --typ at+jwt < token.txt
  jwtkit verify - --issuer https://auth.example --aud orders < token.txt   # keys by discovery
  jwtkit serve --trust-issuer https://auth.example --bind 127.0.0.1:8080   # a resource server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (with no configuration: a development setup on 127.0.0.1:3030).
    Serve {
        /// The settings.
        #[command(flatten)]
        settings: ServeArgs,
        /// Print where the server listens (and the development setup's API keys) as one
        /// JSON line instead of the banner: {"url", "issuer", "store", "metrics",
        /// "demo_page", "development", "warnings"}.
        #[arg(long)]
        json: bool,
    },
    /// Print every key a config file (`jwtkit serve --config FILE`) takes, as a commented
    /// TOML file with each key's default, range, flag and variable.
    Config,
    /// Make a signing key (private JWK) or an API key.
    Keygen(cli::KeygenArgs),
    /// Print the public JWK Set of a key file.
    Jwks(cli::JwksArgs),
    /// Sign an access token.
    Issue(cli::IssueArgs),
    /// Show a token's header and claims, UNVERIFIED.
    Decode(cli::DecodeArgs),
    /// Verify a token's signature and claims as the server does.
    Verify(cli::VerifyArgs),
    /// List or end sessions in the store (e.g. every session of a leaked API key).
    Sessions(cli::SessionsArgs),
    /// Add, list, change, disable or remove the people who sign in.
    Users(cli::UsersArgs),
    /// Register, list or remove OpenID clients in the store.
    Clients(cli::ClientsArgs),
    /// List, publish, rotate, retire or import the signing keys kept in the store.
    Keys(cli::KeysArgs),
    /// Make DPoP proofs (RFC 9449) for requests that carry DPoP-bound tokens.
    Dpop(cli::DpopArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { settings, json } => run_serve(&settings, json),
        Command::Config => {
            print!("{}", jwtkit_server::config::table::toml_reference());
            ExitCode::SUCCESS
        }
        Command::Keygen(args) => cli::exit("keygen", cli::keygen(&args)),
        Command::Jwks(args) => cli::exit("jwks", cli::jwks(&args)),
        Command::Issue(args) => cli::exit("issue", cli::issue(&args)),
        Command::Decode(args) => cli::exit("decode", cli::decode(&args)),
        Command::Verify(args) => cli::exit("verify", cli::verify(&args)),
        Command::Sessions(args) => cli::exit("sessions", cli::sessions(&args)),
        Command::Users(args) => cli::exit("users", cli::users(&args)),
        Command::Clients(args) => cli::exit("clients", cli::clients(&args)),
        Command::Keys(args) => cli::exit("keys", cli::keys(&args)),
        Command::Dpop(args) => cli::exit("dpop", cli::dpop(&args)),
    }
}

/// The runtime and the listeners; `None` (after saying why) when either fails.
fn listen(
    bind: std::net::SocketAddr,
    metrics: Option<std::net::SocketAddr>,
) -> Option<(tokio::runtime::Runtime, Listeners)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .inspect_err(|error| eprintln!("jwtkit serve: cannot start the runtime: {error}"))
        .ok()?;
    let listeners = runtime
        .block_on(Listeners::bind(bind, metrics))
        .inspect_err(|error| eprintln!("jwtkit serve: {error}"))
        .ok()?;
    Some((runtime, listeners))
}

/// Prints the banner (a closed stdout must not take the server down; the logs still say
/// where it is).
fn announce(text: &str) {
    if let Err(error) = writeln!(std::io::stdout().lock(), "{text}") {
        tracing::warn!(%error, "cannot print the banner");
    }
}

/// `jwtkit serve --trust-issuer URL`: a resource server for another issuer's tokens.
fn run_resource_server(config: &ResourceConfig, json: bool) -> ExitCode {
    let Some((runtime, listeners)) = listen(config.bind, config.metrics_bind) else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        let addr = listeners.api_addr().unwrap_or(config.bind);
        let auth = match resource_authenticator(config, Arc::new(SystemClock)).await {
            Ok(auth) => auth,
            Err(error) => {
                eprintln!("jwtkit serve: {error}\n  fix: check that --trust-issuer is the issuer's URL");
                return ExitCode::FAILURE;
            }
        };
        let metrics = listeners
            .metrics_addr()
            .map(|addr| format!("http://{addr}{}", jwtkit_server::routes::METRICS.path));
        let shutdown = shutdown_signal();
        announce(&if json {
            serde_json::json!({
                "url": format!("http://{addr}"),
                "trust_issuer": config.trust_issuer,
                "metrics": metrics,
            })
            .to_string()
        } else {
            let keys = auth
                .remote_keys()
                .and_then(|remote| remote.jwks_uri())
                .unwrap_or("not fetched yet: not ready until they are");
            let mut text = format!(
                "jwtkit resource server listening on http://{addr}\ntrusting the tokens of {} (keys: {keys})\n",
                config.trust_issuer,
            );
            if let Some(metrics) = metrics {
                text.push_str(&format!("metrics: {metrics}\n"));
            }
            if config.accelerated_key_lifecycle {
                text.push_str(
                    "\nWARNING: accelerated_key_lifecycle is on: the issuer's key set is refreshed as often as its max-age says, down to a second: for tests and development only\n",
                );
            }
            text
        });
        serve_resource(config, auth, listeners, shutdown).await;
        ExitCode::SUCCESS
    })
}

/// What is logged unless `JWTKIT_LOG` says otherwise: `info`, without warp's "server
/// connection error", which it writes at `ERROR` for what a client did (a connection closed
/// mid-request, a request hyper could not read) and which is no fault of the server.
const DEFAULT_LOG: &str = "info,warp::server=off";

fn run_serve(args: &ServeArgs, json: bool) -> ExitCode {
    // The log (an access line per request) goes to standard error from a thread of its own
    // (see `log_writer`); what is pending is written when `_flushed` goes at the end of this
    // function.
    let (writer, _flushed) = match LogWriter::spawn(std::io::stderr()) {
        Ok(log) => log,
        Err(error) => {
            eprintln!("jwtkit serve: cannot start the log thread: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JWTKIT_LOG")
                .unwrap_or_else(|_| DEFAULT_LOG.into()),
        )
        .with_target(false)
        .with_writer(writer.clone())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    jwtkit_server::access_log::write_to(writer);
    let config = match args.resolve_mode() {
        Ok(Mode::Issuer(config)) => *config,
        Ok(Mode::Resource(config)) => return run_resource_server(&config, json),
        Err(error) => {
            eprintln!("jwtkit serve: {error}");
            return ExitCode::from(2);
        }
    };
    let Some((runtime, listeners)) = listen(config.bind, config.metrics_bind) else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        // The store first: the banner says the server is up only once it is.
        let store = match jwtkit_server::store::open(&config.store).await {
            Ok(store) => store,
            Err(error) => {
                eprintln!("jwtkit serve: {error}\n  fix: check the `store` setting (--store)");
                return ExitCode::FAILURE;
            }
        };
        // The signing keys too (a wrong key-encryption key stops it here).
        let clock: jwtkit_server::SharedClock = Arc::new(SystemClock);
        let started = match start_keys(&config, store.clone(), &clock).await {
            Ok(started) => started,
            Err(error) => {
                eprintln!("jwtkit serve: {error}");
                return ExitCode::FAILURE;
            }
        };
        let addr = listeners.api_addr().unwrap_or(config.bind);
        let config = config.listening_on(addr);
        let metrics = listeners.metrics_addr();
        let shutdown = shutdown_signal();
        let warnings = warnings(&config, store.as_ref()).await;
        announce(&if json {
            banner_json(&config, addr, metrics, &warnings)
        } else {
            banner(&config, addr, metrics, &warnings)
        });
        match serve_with_keys(&config, listeners, clock, store, started, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("jwtkit serve: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
