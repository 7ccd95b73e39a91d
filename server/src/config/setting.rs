//! What a setting is: its names, its range, its help, and the clap argument made of it.

use std::time::Duration;

/// The values a setting accepts beyond its type, checked when it is read and shown in the
/// help and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Any value of the setting's type (a parser may still refuse malformed values).
    Any,
    /// A duration from `min` to `max` seconds.
    Seconds {
        /// The shortest allowed.
        min: u64,
        /// The longest allowed.
        max: u64,
    },
    /// A whole number from `min` to `max`.
    Count {
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
}

impl Range {
    /// `min` and `max` as durations (for [`Range::Seconds`]).
    pub fn durations(self) -> Option<(Duration, Duration)> {
        match self {
            Self::Seconds { min, max } => {
                Some((Duration::from_secs(min), Duration::from_secs(max)))
            }
            _ => None,
        }
    }

    /// "1s to 24h", "1 to 1000000", or nothing.
    pub fn describe(self) -> Option<String> {
        match self {
            Self::Any => None,
            Self::Seconds { min, max } => Some(format!("{} to {}", secs(min), secs(max))),
            Self::Count { min, max } => Some(format!("{min} to {max}")),
        }
    }

    /// Values inside the range to show in a fix, as they would be written: `default` (else
    /// the least) and the greatest, e.g. "3m or 24h"; nothing for [`Range::Any`].
    pub fn examples(self, default: Option<&str>) -> Option<String> {
        let (least, greatest) = match self {
            Self::Any => return None,
            Self::Seconds { min, max } => (secs(min), secs(max)),
            Self::Count { min, max } => (min.to_string(), max.to_string()),
        };
        let first = default.map_or(least, str::to_owned);
        Some(if first == greatest {
            first
        } else {
            format!("{first} or {greatest}")
        })
    }
}

/// `s` seconds as a setting writes them: `0s`, `90s`, `3m`, `24h`, `7d`.
fn secs(s: u64) -> String {
    match s {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 && s > 86_400 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its name: the config file's key (snake_case).
    pub name: &'static str,
    /// Its flag, without the leading `--`.
    pub flag: &'static str,
    /// Its environment variable (`JWTKIT_` and the name in capitals).
    pub env: &'static str,
    /// What its value is, in the help (`DURATION`, `FILE`, ...).
    pub value_name: &'static str,
    /// The default, as it would be written; `None` when there is none.
    pub default: Option<&'static str>,
    /// The values it accepts.
    pub range: Range,
    /// For a list: the separator of its values in the environment variable.
    pub list: Option<char>,
    /// A path that a config file gives relative to itself.
    pub path: bool,
    /// A secret: its value is never shown (not even from the environment in `--help`).
    pub secret: bool,
    /// What it does, one line.
    pub help: &'static str,
}

impl Setting {
    /// The one-line help with the range and the default, as `--help` and the README show it.
    pub fn full_help(&self) -> String {
        let mut help = self.help.to_owned();
        if let Some(range) = self.range.describe() {
            help.push_str(&format!(" ({range})"));
        }
        if let Some(default) = self.default {
            help.push_str(&format!(" [default: {default}]"));
        }
        help
    }

    /// The clap argument: the flag, reading the variable when the flag is absent.
    pub(super) fn arg(&self) -> clap::Arg {
        let arg = clap::Arg::new(self.name)
            .long(self.flag)
            .env(self.env)
            .value_name(self.value_name)
            .help(self.full_help())
            .hide_env_values(self.secret)
            // A secret may begin with `-` (base64url does, one time in 32).
            .allow_hyphen_values(self.secret);
        match self.list {
            Some(delimiter) => arg
                .action(clap::ArgAction::Append)
                .value_delimiter(delimiter),
            None => arg.action(clap::ArgAction::Set),
        }
    }
}
