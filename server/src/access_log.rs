//! The access log: one line per request, at level `INFO` of the target `jwtkit::http` (so
//! `JWTKIT_LOG=warn` silences it). The `jwtkit` binary hands the line straight to its log
//! writer ([`write_to`]), formatted here in the subscriber's own layout, because the request
//! path should not pay for a general event formatter; an app that embeds the routes gets a
//! `tracing` event instead, for its own subscriber.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use warp::http::Method;

use crate::log_writer::LogWriter;

/// The writer the lines go to, once the binary has set it.
static WRITER: OnceLock<LogWriter> = OnceLock::new();

thread_local! {
    /// The buffer each thread writes its lines in.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Writes the access lines to `writer` from now on (the first call wins): the log writer of
/// the binary, which the subscriber's other events go to as well.
pub fn write_to(writer: LogWriter) {
    let _ = WRITER.set(writer);
}

/// Logs one request.
pub(crate) fn record(method: &Method, path: &str, status: u16, latency: Duration) {
    if !tracing::enabled!(target: "jwtkit::http", tracing::Level::INFO) {
        return;
    }
    let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    let Some(writer) = WRITER.get() else {
        tracing::info!(target: "jwtkit::http", method = %method, path, status, latency_us);
        return;
    };
    // The wall clock, as the subscriber's own timestamps read it.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    LINE.with_borrow_mut(|line| {
        line.clear();
        format_line(line, now, method, path, status, latency_us);
        writer.append(line.as_bytes());
    });
}

/// `line`: the subscriber's layout (`{RFC 3339 with microseconds}  INFO method=GET
/// path="/api/v3/home" status=200 latency_us=12`), the path quoted and escaped as its
/// `Debug` form.
fn format_line(
    line: &mut String,
    now: SystemTime,
    method: &Method,
    path: &str,
    status: u16,
    latency_us: u64,
) {
    let _ = writeln!(
        line,
        "{}  INFO method={method} path={path:?} status={status} latency_us={latency_us}",
        humantime::format_rfc3339_micros(now),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_as_the_subscribers_do() {
        let mut line = String::new();
        let at = SystemTime::UNIX_EPOCH + Duration::from_micros(1_800_000_000_123_456);
        format_line(&mut line, at, &Method::GET, "/api/v3/home", 200, 7);
        assert_eq!(
            line,
            "2027-01-15T08:00:00.123456Z  INFO method=GET path=\"/api/v3/home\" status=200 latency_us=7\n"
        );
        line.clear();
        format_line(&mut line, at, &Method::POST, "/a\"b\\c", 404, 0);
        assert!(line.contains(r#"path="/a\"b\\c" status=404"#), "{line}");
    }
}
