//! Installs the tools the test suites need, idempotently: whatever is present is kept.
//! The recipe follows the project's toolchain notes (only package registries are reachable).

use std::path::PathBuf;

use crate::cmd::{Cmd, step};

/// The WebAssembly target of jwtkit-core and jwtkit-wasm.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Must equal the `wasm-bindgen` version pinned in Cargo.toml and Cargo.lock.
const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Ensures every tool the suites need is installed.
pub(crate) fn ensure_all() -> Result<(), String> {
    step("checking tools");
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    ensure_node()?;
    Ok(())
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

fn ensure_wasm_bindgen() -> Result<(), String> {
    let version = Cmd::new("wasm-bindgen-test-runner")
        .arg("--version")
        .probe();
    if version.is_some_and(|v| v.contains(WASM_BINDGEN_VERSION)) {
        println!("ok: wasm-bindgen-cli {WASM_BINDGEN_VERSION}");
        return Ok(());
    }
    println!("installing: wasm-bindgen-cli {WASM_BINDGEN_VERSION} (about 6 minutes, once)");
    // Without --locked: the locked build fails with this toolchain.
    Cmd::new("cargo")
        .args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
        ])
        .run()
}

fn ensure_node() -> Result<(), String> {
    match Cmd::new("node").arg("--version").probe() {
        Some(version) => {
            println!("ok: Node.js {}", version.trim());
            Ok(())
        }
        None => {
            println!("installing: Node.js (Debian packages)");
            Cmd::new("apt-get").arg("update").run()?;
            Cmd::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "nodejs", "npm"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()
        }
    }
}
