//! `cargo xtask` — jwtkit's developer commands.
//!
//! - `cargo xtask run [ARGS]`: install the build tools when missing, build the npm package's
//!   `web` target and assemble the demo page in `target/web`, build `jwtkit` with it built
//!   in, and run `jwtkit serve ARGS` (a development setup on 127.0.0.1:3030 unless
//!   ARGS configure one).
//! - `cargo xtask test`: install every missing tool (idempotently), then run every check and
//!   test suite, in the order of the README's "Tests" section; what CI runs.
//! - `cargo xtask package`: build the npm package for `web`, `bundler` and `nodejs` into
//!   `wasm/pkg/<target>` (named `jwtkit`) and print the `.wasm` size.
//! - `cargo xtask fuzz`: coverage-guided fuzzing (`cargo fuzz`, on the pinned stable
//!   toolchain through `RUSTC_BOOTSTRAP=1`) of every target in `core/fuzz` for
//!   `JWTKIT_FUZZ_SECONDS` each (default 60), then the seeded property-based fuzzing at
//!   length (`JWTKIT_FUZZ_CASES`, default 20 000 per property).
//! - `cargo xtask bench-http`: the release server on core 0 under wrk on core 1 (loopback,
//!   bounded): public vs protected throughput, p50/p99 latency, peak RSS; the figures of
//!   docs/benchmarks.md.
//!
//! Modules: `cmd` (running commands visibly), `tools` (installing tools, building
//! `jwtkit`), `wasm` (the npm package and its tests, the demo page), `bench` (bench-http).

mod bench;
mod cmd;
mod tools;
mod wasm;

use std::process::ExitCode;

use cmd::{Cmd, step};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run     build jwtkit and the demo page, start the server on 127.0.0.1:3030 (development
          setup) with the page at http://127.0.0.1:3030/;
          arguments after `run` go to `jwtkit serve`, e.g. `cargo xtask run --bind 127.0.0.1:8080`
  fuzz    coverage-guided fuzzing of every target in core/fuzz (token, json, base64url, jwk,
          bodies) for JWTKIT_FUZZ_SECONDS each (default 60; installs cargo-fuzz once), then
          the property-based fuzzing at length (JWTKIT_FUZZ_CASES, default 20000 per
          property); the seeds in core/fuzz/seeds and crashes in core/fuzz/artifacts are
          replayed by `cargo xtask test` (the grown corpus stays in core/fuzz/corpus)
  bench-http  load the release server (core 0) with wrk (core 1) on loopback: /api/v3/home
          vs /api/v3/secret req/s, p50/p99 latency, peak RSS, many clients, refreshes,
          sign-ins, the OpenID provider beside node-oidc-provider (`bench-http openid`:
          that part alone), DPoP beside bearer (`bench-http dpop`: that part alone)
  package build the npm package `jwtkit` into wasm/pkg/{web,bundler,nodejs}
  test    install missing tools, then run fmt, clippy, every Rust test, the wasm32 tests
          of jwtkit-core, the npm package's tests in Node.js, Chrome and Firefox, and the
          tests of the built package, and the demo page end to end in headless Chromium
          and Firefox
          (what CI runs)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("fuzz") => fuzz(),
        Some("bench-http") => match args.get(1).map(String::as_str) {
            None => bench::bench_http(bench::Selection::All),
            Some("openid") => bench::bench_http(bench::Selection::OpenId),
            Some("dpop") => bench::bench_http(bench::Selection::Dpop),
            Some(other) => Err(format!(
                "bench-http takes nothing, `openid` or `dpop`, not {other:?}"
            )),
        },
        Some("package") => tools::ensure_build_tools().and_then(|()| wasm::build_package()),
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

