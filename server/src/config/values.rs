//! Reading each kind of value: text, addresses, durations and counts within their
//! setting's range, origins, API key entries, store locations and networks (keys are read
//! by `signing`).

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::ForwardedHeader;
use super::table::{
    API_KEYS, CLIENTS, CORS_ORIGINS, FORWARDED_HEADER, Range, STORE, Setting, TRUSTED_PROXIES,
};
use super::{ConfigError, StoreLocation, error};
use crate::apikeys::ApiKey;
use crate::time::parse_duration;

/// The longest text setting, in bytes.
const MAX_TEXT_BYTES: usize = 1024;

/// Non-empty text without control characters, at most [`MAX_TEXT_BYTES`].
pub(super) fn text(setting: &'static Setting, value: &str) -> Result<String, ConfigError> {
    let fix = "give it a value (or leave it out for the default)";
    if value.trim().is_empty() {
        return Err(error(setting, "is empty", fix));
    }
    if value.len() > MAX_TEXT_BYTES || value.chars().any(char::is_control) {
        return Err(error(
            setting,
            format!("must be at most {MAX_TEXT_BYTES} bytes without control characters"),
            fix,
        ));
    }
    Ok(value.to_owned())
}

/// An IP address with a port.
pub(super) fn address(setting: &'static Setting, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        error(
            setting,
            format!("{value:?} is not an IP address with a port"),
            "use e.g. 127.0.0.1:3030 or [::1]:8080",
        )
    })
}

/// An IP address with a port, or `off`.
pub(super) fn optional_address(
    setting: &'static Setting,
    value: &str,
) -> Result<Option<SocketAddr>, ConfigError> {
    if value == "off" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        error(
            setting,
            format!("{value:?} is neither an IP address with a port nor `off`"),
            "use e.g. 127.0.0.1:9464, or off",
        )
    })
}

/// The forwarding header trusted proxies write.
pub(super) fn forwarded_header(value: &str) -> Result<ForwardedHeader, ConfigError> {
    ForwardedHeader::from_name(value).ok_or_else(|| {
        error(
            &FORWARDED_HEADER,
            format!("{value:?} is not a forwarding header jwtkit reads"),
            format!(
                "name the header your proxies write: {}",
                ForwardedHeader::NAMES.join(" or ")
            ),
        )
    })
}

/// `true` or `false`.
pub(super) fn boolean(setting: &'static Setting, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(error(
            setting,
            format!("{other:?} is neither true nor false"),
            "write true or false",
        )),
    }
}

/// A duration within the setting's range (whole seconds).
pub(super) fn duration(setting: &'static Setting, value: &str) -> Result<Duration, ConfigError> {
    let (Some((min, max)), Some(range), Some(examples)) = (
        setting.range.durations(),
        setting.range.describe(),
        setting.range.examples(setting.default),
    ) else {
        return Err(error(
            setting,
            "has no duration range",
            "report this as a bug",
        ));
    };
    let fix = format!("write a duration of whole seconds from {range}, e.g. {examples}");
    let duration = parse_duration(value)
        .ok_or_else(|| error(setting, format!("{value:?} is not a duration"), &fix))?;
    if duration.subsec_nanos() != 0 {
        return Err(error(
            setting,
            format!("{value:?} is not whole seconds"),
            fix,
        ));
    }
    if !(min..=max).contains(&duration) {
        return Err(error(
            setting,
            format!("{value:?} is out of range ({range})"),
            fix,
        ));
    }
    Ok(duration)
}

/// A whole number within the setting's range.
pub(super) fn count(setting: &'static Setting, value: &str) -> Result<u32, ConfigError> {
    let (Range::Count { min, max }, Some(examples)) =
        (setting.range, setting.range.examples(setting.default))
    else {
        return Err(error(setting, "is not a count", "report this as a bug"));
    };
    let fix = format!("write a whole number from {min} to {max}, e.g. {examples}");
    let n = value
        .parse::<u64>()
        .map_err(|_| error(setting, format!("{value:?} is not a whole number"), &fix))?;
    (min..=max)
        .contains(&n)
        .then(|| u32::try_from(n).ok())
        .flatten()
        .ok_or_else(|| {
            error(
                setting,
                format!("{value:?} is out of range ({min} to {max})"),
                fix,
            )
        })
}

