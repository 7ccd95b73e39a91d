//! `jwtkit sessions`: what operators need when an API key is compromised — list the live
//! sessions and end them, in the store the servers use (SQLite or Redis).

use clap::Subcommand;
use jwtkit_server::config::table::STORE;
use jwtkit_server::store::{MAX_ACCESS_LIFETIME, SessionInfo, Store};
use jwtkit_server::time::rfc3339;
use serde_json::json;

use super::{Failure, on_store};

/// List or end sessions in the store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  jwtkit sessions list --store sqlite:jwtkit.sqlite3
  jwtkit sessions list --sub billing --json
  jwtkit sessions revoke --sub billing --store redis://127.0.0.1:6379/   # a leaked API key
  jwtkit sessions revoke --sid 3q2-7wVHm9T8cA4sR1kZ0g")]
pub(crate) struct SessionsArgs {
    #[command(subcommand)]
    command: SessionsCommand,
    /// The store: sqlite:FILE or redis://HOST:PORT[/DB] [default: the server's default]
    #[arg(long, env = STORE.env, global = true, value_name = "URL", hide_env_values = true)]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// The live sessions, oldest first.
    List {
        /// Only those of this API key.
        #[arg(long, value_name = "NAME")]
        sub: Option<String>,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End sessions: their refresh tokens stop working and their access tokens are refused
    /// by every server on the store within about a second.
    Revoke {
        /// Every session of this API key.
        #[arg(
            long,
            value_name = "NAME",
            conflicts_with = "sid",
            required_unless_present = "sid"
        )]
        sub: Option<String>,
        /// One session.
        #[arg(long, value_name = "SID")]
        sid: Option<String>,
    },
}

pub(crate) fn sessions(args: &SessionsArgs) -> Result<(), Failure> {
    let location = on_store::location(args.store.as_deref())?;
    let now = on_store::now()?;
    on_store::run(async {
        // Open, never create: a typo'd path must not look like an empty store.
        let store = jwtkit_server::store::open_existing(&location)
            .await
            .map_err(on_store::failure)?;
        match &args.command {
            SessionsCommand::List { sub, json } => {
                list(store.as_ref(), sub.clone(), now, *json).await
            }
            SessionsCommand::Revoke { sub, sid } => {
                let until = now.saturating_add_secs(MAX_ACCESS_LIFETIME.as_secs_f64());
                let ended = match (sub, sid) {
                    (Some(sub), _) => store.end_sessions_of(sub.clone(), now, until).await,
                    (None, Some(sid)) => store
                        .end_session(sid.clone(), now, until)
                        .await
                        .map(usize::from),
                    (None, None) => Ok(0),
                }
                .map_err(on_store::failure)?;
                println!("{ended} session(s) ended");
                if ended == 0 {
                    // A typo'd name must not pass for a subject whose sessions are all gone.
                    eprintln!(
                        "jwtkit sessions: no live session matched: check the name \
                         (`jwtkit sessions list` shows the live sessions and their subjects)"
                    );
                }
                Ok(())
            }
        }
    })
}

async fn list(
    store: &dyn Store,
    sub: Option<String>,
    now: jwtkit_core::UnixTime,
    json: bool,
) -> Result<(), Failure> {
    let sessions = store.sessions(sub, now).await.map_err(on_store::failure)?;
    if json {
        let rows: Vec<_> = sessions.iter().map(row).collect();
        println!("{}", serde_json::Value::from(rows));
        return Ok(());
    }
    println!(
        "{:<24} {:<16} {:<20} {:<22} {:<22} generation",
        "sid", "sub", "roles", "started", "expires"
    );
    for s in &sessions {
        println!(
            "{:<24} {:<16} {:<20} {:<22} {:<22} {}",
            s.sid,
            s.sub,
            s.roles.join(","),
            rfc3339(s.created),
            rfc3339(s.refresh_expiry()),
            s.generation
        );
    }
    println!("{} live session(s)", sessions.len());
    Ok(())
}

fn row(s: &SessionInfo) -> serde_json::Value {
    json!({
        "sid": s.sid,
        "sub": s.sub,
        "roles": s.roles,
        "started": rfc3339(s.created),
        "expires": rfc3339(s.refresh_expiry()),
        "generation": s.generation,
    })
}
