//! Installs the tools the test suites need, idempotently: whatever is present is kept.
//! The recipe follows the project's toolchain notes (only package registries are reachable:
//! nothing may download a prebuilt binary from elsewhere).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cmd::{Cmd, step};

/// The WebAssembly target of jwtkit-core and jwtkit-wasm.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Must equal the `wasm-bindgen` version pinned in Cargo.toml and Cargo.lock.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// wasm-opt from npm; Debian's binaryen 108 silently breaks wasm-bindgen output.
const BINARYEN: &str = "binaryen@132.0.0";

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where npm-installed tools live (`target/tools`), and their `.bin`.
fn tools_dir() -> PathBuf {
    workspace_root().join("target").join("tools")
}

/// `PATH` with the npm tools and cargo's bin directory first: every command gets it.
pub(crate) fn search_path() -> OsString {
    let mut dirs = vec![tools_dir().join("node_modules").join(".bin")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Ensures every tool the test suites need is installed.
pub(crate) fn ensure_all() -> Result<(), String> {
    ensure_build_tools()?;
    ensure_apt(true)?;
    ensure_cargo_tool(
        "geckodriver",
        &["install", "geckodriver", "--locked"],
        None,
        "about 4 minutes",
    )
}

/// Ensures the tools that build the npm package (and so the demo page) are installed.
pub(crate) fn ensure_build_tools() -> Result<(), String> {
    step("checking tools (installing what is missing)");
    ensure_wasm_target()?;
    ensure_cargo_tool(
        "wasm-bindgen",
        &[
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
        ],
        Some(WASM_BINDGEN_VERSION),
        "about 6 minutes",
    )?;
    ensure_cargo_tool(
        "wasm-pack",
        &["install", "wasm-pack", "--locked"],
        None,
        "about 4 minutes",
    )?;
    ensure_apt(false)?;
    ensure_binaryen()
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .probe();
    match installed {
        Some(list) if list.lines().any(|t| t.trim() == WASM_TARGET) => {
            println!("ok: Rust target {WASM_TARGET}");
            Ok(())
        }
        _ => {
            println!("installing: Rust target {WASM_TARGET}");
            Cmd::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .run()
        }
    }
}

/// Installs a cargo tool unless `binary --version` answers (with `version`, when given).
/// wasm-bindgen-cli is installed without `--locked`: the locked build fails here.
fn ensure_cargo_tool(
    binary: &str,
    install: &[&str],
    version: Option<&str>,
    duration: &str,
) -> Result<(), String> {
    let found = Cmd::new(binary).arg("--version").probe();
    if let Some(found) = found.filter(|v| version.is_none_or(|want| v.contains(want))) {
        println!("ok: {}", found.trim());
        return Ok(());
    }
    println!("installing: {binary} ({duration}, once)");
    Cmd::new("cargo").args(install).run()
}

/// Node.js and npm, and with `browsers` Chromium, ChromeDriver and Firefox ESR.
fn ensure_apt(browsers: bool) -> Result<(), String> {
    let node = [("node", "nodejs"), ("npm", "npm")];
    let browser = [
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
        ("firefox-esr", "firefox-esr"),
    ];
    let wanted = if browsers {
        [&node[..], &browser[..]].concat()
    } else {
        node.to_vec()
    };
    let missing: Vec<&str> = wanted
        .into_iter()
        .filter(|(binary, _)| Cmd::new(binary).arg("--version").probe().is_none())
        .map(|(_, package)| package)
        .collect();
    if missing.is_empty() {
        println!(
            "ok: Node.js{}",
            if browsers {
                ", Chromium, ChromeDriver, Firefox ESR"
            } else {
                ""
            }
        );
        return Ok(());
    }
    println!(
        "installing: {} (Debian packages, about a minute)",
        missing.join(", ")
    );
    Cmd::new("apt-get").arg("update").run()?;
    Cmd::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

fn ensure_binaryen() -> Result<(), String> {
    let version = Cmd::new("wasm-opt").arg("--version").probe();
    if version
        .as_deref()
        .is_some_and(|v| v.contains("version 132"))
    {
        println!("ok: wasm-opt 132 (npm binaryen)");
        return Ok(());
    }
    println!("installing: {BINARYEN} from npm into target/tools");
    let dir = tools_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Cmd::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-fund",
            "--no-audit",
            "--prefix",
        ])
        .arg(&dir)
        .arg(BINARYEN)
        .run()
}