/// An absolute `http` or `https` URL without credentials, query or fragment; returned
/// without a trailing `/` (endpoint paths are appended to it).
pub(super) fn public_url(setting: &'static Setting, value: &str) -> Result<String, ConfigError> {
    let bad = |problem: &str| {
        error(
            setting,
            format!("{value:?} {problem}"),
            "use scheme://host[:port][/path], e.g. https://auth.example",
        )
    };
    let url = url::Url::parse(value).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("is not an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("carries credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a query or a fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A client's registration, as JSON.
pub(super) fn client(json: &str) -> Result<crate::clients::Client, ConfigError> {
    crate::clients::Client::from_json(json).map_err(|problem| {
        error(
            &CLIENTS,
            problem,
            "see `jwtkit config` for the form of a client (`[[clients]]` in a config file)",
        )
    })
}

/// `scheme://host[:port]` with scheme `http` or `https`.
pub(super) fn origin(origin: &str) -> Result<String, ConfigError> {
    let bad = || {
        error(
            &CORS_ORIGINS,
            format!("{origin:?} is not an origin"),
            "use scheme://host[:port], e.g. https://app.example",
        )
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if matches!(scheme, "http" | "https") && host_ok && port_ok {
        Ok(origin.to_owned())
    } else {
        Err(bad())
    }
}

/// An API key entry `NAME:HASH[:ROLE,ROLE...]`.
pub(super) fn api_key(entry: &str) -> Result<ApiKey, ConfigError> {
    ApiKey::from_entry(entry).map_err(|problem| {
        error(
            &API_KEYS,
            problem,
            "configure the entry `jwtkit keygen --api-key NAME` prints beside the key \
             (NAME:sha256:HASH[:ROLES]; entries in JWTKIT_API_KEYS are separated by `;`)",
        )
    })
}

/// Where the store is: `sqlite:FILE` or `redis://...` / `rediss://...`. A value is shown in
/// an error only without its credentials (a Redis URL may carry a password).
pub fn store(value: &str) -> Result<StoreLocation, ConfigError> {
    let fix = "write sqlite:FILE (one instance, e.g. sqlite:jwtkit.sqlite3) or \
               redis://HOST:PORT[/DB] (shared by instances, e.g. redis://127.0.0.1:6379/)";
    if value.starts_with("sqlite://") {
        return Err(error(
            &STORE,
            "\"sqlite://\" is not a form jwtkit reads (its path would start at /)",
            "write sqlite: and the file, e.g. sqlite:jwtkit.sqlite3 or sqlite:/var/lib/jwtkit/jwtkit.sqlite3",
        ));
    }
    if let Some(path) = value.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(error(&STORE, "\"sqlite:\" names no file", fix));
        }
        return Ok(StoreLocation::Sqlite(path.into()));
    }
    if value.starts_with("redis://") || value.starts_with("rediss://") {
        return Ok(StoreLocation::Redis(value.to_owned()));
    }
    let shown: String = crate::fetchable::without_credentials(value)
        .chars()
        .take(200)
        .collect();
    Err(error(
        &STORE,
        format!("{shown:?} is neither a sqlite: nor a redis:// location"),
        fix,
    ))
}

/// A network in CIDR notation, or one address; canonical (an IPv4-mapped IPv6 network is
/// the IPv4 network, as peers are compared as IPv4).
pub(super) fn network(value: &str) -> Result<IpNet, ConfigError> {
    let net = value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            error(
                &TRUSTED_PROXIES,
                format!("{value:?} is not an address or a network"),
                "use e.g. 10.0.0.0/8, 192.168.1.10 or fd00::/8",
            )
        })?;
    Ok(match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, IpNet::V4),
        net => net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apikeys::hash_api_key;

    #[test]
    fn api_key_entries_parse() {
        let hash = hash_api_key("key");
        let key = api_key(&format!("svc:{hash}:admin,user")).unwrap();
        assert_eq!(
            (key.name(), key.roles()),
            ("svc", &["admin".to_owned(), "user".to_owned()][..])
        );
        assert_eq!(
            api_key(&format!("svc:{hash}")).unwrap().roles(),
            &[] as &[String]
        );
        assert_eq!(api_key("svc").unwrap_err().setting.name, "api_keys");
        assert!(origin("https://app.example").is_ok());
        assert!(origin("http://127.0.0.1:5173").is_ok());
        assert!(origin("https://app.example/path").is_err());
        assert!(origin("ftp://app.example").is_err());
        assert!(origin("https://app.example:99999").is_err());
    }

    #[test]
    fn trusted_networks_are_canonical() {
        assert_eq!(
            network("::ffff:10.0.0.0/104").unwrap(),
            "10.0.0.0/8".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            network("::ffff:192.0.2.7").unwrap(),
            "192.0.2.7/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            network("fd00::/8").unwrap(),
            "fd00::/8".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            forwarded_header("Forwarded"),
            Ok(ForwardedHeader::Forwarded)
        );
        let error = forwarded_header("x-real-ip").unwrap_err();
        assert!(
            error.fix.contains("x-forwarded-for or forwarded"),
            "{error}"
        );
    }

    #[test]
    fn durations_and_counts_stay_in_range() {
        use super::super::table::{AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW, LEEWAY, TOKEN_TTL};
        let secs = |setting, text| duration(setting, text).map(|d| d.as_secs());
        assert_eq!(secs(&TOKEN_TTL, "3m"), Ok(180));
        assert_eq!(secs(&TOKEN_TTL, "86400"), Ok(86_400));
        for bad in ["0s", "25h", "1.5s", "soon", "99999999999999999999y"] {
            assert!(secs(&TOKEN_TTL, bad).is_err(), "{bad}");
        }
        assert_eq!(secs(&LEEWAY, "0"), Ok(0));
        assert!(secs(&LEEWAY, "11m").is_err());
        // 0 would turn the limiter off; a huge window would overflow time arithmetic.
        assert!(secs(&AUTH_FAILURE_WINDOW, "0s").is_err());
        assert!(secs(&AUTH_FAILURE_WINDOW, "100000000000y").is_err());
        assert_eq!(count(&AUTH_FAILURE_LIMIT, "10"), Ok(10));
        for bad in ["0", "-1", "1000001", "ten", "4294967296"] {
            assert!(count(&AUTH_FAILURE_LIMIT, bad).is_err(), "{bad}");
        }
    }
}
