//! The TOML config file named by `config`: its keys are the settings' names, its values the
//! text a flag would give (strings and whole numbers, lists for list settings, and
//! `[[api_keys]]` tables). Every problem of a file is reported at once, each with its line:
//! syntax errors with line and column, unknown keys with the closest known one, values of
//! the wrong type with what the key takes.

use std::collections::BTreeMap;
use std::path::Path;

use jwtkit_core::suggest::closest;
use toml::de::{DeTable, DeValue};

use super::table::{API_KEYS, CLIENTS, CONFIG, SETTINGS, Setting};
use super::{ConfigError, error};

/// The keys of one `[[api_keys]]` table.
const API_KEY_FIELDS: [&str; 3] = ["name", "hash", "roles"];

/// Where the config file's keys are listed, for the fix of every problem with a file.
pub(super) const KEYS_REFERENCE: &str =
    "`jwtkit config` lists every key a config file takes, with its default and range";

/// The settings of a config file as text values by setting name, and the line each is on.
#[derive(Debug, Default)]
pub(super) struct FileSettings {
    /// The values, as flags would give them.
    pub(super) values: BTreeMap<&'static str, Vec<String>>,
    /// The line (from 1) of each setting's key.
    pub(super) lines: BTreeMap<&'static str, usize>,
}

/// The settings of the TOML file at `path`.
pub(super) fn read(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            &CONFIG,
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    let mut file = File {
        text: &text,
        problems: Vec::new(),
        lines: BTreeMap::new(),
    };
    let (table, syntax) = DeTable::parse_recoverable(&text);
    let values = if syntax.is_empty() {
        file.settings(table.get_ref())
    } else {
        for e in syntax {
            let at = e.span().map_or(0, |span| span.start);
            file.problem(at, format!("not valid TOML: {}", e.message().trim_end()));
        }
        BTreeMap::new()
    };
    if file.problems.is_empty() {
        return Ok(FileSettings {
            values,
            lines: file.lines,
        });
    }
    file.problems.sort();
    let count = file.problems.len();
    let listed: Vec<String> = file
        .problems
        .into_iter()
        .map(|(line, column, problem)| format!("\n    line {line}, column {column}: {problem}"))
        .collect();
    Err(error(
        &CONFIG,
        format!(
            "{} has {count} problem{}:{}",
            path.display(),
            if count == 1 { "" } else { "s" },
            listed.concat()
        ),
        format!(
            "correct {}; {KEYS_REFERENCE}",
            if count == 1 { "it" } else { "them" }
        ),
    ))
}

/// A file being read, and the problems found in it so far.
struct File<'t> {
    text: &'t str,
    /// `(line, column, problem)`, both counted from 1.
    problems: Vec<(usize, usize, String)>,
    /// The line of each setting's key.
    lines: BTreeMap<&'static str, usize>,
}

