//! Every given value checked on its own before the settings are resolved together, so that
//! all the problems of a command line, an environment and a config file are reported at
//! once, a value from the file with its line.

use super::sources::Sources;
use super::table::*;
use super::{ConfigError, values};

/// Checks each value of every setting on its own: `Err` holds the first problem and the
/// others in [`ConfigError::also`]. What only the settings together decide (a key set and
/// its signing key, a shared store without a public URL, ...) is left to resolving them.
pub(super) fn each_value(sources: &Sources) -> Result<(), ConfigError> {
    let mut problems = Vec::new();
    for setting in SETTINGS {
        for value in sources.list(setting) {
            if let Err(mut problem) = one(setting, value) {
                if let Some(place) = sources.file_place(setting) {
                    problem.problem.push_str(&format!(" ({place})"));
                }
                problems.push(problem);
            }
        }
    }
    let mut problems = problems.into_iter();
    match problems.next() {
        None => Ok(()),
        Some(mut first) => {
            first.also = problems.collect();
            Err(first)
        }
    }
}

/// One value of `setting`, as resolving it would read it.
fn one(setting: &'static Setting, value: &str) -> Result<(), ConfigError> {
    match setting.range {
        Range::Seconds { .. } => return values::duration(setting, value).map(drop),
        Range::Count { .. } => return values::count(setting, value).map(drop),
        Range::Any => {}
    }
    let name = setting.name;
    if name == BIND.name {
        values::address(setting, value).map(drop)
    } else if name == METRICS_BIND.name {
        values::optional_address(setting, value).map(drop)
    } else if name == PUBLIC_URL.name {
        values::public_url(setting, value).map(drop)
    } else if name == ISSUER.name || name == AUDIENCE.name {
        values::text(setting, value).map(drop)
    } else if name == STORE.name {
        values::store(value).map(drop)
    } else if name == CORS_ORIGINS.name {
        values::origin(value).map(drop)
    } else if name == TRUSTED_PROXIES.name {
        values::network(value).map(drop)
    } else if name == FORWARDED_HEADER.name {
        values::forwarded_header(value).map(drop)
    } else if name == API_KEYS.name {
        values::api_key(value).map(drop)
    } else if name == CLIENTS.name {
        values::client(value).map(drop)
    } else {
        Ok(())
    }
}
