//! The Lua scripts of the Redis store and what passes in and out of them: the keys they
//! derive, times as they take them, replies as they give them.

use jwtkit_core::UnixTime;
use redis::Script;

use super::Clock;
use crate::store::{Attempts, Endpoint, SessionInfo, StoreError, TokenHash};

/// The fields of a session hash, in the order the scripts and [`session`] read them.
pub(super) const SESSION_FIELDS: [&str; 10] = [
    "sub",
    "roles",
    "created",
    "absolute",
    "idle",
    "generation",
    "ended",
    "client_id",
    "endpoint",
    "jkt",
];

/// The scripts, loaded once.
pub(super) struct Scripts {
    pub(super) create_session: Script,
    pub(super) rotate: Script,
    pub(super) end_session: Script,
    pub(super) end_sessions_of: Script,
    pub(super) count_failure: Script,
    pub(super) failures: Script,
    pub(super) trim: Script,
    pub(super) add_user: Script,
    pub(super) replace_user: Script,
    pub(super) remove_user: Script,
    pub(super) put_code: Script,
    pub(super) redeem_code: Script,
    pub(super) replace_key_ring: Script,
}

impl Scripts {
    pub(super) fn new(clock: Clock) -> Self {
        let prelude = include_str!("prelude.lua").replace(
            "$REDIS_CLOCK",
            if clock == Clock::Redis {
                "true"
            } else {
                "false"
            },
        );
        let script = |body: &str| Script::new(&format!("{prelude}\n{body}"));
        let fields = SESSION_FIELDS.map(|f| format!("'{f}'")).join(", ");
        Self {
            create_session: script(include_str!("create_session.lua")),
            rotate: script(&include_str!("rotate.lua").replace("$SESSION_FIELDS", &fields)),
            end_session: script(include_str!("end_session.lua")),
            end_sessions_of: script(include_str!("end_sessions_of.lua")),
            count_failure: script(include_str!("count_failure.lua")),
            failures: script(include_str!("failures.lua")),
            trim: script(include_str!("trim.lua")),
            add_user: script(include_str!("add_user.lua")),
            replace_user: script(include_str!("replace_user.lua")),
            remove_user: script(include_str!("remove_user.lua")),
            put_code: script(include_str!("put_code.lua")),
            redeem_code: script(include_str!("redeem_code.lua")),
            replace_key_ring: script(include_str!("replace_key_ring.lua")),
        }
    }
}

pub(super) fn subject_key(sub: &str) -> String {
    format!("jwtkit:subject-sessions:{sub}")
}

pub(super) fn refresh_key(hash: &TokenHash) -> String {
    format!("jwtkit:refresh:{}", hex(hash))
}

/// A hash as lowercase hex.
pub(super) fn hex(hash: &TokenHash) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(64);
    for byte in hash {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

pub(super) fn time(text: &[u8]) -> Result<UnixTime, StoreError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .and_then(UnixTime::from_secs_f64)
        .ok_or_else(|| StoreError::new("a stored time is not a NumericDate"))
}

pub(super) fn text(bytes: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::new("a stored value is not text"))
}

/// A session from a script's reply: sid, sub, roles, created, absolute, idle, generation,
/// client_id, endpoint, jkt (empty for none).
pub(super) fn session(fields: &[Vec<u8>]) -> Result<SessionInfo, StoreError> {
    let [
        sid,
        sub,
        roles,
        created,
        absolute,
        idle,
        generation,
        client_id,
        endpoint,
        jkt,
        ..,
    ] = fields
    else {
        return Err(StoreError::new("a session reply is short"));
    };
    Ok(SessionInfo {
        sid: text(sid)?,
        sub: text(sub)?,
        client_id: text(client_id)?,
        endpoint: Endpoint::from_name(Some(text(endpoint)?.as_str())),
        roles: serde_json::from_slice(roles)
            .map_err(|_| StoreError::new("stored roles are not a JSON list"))?,
        created: time(created)?,
        absolute_expiry: time(absolute)?,
        idle_expiry: time(idle)?,
        generation: text(generation)?
            .parse()
            .map_err(|_| StoreError::new("a stored generation is not a number"))?,
        jkt: Some(text(jkt)?).filter(|jkt| !jkt.is_empty()),
    })
}

/// A failure counter from a script's reply: the count, the end of its window.
pub(super) fn attempts(reply: &[String]) -> Result<Attempts, StoreError> {
    match reply {
        [count, window_end] => Ok(Attempts {
            count: count
                .parse()
                .map_err(|_| StoreError::new("a counter is not a number"))?,
            window_end: time(window_end.as_bytes())?,
        }),
        _ => Err(StoreError::new("a malformed counter reply")),
    }
}

/// A time as the scripts take it.
pub(super) fn secs(t: UnixTime) -> String {
    format!("{:.3}", t.as_secs_f64())
}
