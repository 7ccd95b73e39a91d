//! The commands of `jwtkit` beside `serve`: keygen, jwks, issue, decode, verify, sessions,
//! users, clients, keys, dpop.
//!
//! Exit codes: 0 success, 1 the token was rejected, 2 a usage or configuration error.

mod clients;
mod dpop;
mod input;
mod keygen;
mod keys;
mod on_store;
mod seen;
mod sessions;
mod token;
mod users;

pub(crate) use clients::{ClientsArgs, clients};
pub(crate) use dpop::{DpopArgs, dpop};
pub(crate) use keygen::{JwksArgs, KeygenArgs, jwks, keygen};
pub(crate) use keys::{KeysArgs, keys};
pub(crate) use sessions::{SessionsArgs, sessions};
pub(crate) use token::{DecodeArgs, IssueArgs, VerifyArgs, decode, issue, verify};
pub(crate) use users::{UsersArgs, users};

use std::process::ExitCode;

/// A failed command: what to print and how to exit.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Usage or configuration error (exit 2).
    Usage(String),
    /// The token was rejected (exit 1); already reported.
    Rejected,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }
}

/// Runs a command body and maps its outcome to the exit code.
pub(crate) fn exit(name: &str, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Rejected) => ExitCode::from(1),
        Err(Failure::Usage(message)) => {
            eprintln!("jwtkit {name}: {message}");
            ExitCode::from(2)
        }
    }
}
