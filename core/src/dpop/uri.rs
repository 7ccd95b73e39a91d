//! `htu` against the request's URI (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2–6.2.3).

/// Whether `htu` names `uri` (RFC 9449 §4.3 step 9): query and fragment ignored, the scheme
/// and host compared without case, a default port the same as none, the path's
/// percent-encoding and dot segments normalised (RFC 3986 §6.2.2–6.2.3).
pub(super) fn same_uri(htu: &str, uri: &str) -> bool {
    // The usual case, a client writing the URI as the server's public URL gives it: the same
    // text names the same resource, when it names one.
    if htu == uri {
        return split(uri).is_some();
    }
    match (normalized(htu), normalized(uri)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The scheme, authority and path of an http(s) URI (query and fragment removed); `None` for
/// anything else, or an authority that is empty or has user information.
fn split(uri: &str) -> Option<(&'static str, &str, &str)> {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let (scheme, rest) = uri[..end].split_once("://")?;
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        "https"
    } else if scheme.eq_ignore_ascii_case("http") {
        "http"
    } else {
        return None;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some((scheme, authority, path))
}

/// `scheme://host[:port]/path`, lower-cased scheme and host, default port dropped, an empty
/// path as `/`, query and fragment removed; `None` for anything but an http(s) URI.
fn normalized(uri: &str) -> Option<String> {
    let (scheme, authority, path) = split(uri)?;
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    let path = remove_dot_segments(&normalized_percent_encoding(path));
    Some(format!("{scheme}://{authority}{path}"))
}

/// `path` with its percent-encoded unreserved characters decoded and the hex digits of the
/// others upper-cased (RFC 3986 §6.2.2.1–6.2.2.2); anything else as written.
fn normalized_percent_encoding(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) => {
                out.push(char::from(byte));
                i += 3;
            }
            Some(byte) => {
                out.push_str(&format!("%{byte:02X}"));
                i += 3;
            }
            None => {
                let next = path[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&path[i..i + next]);
                i += next;
            }
        }
    }
    out
}

/// `path` without `.` and `..` segments (RFC 3986 §5.2.4), `/` when empty.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {}
            ".." => {
                out.pop();
            }
            other => out.push(other),
        }
        // A path ending in a dot segment names a directory.
        if last && matches!(*segment, "." | "..") {
            out.push("");
        }
    }
    format!("/{}", out.join("/"))
}
