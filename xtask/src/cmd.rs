//! Running commands with visible progress.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Prints a progress heading.
pub(crate) fn step(what: &str) {
    println!("\n==> {what}");
    // Progress output only: a failed flush loses nothing that matters.
    std::io::stdout().flush().ok();
}

/// A command that is echoed before it runs and fails the task when it fails.
pub(crate) struct Cmd(Command);

impl Cmd {
    /// A command run with the tools' search path (see [`crate::tools::search_path`]).
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Self {
        let path = crate::tools::search_path();
        let program = which(program.as_ref(), &path);
        let mut command = Command::new(program);
        command.env("PATH", path);
        Self(command)
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.0.arg(arg);
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.0.args(args);
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }

    pub(crate) fn dir(mut self, dir: &Path) -> Self {
        self.0.current_dir(dir);
        self
    }

    fn describe(&self) -> String {
        let mut text = self.0.get_program().to_string_lossy().into_owned();
        for arg in self.0.get_args() {
            text.push(' ');
            text.push_str(&arg.to_string_lossy());
        }
        text
    }

    /// Runs the command with inherited output.
    pub(crate) fn run(mut self) -> Result<(), String> {
        let what = self.describe();
        println!("$ {what}");
        let status = self
            .0
            .status()
            .map_err(|e| format!("cannot start `{what}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{what}` failed ({status})"))
        }
    }

    /// Runs the command, echoing and returning its standard output.
    pub(crate) fn run_tee(mut self) -> Result<String, String> {
        let what = self.describe();
        println!("$ {what}");
        let mut child = self
            .0
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{what}`: {e}"))?;
        let mut captured = String::new();
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let line = line.map_err(|e| format!("reading `{what}`: {e}"))?;
                println!("{line}");
                captured.push_str(&line);
                captured.push('\n');
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("waiting for `{what}`: {e}"))?;
        if status.success() {
            Ok(captured)
        } else {
            Err(format!("`{what}` failed ({status})"))
        }
    }

    /// Runs the command quietly and returns its standard output; fails with its standard
    /// error when it fails.
    pub(crate) fn output(self) -> Result<String, String> {
        let what = self.describe();
        String::from_utf8(self.output_bytes()?)
            .map_err(|_| format!("`{what}` wrote non-UTF-8 output"))
    }

    /// [`Cmd::output`] as bytes.
    pub(crate) fn output_bytes(mut self) -> Result<Vec<u8>, String> {
        let what = self.describe();
        let output = self
            .0
            .output()
            .map_err(|e| format!("cannot start `{what}`: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`{what}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(output.stdout)
    }

    /// Starts the command with its standard output piped (standard error discarded), for a
    /// process that keeps running: stop it by its PID.
    pub(crate) fn spawn(mut self) -> Result<Child, String> {
        let what = self.describe();
        println!("$ {what} &");
        self.0
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start `{what}`: {e}"))
    }

    /// Whether the command runs and exits successfully, with its standard output.
    pub(crate) fn probe(mut self) -> Option<String> {
        let output = self.0.stderr(Stdio::null()).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// Resolves a bare program name on `path` (Command would search the parent's PATH).
fn which(program: &OsStr, path: &OsStr) -> std::ffi::OsString {
    if Path::new(program).components().count() > 1 {
        return program.to_owned();
    }
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .map_or_else(|| program.to_owned(), |found| found.into_os_string())
}

/// Fails when a node:test run reports no passing test or any failure.
pub(crate) fn require_node_tests_passed(output: &str, suite: &str) -> Result<(), String> {
    let count = |label: &str| {
        output
            .lines()
            .filter_map(|line| line.trim().strip_prefix(label))
            .filter_map(|n| n.trim().parse::<usize>().ok())
            .sum::<usize>()
    };
    let (passed, failed) = (count("# pass"), count("# fail"));
    if passed == 0 || failed > 0 {
        return Err(format!("{suite}: {passed} passed, {failed} failed"));
    }
    println!("{suite}: {passed} tests passed");
    Ok(())
}

/// Fails when a test runner's output shows that no test ran (a runner can exit 0 with none).
pub(crate) fn require_tests_ran(output: &str, suite: &str) -> Result<(), String> {
    let passed: usize = output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum();
    if passed == 0 {
        return Err(format!("{suite}: the test runner reported no passing test"));
    }
    println!("{suite}: {passed} tests passed");
    Ok(())
}
