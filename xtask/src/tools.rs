//! Installs the tools the test suites need, idempotently: whatever is present is kept. The
//! recipe follows the project's toolchain notes (only package registries are reachable:
//! nothing may download a prebuilt binary from elsewhere). Also builds the `jwtkit` binary
//! for the commands that run it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cmd::{Cmd, step};

/// The WebAssembly target of jwtkit-core and jwtkit-wasm.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// wasm-opt from npm; Debian's binaryen 108 silently breaks wasm-bindgen output.
const BINARYEN: &str = "binaryen@132.0.0";

/// The `wasm-bindgen` version pinned in the workspace's Cargo.toml (`= "=X.Y.Z"`):
/// wasm-bindgen-cli must be exactly this version, or wasm-pack installs its own.
fn wasm_bindgen_version() -> Result<String, String> {
    let manifest = workspace_root().join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    text.lines()
        .find_map(|line| {
            let value = line.strip_prefix("wasm-bindgen = \"=")?;
            value.strip_suffix('"').map(str::to_owned)
        })
        .ok_or_else(|| format!("{}: no `wasm-bindgen = \"=X.Y.Z\"` pin", manifest.display()))
}

/// Builds the `jwtkit` binary (`release` or the dev profile), with the assembled demo page
/// `demo` built in, and returns its path.
pub(crate) fn build_jwtkit(release: bool, demo: Option<&Path>) -> Result<PathBuf, String> {
    let root = workspace_root();
    step(&format!(
        "building jwtkit ({}{})",
        if release { "release" } else { "debug" },
        if demo.is_some() {
            ", with the demo page built in"
        } else {
            ""
        }
    ));
    let mut cmd = Cmd::new("cargo").args(["build", "-p", "jwtkit-server", "--bin", "jwtkit"]);
    if release {
        cmd = cmd.arg("--release");
    }
    if let Some(dir) = demo {
        // server/build.rs embeds what this names.
        cmd = cmd.env("JWTKIT_DEMO_DIR", dir);
    }
    cmd.dir(&root).run()?;
    Ok(root
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join("jwtkit"))
}

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
    // A directory with a `:` cannot join a search path: keep the inherited one then.
    std::env::join_paths(dirs)
        .ok()
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default()
}

/// Node.js and npm (Debian packages), for building and testing the npm package.
const NODE: [(&str, &str); 2] = [("node", "nodejs"), ("npm", "npm")];
/// The browsers and the driver the browser tests use, the Redis server the store tests
/// start, and the curl and jq the README's snippets use (Debian packages).
const TEST_SERVICES: [(&str, &str); 6] = [
    ("chromium", "chromium"),
    ("chromedriver", "chromium-driver"),
    ("firefox-esr", "firefox-esr"),
    ("redis-server", "redis-server"),
    ("curl", "curl"),
    ("jq", "jq"),
];

/// Ensures every tool the test suites need is installed.
pub(crate) fn ensure_all() -> Result<(), String> {
    ensure_build_tools()?;
    ensure_apt(&TEST_SERVICES)?;
    ensure_python_clients()?;
    ensure_cargo_tool(
        "geckodriver",
        &["install", "geckodriver", "--locked"],
        None,
        "about 4 minutes",
    )
}

/// Ensures `cargo fuzz` is installed (`cargo xtask fuzz` only; about 3 minutes, once).
pub(crate) fn ensure_cargo_fuzz() -> Result<(), String> {
    if let Some(found) = Cmd::new("cargo").args(["fuzz", "--version"]).probe() {
        println!("ok: {}", found.trim());
        return Ok(());
    }
    println!("installing: cargo-fuzz (about 3 minutes, once)");
    Cmd::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .run()
}

/// Ensures the tools that build the npm package (and so the demo page) are installed.
pub(crate) fn ensure_build_tools() -> Result<(), String> {
    step("checking tools (installing what is missing)");
    ensure_wasm_target()?;
    let version = wasm_bindgen_version()?;
    ensure_cargo_tool(
        "wasm-bindgen",
        &["install", "wasm-bindgen-cli", "--version", &version],
        Some(&version),
        "about 6 minutes",
    )?;
    ensure_cargo_tool(
        "wasm-pack",
        &["install", "wasm-pack", "--locked"],
        None,
        "about 4 minutes",
    )?;
    ensure_apt(&NODE)?;
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

/// Installs the Debian packages of the `(binary, package)` pairs whose binary does not
/// answer `--version`: the one way xtask installs from apt.
pub(crate) fn ensure_apt(wanted: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(binary, _)| Cmd::new(binary).arg("--version").probe().is_none())
        .map(|(_, package)| *package)
        .collect();
    let names: Vec<&str> = wanted.iter().map(|(binary, _)| *binary).collect();
    if missing.is_empty() {
        println!("ok: {}", names.join(", "));
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

/// A Python virtual environment in `target/tools/py` with the OAuth client the tests use
/// (`tests/clients/requirements.txt`), made again when the requirements change.
fn ensure_python_clients() -> Result<(), String> {
    let root = workspace_root();
    let requirements = root.join("tests").join("clients").join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let venv = tools_dir().join("py");
    let marker = venv.join(".jwtkit-requirements");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == wanted) {
        println!("ok: Python OAuth client (Authlib) in target/tools/py");
        return Ok(());
    }
    ensure_apt(&[("python3", "python3"), ("pip3", "python3-pip")])?;
    println!("installing: Authlib into target/tools/py (PyPI, a few seconds)");
    Cmd::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .run()?;
    Cmd::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .run()?;
    std::fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))
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