/// Builds the demo page and jwtkit with the page built in, then runs `jwtkit serve` (extra
/// arguments are passed on, e.g. `--bind`).
fn run(extra: &[String]) -> Result<(), String> {
    let root = tools::workspace_root();
    tools::ensure_build_tools()?;
    wasm::build_targets(&["web"])?;
    let web = wasm::assemble_demo()?;
    let jwtkit = tools::build_jwtkit(false, Some(&web))?;
    step("starting jwtkit serve (Ctrl-C to stop)");
    Cmd::new(jwtkit).arg("serve").args(extra).dir(&root).run()
}

/// The coverage-guided fuzz targets of `core/fuzz`.
const FUZZ_TARGETS: [&str; 5] = ["token", "json", "base64url", "jwk", "bodies"];

/// Coverage-guided fuzzing of every target, then long property-based fuzzing.
fn fuzz() -> Result<(), String> {
    let root = tools::workspace_root();
    tools::ensure_cargo_fuzz()?;
    let seconds = std::env::var("JWTKIT_FUZZ_SECONDS").unwrap_or_else(|_| "60".to_owned());
    for target in FUZZ_TARGETS {
        step(&format!("cargo fuzz run {target} for {seconds} s"));
        // New inputs go to the working corpus (not checked in); the seeds are read too.
        let corpus = format!("fuzz/corpus/{target}");
        let seeds = format!("fuzz/seeds/{target}");
        Cmd::new("cargo")
            .args(["fuzz", "run", target, &corpus, &seeds, "--"])
            .arg(format!("-max_total_time={seconds}"))
            // The nightly features cargo fuzz needs, on the pinned stable toolchain.
            .env("RUSTC_BOOTSTRAP", "1")
            .dir(&root.join("core"))
            .run()?;
    }
    let cases = std::env::var("JWTKIT_FUZZ_CASES").unwrap_or_else(|_| "20000".to_owned());
    step(&format!(
        "property-based fuzzing: {cases} cases per property (parser, decode_unverified, \
         verify, JWK import, base64url, against jsonwebtoken)"
    ));
    // The property tests, and the base64url differential test inside the crate.
    for target in [
        &["--test", "properties"][..],
        &["--test", "differential"],
        &["--lib", "b64::differential"],
    ] {
        Cmd::new("cargo")
            .args(["test", "--release", "-p", "jwtkit-core"])
            .args(target.iter().copied())
            .env("JWTKIT_FUZZ_CASES", &cases)
            .dir(&root)
            .run()?;
    }
    Ok(())
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
    // The workspace build signs and verifies with aws-lc-rs (the server's backend); the
    // conformance suites and the attack suite run again on the portable one (RustCrypto,
    // what the wasm32 build uses): the same verdicts from both.
    step("conformance and attack suites on the portable backend (RustCrypto)");
    Cmd::new("cargo")
        .args(["test", "-p", "jwtkit-core"])
        .dir(&root)
        .run()?;
    Cmd::new("cargo")
        .args([
            "test",
            "-p",
            "jwtkit-e2e",
            "--no-default-features",
            "--test",
            "attacks",
        ])
        .dir(&root)
        .run()?;
    step("load and fault test figures (loopback, bounded)");
    Cmd::new("cargo")
        .args([
            "test",
            "-q",
            "-p",
            "jwtkit-e2e",
            "--test",
            "load",
            "--",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .dir(&root)
        .run()?;

    step("benchmarks compile (cargo bench --no-run; figures come from `cargo bench`)");
    Cmd::new("cargo")
        .args(["bench", "-p", "jwtkit-core", "--no-run"])
        .dir(&root)
        .run()?;
    step("cargo test (jwtkit-core without the crypto feature)");
    Cmd::new("cargo")
        .args(["test", "-p", "jwtkit-core", "--no-default-features"])
        .dir(&root)
        .run()?;

    step("cargo doc (jwtkit-core and jwtkit-server, warnings are errors)");
    Cmd::new("cargo")
        .args([
            "doc",
            "-p",
            "jwtkit-core",
            "-p",
            "jwtkit-server",
            "--no-deps",
        ])
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
    wasm::check_size_budget()?;
    wasm::test_package()?;
    wasm::test_demo()?;

    step("all checks passed");
    Ok(())
}
