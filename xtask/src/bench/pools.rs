//! Many clients: pools of distinct live tokens minted through `/api/v3/auth`, which `wrk`
//! sends in turn, one per request (`pool.lua`), so that the verified-token cache meets
//! more tokens than it holds, or fewer.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::http::Client;

/// Threads minting a pool.
const MINTERS: usize = 4;

/// The wrk script: the tokens of the file named after `--`, in turn.
const SCRIPT: &str = r#"-- jwtkit bench-http: sends the tokens of the file given after `--` in turn.
-- The requests are formatted once, in init: the load generator's work per request stays
-- what it is for a fixed header.
local requests, at = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format(nil, nil, { Authorization = "Bearer " .. line })
  end
end
function request()
  at = at % #requests + 1
  return requests[at]
end
"#;

/// A file of distinct tokens, and the script that sends them.
pub(super) struct Pool {
    pub(super) size: usize,
    pub(super) tokens: PathBuf,
    pub(super) script: PathBuf,
}

/// Mints `size` access tokens at `addr` with the API key `key` (a session each), into
/// `dir/name.tokens`.
pub(super) fn mint(
    dir: &Path,
    name: &str,
    addr: &str,
    key: &str,
    size: usize,
) -> Result<Pool, String> {
    let threads: Vec<_> = (0..MINTERS)
        .map(|i| {
            let (addr, key) = (addr.to_owned(), key.to_owned());
            let count = size / MINTERS + usize::from(i < size % MINTERS);
            std::thread::spawn(move || -> Result<Vec<String>, String> {
                let mut client = Client::connect(&addr)?;
                (0..count)
                    .map(|_| {
                        let (status, body) =
                            client.post_json("/api/v3/auth", &json!({ "api-key": key }))?;
                        body["data"]["token"]
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("auth answered {status}: {body}"))
                    })
                    .collect()
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(size);
    for thread in threads {
        tokens.extend(thread.join().map_err(|_| "a minting thread panicked")??);
    }
    let path = dir.join(format!("{name}.tokens"));
    std::fs::write(&path, tokens.join("\n") + "\n")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let script = dir.join("pool.lua");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("{}: {e}", script.display()))?;
    Ok(Pool {
        size,
        tokens: path,
        script,
    })
}