impl File<'_> {
    /// The line and column (from 1) of byte offset `at`.
    fn position(&self, at: usize) -> (usize, usize) {
        // The start of the character `at` falls in (never a slice inside one, whatever a
        // span says).
        let at = (0..=at.min(self.text.len()))
            .rev()
            .find(|&i| self.text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// Records `problem` at byte offset `at`.
    fn problem(&mut self, at: usize, problem: String) {
        let (line, column) = self.position(at);
        self.problems.push((line, column, problem));
    }

    /// The file's top-level keys as settings.
    fn settings(&mut self, table: &DeTable<'_>) -> BTreeMap<&'static str, Vec<String>> {
        let known: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.name != CONFIG.name)
            .map(|s| s.name)
            .collect();
        let mut values = BTreeMap::new();
        for (key, value) in table {
            let at = key.span().start;
            let Some(setting) = SETTINGS
                .iter()
                .find(|s| s.name == key.get_ref() && s.name != CONFIG.name)
            else {
                let problem = match closest(key.get_ref(), &known) {
                    Some(name) => {
                        format!("unknown key `{}` (did you mean `{name}`?)", key.get_ref())
                    }
                    None => format!("unknown key `{}`", key.get_ref()),
                };
                self.problem(at, problem);
                continue;
            };
            let texts = match value.get_ref() {
                DeValue::Array(items) if setting.list.is_some() => items
                    .iter()
                    .map(|item| self.item(setting, item.get_ref(), item.span().start))
                    .collect::<Option<Vec<_>>>(),
                value => self.item(setting, value, at).map(|text| vec![text]),
            };
            match texts {
                Some(texts) => {
                    values.insert(setting.name, texts);
                    let (line, _) = self.position(at);
                    self.lines.insert(setting.name, line);
                }
                None if setting.name == API_KEYS.name || setting.name == CLIENTS.name => {} // already reported
                None => {
                    let takes = if setting.list.is_some() {
                        "text (a string), or a list of them"
                    } else {
                        "text (a string) or a whole number"
                    };
                    let example = setting.default.unwrap_or("...");
                    self.problem(
                        at,
                        format!(
                            "`{}` has the wrong type: it takes {takes}, e.g. {} = {example:?}",
                            setting.name, setting.name
                        ),
                    );
                }
            }
        }
        values
    }

    /// One value as the text a flag would give: a string, a whole number, or for API keys
    /// a `{ name, hash, roles }` table (whose problems it reports itself).
    fn item(&mut self, setting: &Setting, value: &DeValue<'_>, at: usize) -> Option<String> {
        match value {
            DeValue::String(text) => Some(text.to_string()),
            DeValue::Integer(n)
                if setting.name != API_KEYS.name && setting.name != CLIENTS.name =>
            {
                i64::from_str_radix(n.as_str(), n.radix())
                    .ok()
                    .map(|n| n.to_string())
            }
            DeValue::Table(table) if setting.name == API_KEYS.name => self.api_key(table, at),
            // A client's table is its JSON registration: `clients` checks its keys.
            DeValue::Table(table) if setting.name == CLIENTS.name => {
                Some(table_json(table).to_string())
            }
            _ if setting.name == CLIENTS.name => {
                self.problem(
                    at,
                    "`clients` takes [[clients]] tables with client_id and redirect_uris \
                     (see `jwtkit config`)"
                        .to_owned(),
                );
                None
            }
            _ if setting.name == API_KEYS.name => {
                self.problem(
                    at,
                    "`api_keys` takes [[api_keys]] tables with name, hash and roles \
                     (or entries NAME:sha256:HASH[:ROLES] as strings)"
                        .to_owned(),
                );
                None
            }
            _ => None,
        }
    }

    /// `[[api_keys]]` `{ name, hash, roles }` as the entry `NAME:HASH[:ROLE,...]`.
    fn api_key(&mut self, table: &DeTable<'_>, at: usize) -> Option<String> {
        let problems = self.problems.len();
        let text = |file: &mut Self, field: &str| match table.get(field).map(|v| v.get_ref()) {
            Some(DeValue::String(text)) => Some(text.to_string()),
            Some(_) => {
                file.problem(at, format!("`{field}` in [[api_keys]] must be a string"));
                None
            }
            None => {
                file.problem(at, format!("[[api_keys]] has no `{field}`"));
                None
            }
        };
        let (name, hash) = (text(self, "name"), text(self, "hash"));
        let roles = match table.get("roles").map(|v| v.get_ref()) {
            None => Some(Vec::new()),
            Some(DeValue::Array(roles)) => roles
                .iter()
                .map(|role| match role.get_ref() {
                    DeValue::String(role) => Some(role.to_string()),
                    _ => None,
                })
                .collect(),
            Some(_) => None,
        };
        if roles.is_none() {
            self.problem(
                at,
                "`roles` in [[api_keys]] must be a list of strings, e.g. roles = [\"user\"]"
                    .to_owned(),
            );
        }
        for (key, _) in table {
            if !API_KEY_FIELDS.contains(&key.get_ref().as_ref()) {
                let hint = closest(key.get_ref(), &API_KEY_FIELDS)
                    .map(|name| format!(" (did you mean `{name}`?)"))
                    .unwrap_or_default();
                self.problem(
                    key.span().start,
                    format!(
                        "unknown key `{}` in [[api_keys]]{hint}: its keys are {}",
                        key.get_ref(),
                        API_KEY_FIELDS.join(", ")
                    ),
                );
            }
        }
        let (name, hash, roles) = (name?, hash?, roles?);
        if self.problems.len() > problems {
            return None;
        }
        Some(if roles.is_empty() {
            format!("{name}:{hash}")
        } else {
            format!("{name}:{hash}:{}", roles.join(","))
        })
    }
}

/// A TOML value as JSON (strings, numbers, booleans, arrays and tables).
fn json(value: &DeValue<'_>) -> serde_json::Value {
    match value {
        DeValue::String(text) => text.to_string().into(),
        DeValue::Integer(n) => {
            i64::from_str_radix(n.as_str(), n.radix()).map_or(serde_json::Value::Null, Into::into)
        }
        DeValue::Float(x) => x
            .as_str()
            .parse::<f64>()
            .map_or(serde_json::Value::Null, Into::into),
        DeValue::Boolean(b) => (*b).into(),
        DeValue::Array(items) => items.iter().map(|item| json(item.get_ref())).collect(),
        DeValue::Table(table) => table_json(table),
        _ => serde_json::Value::Null,
    }
}

/// A TOML table as a JSON object.
fn table_json(table: &DeTable<'_>) -> serde_json::Value {
    table
        .iter()
        .map(|(key, value)| (key.get_ref().to_string(), json(value.get_ref())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_never_split_one() {
        let file = File {
            text: "a = \"é\"\nbé = 1\n",
            problems: Vec::new(),
            lines: BTreeMap::new(),
        };
        assert_eq!(file.position(0), (1, 1));
        assert_eq!(file.position(9), (2, 1));
        assert_eq!(file.position(12), (2, 3), "b, then é: two characters");
        assert_eq!(file.position(6), (1, 6), "inside é: its start");
        assert_eq!(file.position(1000), (3, 1));
    }

    #[test]
    fn files_of_any_text_are_read_without_a_panic() {
        let dir = std::env::temp_dir().join(format!("jwtkit-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jwtkit.toml");
        for text in [
            "bind = \"é",
            "é = 1",
            "[[api_keys]]\nnamé = \"ü\"",
            "bind = 'ü\n\"",
            "\u{feff}x = 1",
        ] {
            std::fs::write(&path, text).unwrap();
            assert!(read(&path).is_err(), "{text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
