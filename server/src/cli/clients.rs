//! `jwtkit clients`: the OpenID clients registered in the store the servers use, beside the
//! configuration's (`--client`, `[[clients]]`), which win when both name a `client_id`. A
//! registration is the same JSON as the configuration's; a confidential client's secret is
//! made here, printed once and stored only as its hash.

use clap::Subcommand;
use jwtkit_core::suggest::closest;
use jwtkit_server::apikeys::generate_client_secret;
use jwtkit_server::clients::Client;
use jwtkit_server::config::table::STORE;
use jwtkit_server::store::{self, Endpoint, MAX_ACCESS_LIFETIME, Store};
use serde_json::json;

use super::{Failure, on_store};

/// Register, list or remove OpenID clients in the store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
A registration is JSON, as for `jwtkit serve --client`: client_id, redirect_uris (exact),
post_logout_redirect_uris, scopes, first_party, client_name. Clients registered here count at
once on every server using the store; the configuration's clients are not listed here.

Examples:
  jwtkit clients add '{\"client_id\": \"app\", \"redirect_uris\": [\"https://app.example/cb\"]}'
  jwtkit clients add --confidential '{\"client_id\": \"backend\", \"redirect_uris\": [\"https://backend.example/cb\"]}'
  jwtkit clients list
  jwtkit clients remove app      # its codes stop working, its people's sessions end")]
pub(crate) struct ClientsArgs {
    #[command(subcommand)]
    command: ClientsCommand,
    /// The store: sqlite:FILE or redis://HOST:PORT[/DB] [default: the server's default]
    #[arg(long, env = STORE.env, global = true, value_name = "URL", hide_env_values = true)]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ClientsCommand {
    /// Register a client (a SQLite store is created when there is none).
    Add {
        /// The registration, as JSON.
        registration: String,
        /// A confidential client: make its client_secret, print it once, store its hash.
        #[arg(long)]
        confidential: bool,
        /// Print {"client_id", "client_secret"} as one JSON line.
        #[arg(long)]
        json: bool,
    },
    /// The clients registered in the store, by client_id.
    List {
        /// Print a JSON array of the registrations instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a client: its codes are refused from then on, and its people's sessions end.
    Remove {
        /// Its client_id.
        client_id: String,
    },
}

pub(crate) fn clients(args: &ClientsArgs) -> Result<(), Failure> {
    let location = on_store::location(args.store.as_deref())?;
    on_store::run(async {
        match &args.command {
            ClientsCommand::Add {
                registration,
                confidential,
                json,
            } => {
                let client = Client::from_json(registration).map_err(Failure::usage)?;
                if client.is_confidential() {
                    return Err(Failure::usage(
                        "the registration holds a client_secret_hash: leave it out, and \
                         --confidential makes the secret and stores its hash",
                    ));
                }
                let secret = if *confidential {
                    Some(
                        generate_client_secret()
                            .map_err(|e| Failure::usage(format!("no randomness: {e}")))?,
                    )
                } else {
                    None
                };
                let client = match &secret {
                    Some(secret) => client.with_secret(secret),
                    None => client,
                };
                let store = on_store::open_or_create(&location, "clients").await?;
                let added = store
                    .add_client(client.id.clone(), client.to_json())
                    .await
                    .map_err(on_store::failure)?;
                if !added {
                    return Err(Failure::usage(format!(
                        "there is a client {:?} in the store already: `jwtkit clients remove {}` first, \
                         or choose another client_id",
                        client.id, client.id
                    )));
                }
                if *json {
                    println!(
                        "{}",
                        json!({"client_id": client.id, "client_secret": secret})
                    );
                } else if let Some(secret) = secret {
                    println!("confidential client {} registered", client.id);
                    println!(
                        "client_secret (give it to the client; it is shown only now):\n  {secret}"
                    );
                } else {
                    println!("public client {} registered", client.id);
                }
                Ok(())
            }
            ClientsCommand::List { json } => {
                let store = open_existing(&location).await?;
                let clients = registered(store.as_ref()).await?;
                list(&clients, *json);
                Ok(())
            }
            ClientsCommand::Remove { client_id } => {
                let store = open_existing(&location).await?;
                if store
                    .remove_client(client_id.clone())
                    .await
                    .map_err(on_store::failure)?
                {
                    let ended = end_sessions_of_client(store.as_ref(), client_id).await?;
                    println!("client {client_id} removed; {ended} session(s) ended");
                    return Ok(());
                }
                let clients = registered(store.as_ref()).await?;
                let ids: Vec<&str> = clients.iter().map(|c| c.id.as_str()).collect();
                let hint = match closest(client_id, &ids) {
                    Some(id) => format!("did you mean {id:?}?"),
                    None => "`jwtkit clients list` shows them".to_owned(),
                };
                Err(Failure::usage(format!(
                    "there is no client {client_id:?} in the store: {hint}"
                )))
            }
        }
    })
}

/// Ends the people's sessions at `client_id` (their access tokens refused on every
/// instance): a client registered again under that `client_id` does not inherit them.
async fn end_sessions_of_client(store: &dyn Store, client_id: &str) -> Result<usize, Failure> {
    let now = on_store::now()?;
    let until = now.saturating_add_secs(MAX_ACCESS_LIFETIME.as_secs_f64());
    let sessions = store.sessions(None, now).await.map_err(on_store::failure)?;
    let mut ended = 0;
    for session in sessions
        .iter()
        .filter(|s| s.endpoint == Endpoint::Authorize && s.client_id == client_id)
    {
        if store
            .end_session(session.sid.clone(), now, until)
            .await
            .map_err(on_store::failure)?
        {
            ended += 1;
        }
    }
    Ok(ended)
}

async fn open_existing(
    location: &jwtkit_server::config::StoreLocation,
) -> Result<std::sync::Arc<dyn Store>, Failure> {
    store::open_existing(location)
        .await
        .map_err(on_store::failure)
}

/// The store's registrations, read as the servers read them.
async fn registered(store: &dyn Store) -> Result<Vec<Client>, Failure> {
    store
        .clients()
        .await
        .map_err(on_store::failure)?
        .iter()
        .map(|json| Client::from_json(json).map_err(Failure::usage))
        .collect()
}

fn list(clients: &[Client], as_json: bool) {
    if as_json {
        let rows: Vec<serde_json::Value> = clients
            .iter()
            .filter_map(|c| serde_json::from_str(&c.to_json()).ok())
            .collect();
        println!("{}", serde_json::Value::from(rows));
        return;
    }
    println!("client_id                type         consent     redirect_uris");
    for c in clients {
        let kind = if c.is_confidential() {
            "confidential"
        } else {
            "public"
        };
        let consent = if c.first_party {
            "first-party"
        } else {
            "asked"
        };
        println!(
            "{:<24} {:<12} {:<11} {}",
            c.id,
            kind,
            consent,
            c.redirect_uris.join(" ")
        );
    }
    println!("{} client(s)", clients.len());
}
