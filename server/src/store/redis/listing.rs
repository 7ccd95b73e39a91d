//! The live sessions as an operator lists them (`jwtkit sessions list`): every session
//! hash, or a subject's, read one by one and judged by Redis's clock.

use jwtkit_core::UnixTime;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::scripts::{SESSION_FIELDS, session, subject_key};
use super::{Clock, clock_shift, error};
use crate::store::{SessionInfo, StoreError};

/// The live sessions of `sub` (of everyone without one), oldest first, their times on the
/// caller's clock.
pub(super) async fn sessions(
    mut conn: ConnectionManager,
    clock: Clock,
    sub: Option<String>,
    now: UnixTime,
) -> Result<Vec<SessionInfo>, StoreError> {
    let shift = clock_shift(&mut conn, clock, now).await?;
    let keys: Vec<String> = match &sub {
        Some(sub) => {
            let sids: Vec<String> = conn.zrange(subject_key(sub), 0, -1).await.map_err(error)?;
            sids.into_iter()
                .map(|sid| format!("jwtkit:session:{sid}"))
                .collect()
        }
        None => {
            let mut keys = Vec::new();
            let mut iter: redis::AsyncIter<'_, String> =
                conn.scan_match("jwtkit:session:*").await.map_err(error)?;
            while let Some(key) = futures_util::StreamExt::next(&mut iter).await {
                keys.push(key.map_err(error)?);
            }
            keys
        }
    };
    let mut sessions = Vec::new();
    for key in keys {
        let fields: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(&key)
            .arg(&SESSION_FIELDS)
            .query_async(&mut conn)
            .await
            .map_err(error)?;
        let [
            sub,
            roles,
            created,
            absolute,
            idle,
            generation,
            ended,
            client_id,
            endpoint,
            jkt,
        ] = <[Option<Vec<u8>>; 10]>::try_from(fields)
            .map_err(|_| StoreError::new("a session reply is short"))?;
        let (Some(sub), Some(roles), Some(created), Some(absolute), Some(idle)) =
            (sub, roles, created, absolute, idle)
        else {
            continue; // expired between the listing and the read
        };
        if ended.as_deref() == Some(b"1") {
            continue;
        }
        let sid = key
            .trim_start_matches("jwtkit:session:")
            .as_bytes()
            .to_vec();
        let mut info = session(&[
            sid,
            sub.clone(),
            roles,
            created,
            absolute,
            idle,
            generation.unwrap_or_default(),
            client_id.unwrap_or(sub),
            endpoint.unwrap_or_else(|| b"auth".to_vec()),
            jkt.unwrap_or_default(),
        ])?;
        for t in [
            &mut info.created,
            &mut info.absolute_expiry,
            &mut info.idle_expiry,
        ] {
            *t = t.saturating_add_secs(-shift);
        }
        if now < info.refresh_expiry() {
            sessions.push(info);
        }
    }
    sessions.sort_by(|a, b| {
        a.created
            .as_secs_f64()
            .total_cmp(&b.created.as_secs_f64())
            .then_with(|| a.sid.cmp(&b.sid))
    });
    Ok(sessions)
}
