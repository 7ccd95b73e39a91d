//! Where settings come from, in order: a flag, its `JWTKIT_*` variable (both through clap),
//! the TOML file named by `config`, the default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::table::{CONFIG, SETTINGS, Setting};
use super::{ConfigError, error};

/// The settings given to `jwtkit serve` as flags or variables. Build one for tests or
/// embedding with [`ServeArgs::with`]; [`ServeArgs::resolve`](super::ServeArgs::resolve)
/// validates it.
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    given: BTreeMap<&'static str, Vec<String>>,
}

impl ServeArgs {
    /// These arguments with `setting` set to `value`, as its flag would set it (a list
    /// setting gains one value per call).
    #[must_use]
    pub fn with(mut self, setting: &Setting, value: impl Into<String>) -> Self {
        let values = self.given.entry(setting.name).or_default();
        if setting.list.is_none() {
            values.clear();
        }
        values.push(value.into());
        self
    }
}

impl clap::FromArgMatches for ServeArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut given = BTreeMap::new();
        for setting in SETTINGS {
            if let Some(values) = matches.get_many::<String>(setting.name) {
                given.insert(setting.name, values.cloned().collect());
            }
        }
        Ok(Self { given })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for ServeArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        SETTINGS
            .iter()
            .fold(command, |command, setting| command.arg(setting.arg()))
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

/// Every setting's values by precedence: flags and variables, then the config file.
pub(super) struct Sources {
    given: BTreeMap<&'static str, Vec<String>>,
    file: BTreeMap<&'static str, Vec<String>>,
    /// The config file, if one was given.
    file_path: Option<PathBuf>,
    /// The line of each setting the file gives.
    file_lines: BTreeMap<&'static str, usize>,
    /// The config file's directory, against which its paths are read.
    base: PathBuf,
}

impl Sources {
    /// The given settings and the config file they name, read.
    pub(super) fn read(args: &ServeArgs) -> Result<Self, ConfigError> {
        let path = args.given.get(CONFIG.name).and_then(|v| v.last());
        let (file, base) = match path {
            None => (super::file::FileSettings::default(), PathBuf::from(".")),
            Some(path) => {
                let path = Path::new(path);
                let base = path
                    .parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                (super::file::read(path)?, base)
            }
        };
        Ok(Self {
            given: args.given.clone(),
            file: file.values,
            file_path: path.map(PathBuf::from),
            file_lines: file.lines,
            base,
        })
    }

    /// The values of `setting`: given, else from the file, else none.
    pub(super) fn list(&self, setting: &Setting) -> &[String] {
        self.given
            .get(setting.name)
            .or_else(|| self.file.get(setting.name))
            .map_or(&[], Vec::as_slice)
    }

    /// The value of `setting`, else its default.
    pub(super) fn one(&self, setting: &Setting) -> Option<&str> {
        self.list(setting)
            .last()
            .map(String::as_str)
            .or(setting.default)
    }

    /// The value of a setting that has a default (or is required): given, else the default.
    pub(super) fn value(&self, setting: &'static Setting) -> Result<&str, ConfigError> {
        self.one(setting)
            .ok_or_else(|| error(setting, "is required", "give it a value"))
    }

    /// Where `setting`'s value comes from when it is the config file: "FILE, line N".
    pub(super) fn file_place(&self, setting: &Setting) -> Option<String> {
        self.file_base(setting)?;
        let path = self.file_path.as_ref()?;
        let line = self.file_lines.get(setting.name)?;
        Some(format!("{}, line {line}", path.display()))
    }

    /// The config file's directory when `setting`'s value comes from the file (its paths
    /// are relative to it), else none.
    pub(super) fn file_base(&self, setting: &Setting) -> Option<&Path> {
        (!self.given.contains_key(setting.name) && self.file.contains_key(setting.name))
            .then_some(self.base.as_path())
    }

    /// The path `setting` names: as given, or relative to the config file.
    pub(super) fn path(&self, setting: &Setting) -> Option<PathBuf> {
        match self.given.get(setting.name).and_then(|v| v.last()) {
            Some(given) => Some(PathBuf::from(given)),
            None => self
                .file
                .get(setting.name)
                .and_then(|v| v.last())
                .map(|p| self.base.join(p)),
        }
    }
}
