//! Which URLs jwtkit fetches from (another issuer's metadata and keys): `https`, or `http`
//! to a loopback address, without credentials. The configuration checks a URL with it, and
//! [`crate::remote`] every URL it fetches.

use std::fmt;

use url::{Host, Url};

/// A URL jwtkit does not fetch from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsecureUrl {
    /// The URL as it may be shown: without its credentials, at most 200 characters.
    pub shown: String,
}

impl fmt::Display for InsecureUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not an https URL (plain http only to a loopback address, and no credentials)",
            self.shown
        )
    }
}

impl std::error::Error for InsecureUrl {}

/// `text` with whatever stands between `scheme://` and an `@` in its authority replaced by
/// `…` (a URL's user name and password, never repeated in a message or a log).
pub(crate) fn without_credentials(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
        None => text.to_owned(),
    }
}

/// `text` as a URL jwtkit fetches from.
pub(crate) fn fetchable_url(text: &str) -> Result<Url, InsecureUrl> {
    let insecure = || InsecureUrl {
        shown: without_credentials(text).chars().take(200).collect(),
    };
    let url = Url::parse(text).map_err(|_| insecure())?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok || url.host().is_none() || !url.username().is_empty() || url.password().is_some()
    {
        return Err(insecure());
    }
    Ok(url)
}
