//! The `jwtkit` command: the API server and the token tools.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use jwtkit_server::SystemClock;
use jwtkit_server::config::ServeArgs;
use jwtkit_server::serve::{banner, serve, shutdown_signal};

/// jwtkit — JSON Web Tokens, strictly.
#[derive(Debug, Parser)]
#[command(name = "jwtkit", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (with no configuration: a development setup on 127.0.0.1:3030).
    Serve(ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => run_serve(&args),
    }
}

fn run_serve(args: &ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JWTKIT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match args.resolve() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("jwtkit serve: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("jwtkit serve: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(config.bind).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("jwtkit serve: cannot listen on {}: {error}\n  fix: choose another --bind address or stop what uses it", config.bind);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(config.bind);
        // A closed stdout must not take the server down: the banner is best effort.
        let _ = writeln!(std::io::stdout().lock(), "{}", banner(&config, addr));
        match serve(&config, listener, Arc::new(SystemClock), shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("jwtkit serve: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
