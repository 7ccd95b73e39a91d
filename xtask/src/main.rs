//! `cargo xtask` — jwtkit's developer commands.
//!
//! - `cargo xtask run`: build what is needed and start jwtkit.
//! - `cargo xtask test`: install missing tools (idempotently), then run every check and test
//!   suite that CI runs.

mod cmd;
mod tools;
mod wasm;

use std::process::ExitCode;

use cmd::{Cmd, step};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run     build jwtkit and start the server on 127.0.0.1:3030 (development setup);
          arguments after `run` go to `jwtkit serve`, e.g. `cargo xtask run --bind 127.0.0.1:8080`
  package build the npm package `jwtkit` into wasm/pkg/{web,bundler,nodejs}
  test    install missing tools, then run fmt, clippy, every Rust test, the wasm32 tests
          of jwtkit-core, the npm package's tests in Node.js, Chrome and Firefox, and the
          tests of the built package (what CI runs)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("package") => tools::ensure_all().and_then(|()| wasm::build_package()),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(extra: &[String]) -> Result<(), String> {
    step("building jwtkit (release)");
    Cmd::new("cargo")
        .args([
            "build",
            "--release",
            "-p",
            "jwtkit-server",
            "--bin",
            "jwtkit",
        ])
        .run()?;
    let mut jwtkit = Cmd::new(tools::workspace_root().join("target/release/jwtkit"));
    if extra.is_empty() {
        jwtkit = jwtkit.arg("--help");
    } else {
        jwtkit = jwtkit.args(extra);
    }
    jwtkit.run()
}

fn test() -> Result<(), String> {
    let root = tools::workspace_root();
    tools::ensure_all()?;

    step("cargo fmt --check");
    Cmd::new("cargo")
        .args(["fmt", "--all", "--", "--check"])
        .dir(&root)
        .run()?;

    step("cargo clippy (workspace, all targets, -D warnings)");
    Cmd::new("cargo")
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .dir(&root)
        .run()?;
    step("cargo clippy for wasm32 (jwtkit-core decode-only and with crypto, jwtkit-wasm)");
    for features in [&["--no-default-features"][..], &[]] {
        Cmd::new("cargo")
            .args([
                "clippy",
                "-p",
                "jwtkit-core",
                "--target",
                tools::WASM_TARGET,
            ])
            .args(features.iter().copied())
            .args(["--", "-D", "warnings"])
            .dir(&root)
            .run()?;
    }

    Cmd::new("cargo")
        .args([
            "clippy",
            "-p",
            "jwtkit-wasm",
            "--all-targets",
            "--target",
            tools::WASM_TARGET,
            "--",
            "-D",
            "warnings",
        ])
        .dir(&root)
        .run()?;

    step("cargo test (workspace)");
    Cmd::new("cargo")
        .args(["test", "--workspace"])
        .dir(&root)
        .run()?;
    step("cargo test (jwtkit-core without the crypto feature)");
    Cmd::new("cargo")
        .args(["test", "-p", "jwtkit-core", "--no-default-features"])
        .dir(&root)
        .run()?;

    step("cargo doc (jwtkit-core, warnings are errors)");
    Cmd::new("cargo")
        .args(["doc", "-p", "jwtkit-core", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .dir(&root)
        .run()?;

    step("jwtkit-core tests on wasm32 (Node.js)");
    let output = Cmd::new("cargo")
        .args(["test", "-p", "jwtkit-core", "--target", tools::WASM_TARGET])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        .dir(&root)
        .run_tee()?;
    cmd::require_tests_ran(&output, "jwtkit-core wasm32")?;

    wasm::test_crate()?;
    wasm::build_package()?;
    wasm::test_package()?;

    step("all checks passed");
    Ok(())
}
