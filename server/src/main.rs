//! The `jwtkit` command.

use std::process::ExitCode;

const HELP: &str = "\
jwtkit — JSON Web Tokens, strictly

usage: jwtkit [--help | --version]

The API server (`jwtkit serve`) and the token commands (keygen, issue, decode, verify,
jwks) are built on jwtkit-core; this build carries the command's frame only.";

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("-h" | "--help" | "help") => {
            println!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("jwtkit {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(_) => {
            eprintln!("jwtkit: unknown command\n\n{HELP}");
            ExitCode::from(2)
        }
    }
}
