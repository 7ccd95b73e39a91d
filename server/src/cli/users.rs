//! `jwtkit users`: the people who sign in, in the built-in directory of the store the
//! servers use. A password is read from standard input or asked for at a prompt that does
//! not echo it: never an argument, which `ps` and shell histories would show.

use std::io::{IsTerminal as _, Read as _};

use clap::Subcommand;
use jwtkit_core::UnixTime;
use jwtkit_server::config::StoreLocation;
use jwtkit_server::config::table::STORE;
use jwtkit_server::store::{self, Store, UserRecord};
use jwtkit_server::time::rfc3339;
use jwtkit_server::users::accounts::{self, NewUser};
use jwtkit_server::users::{Password, PasswordHasher};
use serde_json::json;

use super::{Failure, on_store};

/// Add, list, change, disable or remove the people who sign in.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The password is read from standard input, or asked for twice (not echoed) at a terminal.

Examples:
  jwtkit users add alice --name 'Alice Liddell' --email alice@example.org
  printf '%s\\n' \"$PASSWORD\" | jwtkit users add bob --store redis://127.0.0.1:6379/
  jwtkit users list
  jwtkit users passwd alice      # ends alice's sessions
  jwtkit users disable alice     # she cannot sign in; her sessions end")]
pub(crate) struct UsersArgs {
    #[command(subcommand)]
    command: UsersCommand,
    /// The store: sqlite:FILE or redis://HOST:PORT[/DB] [default: the server's default]
    #[arg(long, env = STORE.env, global = true, value_name = "URL", hide_env_values = true)]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a person (a SQLite store is created when there is none).
    Add {
        /// What they sign in as: letters a-z, digits and . _ - + @ (kept lowercase).
        username: String,
        /// Their full name (the `name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Their e-mail address (the `email` claim).
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// The e-mail address was verified (`email_verified: true`).
        #[arg(long, requires = "email")]
        email_verified: bool,
    },
    /// The people, by username.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Set a new password; ends their sessions.
    Passwd {
        /// Whose.
        username: String,
    },
    /// Stop them signing in; ends their sessions.
    Disable {
        /// Whom.
        username: String,
    },
    /// Let a disabled person sign in again.
    Enable {
        /// Whom.
        username: String,
    },
    /// Remove them; ends their sessions (their subject is never reused).
    Remove {
        /// Whom.
        username: String,
    },
}

pub(crate) fn users(args: &UsersArgs) -> Result<(), Failure> {
    let location = on_store::location(args.store.as_deref())?;
    let now = on_store::now()?;
    on_store::run(async {
        match &args.command {
            UsersCommand::Add {
                username,
                name,
                email,
                email_verified,
            } => {
                let password = read_password("Password for the new user")?;
                let store = on_store::open_or_create(&location, "users").await?;
                let user = NewUser {
                    username: username.clone(),
                    password,
                    name: name.clone(),
                    email: email.clone(),
                    email_verified: *email_verified,
                };
                let user = accounts::add(store.as_ref(), &PasswordHasher::new(), user, now)
                    .await
                    .map_err(account_failure)?;
                println!("user {} added (sub {})", user.username, user.sub);
                Ok(())
            }
            UsersCommand::List { json } => {
                let store = open_existing(&location).await?;
                let users = store.users().await.map_err(on_store::failure)?;
                list(&users, *json);
                Ok(())
            }
            UsersCommand::Passwd { username } => {
                let store = open_existing(&location).await?;
                // Known before a password is asked for: a typo is said at once.
                let user = accounts::find(store.as_ref(), username)
                    .await
                    .map_err(account_failure)?;
                let password = read_password(&format!("New password for {}", user.username))?;
                let ended = accounts::set_password(
                    store.as_ref(),
                    &PasswordHasher::new(),
                    username,
                    &password,
                    now,
                )
                .await
                .map_err(account_failure)?;
                println!(
                    "password of {} changed; {ended} session(s) ended",
                    user.username
                );
                Ok(())
            }
            UsersCommand::Disable { username } | UsersCommand::Enable { username } => {
                let disable = matches!(args.command, UsersCommand::Disable { .. });
                let store = open_existing(&location).await?;
                let ended = accounts::set_disabled(store.as_ref(), username, disable, now)
                    .await
                    .map_err(account_failure)?;
                if disable {
                    println!("{username} disabled; {ended} session(s) ended");
                } else {
                    println!("{username} enabled");
                }
                Ok(())
            }
            UsersCommand::Remove { username } => {
                let store = open_existing(&location).await?;
                let ended = accounts::remove(store.as_ref(), username, now)
                    .await
                    .map_err(account_failure)?;
                println!("{username} removed; {ended} session(s) ended");
                Ok(())
            }
        }
    })
}

fn account_failure(error: accounts::AccountError) -> Failure {
    Failure::usage(error.to_string())
}

async fn open_existing(location: &StoreLocation) -> Result<std::sync::Arc<dyn Store>, Failure> {
    store::open_existing(location)
        .await
        .map_err(on_store::failure)
}

/// The most standard input read for a password.
const MAX_STDIN_BYTES: u64 = 4096;

/// A password: asked for twice at a terminal, or the one line of standard input.
fn read_password(prompt: &str) -> Result<Password, Failure> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("Again, to be sure: ")
            .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(Failure::usage(
                "the two passwords differ: nothing was changed",
            ));
        }
        return Ok(Password::new(first));
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .take(MAX_STDIN_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            Failure::usage(format!("cannot read the password from standard input: {e}"))
        })?;
    let line = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if line.is_empty() {
        return Err(Failure::usage(
            "no password on standard input: pipe one line (printf '%s\\n' \"$PASSWORD\" | jwtkit users …) or run at a terminal to be asked",
        ));
    }
    if line.contains('\n') || text.len() as u64 > MAX_STDIN_BYTES {
        return Err(Failure::usage(
            "standard input holds more than one line: give the password alone, on one line",
        ));
    }
    Ok(Password::new(line.to_owned()))
}

fn list(users: &[UserRecord], as_json: bool) {
    let time = |secs: f64| UnixTime::from_secs_f64(secs).map_or_else(String::new, rfc3339);
    if as_json {
        let rows: Vec<_> = users
            .iter()
            .map(|u| {
                json!({
                    "username": u.username,
                    "sub": u.sub,
                    "name": u.name,
                    "email": u.email,
                    "email_verified": u.email_verified,
                    "disabled": u.disabled,
                    "created": time(u.created),
                    "password_set": time(u.password_set),
                })
            })
            .collect();
        println!("{}", serde_json::Value::from(rows));
        return;
    }
    println!(
        "{:<24} {:<36} {:<28} {:<8} {:<22}",
        "username", "sub", "email", "status", "password set"
    );
    for u in users {
        let email = match (&u.email, u.email_verified) {
            (Some(e), true) => format!("{e} ✓"),
            (Some(e), false) => e.clone(),
            (None, _) => "-".to_owned(),
        };
        let status = if u.disabled { "disabled" } else { "active" };
        println!(
            "{:<24} {:<36} {:<28} {:<8} {:<22}",
            u.username,
            u.sub,
            email,
            status,
            time(u.password_set)
        );
    }
    println!("{} user(s)", users.len());
}
