//! The npm package `jwtkit`: the crate's tests in Node.js, Chrome and Firefox, the built
//! package for the `web`, `bundler` and `nodejs` targets, and the tests that consume it.

use std::path::{Path, PathBuf};

use crate::cmd::{Cmd, require_node_tests_passed, require_tests_ran, step};
use crate::tools::{build_jwtkit, workspace_root};

/// The targets the package is built for, each into `wasm/pkg/<target>`.
pub(crate) const TARGETS: [&str; 3] = ["web", "bundler", "nodejs"];

fn wasm_dir() -> PathBuf {
    workspace_root().join("wasm")
}

/// The crate's wasm-bindgen tests, unchanged, in Node.js, headless Chrome and headless Firefox.
pub(crate) fn test_crate() -> Result<(), String> {
    for (runtime, flags) in [
        ("Node.js", &["--node"][..]),
        ("headless Chrome", &["--headless", "--chrome"]),
        ("headless Firefox", &["--headless", "--firefox"]),
    ] {
        step(&format!("jwtkit-wasm tests in {runtime}"));
        let mut cmd = Cmd::new("wasm-pack")
            .args(["test", "--mode", "no-install"])
            .args(flags.iter().copied())
            .arg(wasm_dir());
        if runtime != "Node.js" {
            // Run the same (node-configured) tests in the browser instead of skipping them.
            cmd = cmd.env("WASM_BINDGEN_USE_BROWSER", "1");
        }
        let output = cmd.run_tee()?;
        require_tests_ran(&output, &format!("jwtkit-wasm in {runtime}"))?;
    }
    Ok(())
}

/// The size budgets of the package a page downloads, gzip -9 per file as served, enforced by
/// `cargo xtask test` (sizes are deterministic): the `.wasm`, and its JavaScript (the
/// wasm-bindgen glue, the session's driver and the sign-in).
pub(crate) const WASM_GZIP_BUDGET: u64 = 45 * 1024;
pub(crate) const JS_GZIP_BUDGET: u64 = 23 * 1024;

/// Builds the package for every target into `wasm/pkg/<target>`, named `jwtkit`.
pub(crate) fn build_package() -> Result<(), String> {
    build_targets(&TARGETS)
}

/// Fails when the built web package is over [`WASM_GZIP_BUDGET`] or [`JS_GZIP_BUDGET`].
pub(crate) fn check_size_budget() -> Result<(), String> {
    let sizes = report_size()?;
    for (what, gzip, budget) in [
        ("jwtkit_bg.wasm", sizes.wasm, WASM_GZIP_BUDGET),
        ("the package's JavaScript", sizes.js, JS_GZIP_BUDGET),
    ] {
        if gzip > budget {
            return Err(format!(
                "{what} is {gzip} bytes gzip -9, over its budget of {budget}"
            ));
        }
        println!("size budget: {what} {gzip} <= {budget} bytes gzip -9");
    }
    Ok(())
}

/// Builds the package for `targets`, then reports the `.wasm` size.
pub(crate) fn build_targets(targets: &[&str]) -> Result<(), String> {
    for &target in targets {
        step(&format!("building the npm package ({target})"));
        let out_dir = format!("pkg/{target}");
        Cmd::new("wasm-pack")
            .args([
                "build",
                "--mode",
                "no-install",
                "--profile",
                "wasm-release",
                "--target",
                target,
            ])
            .args(["--out-dir", &out_dir, "--out-name", "jwtkit"])
            .arg(wasm_dir())
            .run()?;
        rename_package(&wasm_dir().join(&out_dir).join("package.json"))?;
        strip_comment_lines(&wasm_dir().join(&out_dir).join("snippets"))?;
        // The declared `MIT OR Apache-2.0` ships with its texts.
        for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
            if !wasm_dir().join(&out_dir).join(license).is_file() {
                return Err(format!("the {target} package has no {license}"));
            }
        }
    }
    report_size().map(drop)
}

/// The package's own JavaScript modules (`src/**/*.js`, copied by wasm-bindgen under
/// `snippets/`) as a page downloads them: without their comment lines, which are for the
/// repository's readers (a line whose first characters are `//`; the modules hold no
/// multi-line string that such a line could be part of).
fn strip_comment_lines(snippets: &Path) -> Result<(), String> {
    for path in files(snippets, "js")? {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let kept: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .flat_map(|line| [line, "\n"])
            .collect();
        std::fs::write(&path, kept).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// wasm-pack names the package after the crate (`jwtkit-wasm`); it is published as `jwtkit`.
fn rename_package(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let renamed = text.replacen("\"name\": \"jwtkit-wasm\"", "\"name\": \"jwtkit\"", 1);
    if !renamed.contains("\"name\": \"jwtkit\"") {
        return Err(format!("{}: no package name to set", path.display()));
    }
    std::fs::write(path, renamed).map_err(|e| format!("{}: {e}", path.display()))
}

/// Prints the raw and gzip -9 sizes; returns the gzip size.
/// The web package's sizes, gzip -9 per file.
struct Sizes {
    wasm: u64,
    js: u64,
}

/// Prints and returns the sizes of the web package: its `.wasm`, and its JavaScript files
/// (`jwtkit.js` and the snippets it imports).
fn report_size() -> Result<Sizes, String> {
    let web = wasm_dir().join("pkg/web");
    let gzip = |path: &Path| -> Result<u64, String> {
        let bytes = Cmd::new("gzip")
            .args(["-9", "-c"])
            .arg(path)
            .output_bytes()?;
        Ok(bytes.len() as u64)
    };
    let wasm = web.join("jwtkit_bg.wasm");
    let raw = std::fs::metadata(&wasm)
        .map_err(|e| format!("{}: {e}", wasm.display()))?
        .len();
    let sizes = Sizes {
        wasm: gzip(&wasm)?,
        js: files(&web, "js")?
            .iter()
            .map(|path| gzip(path))
            .sum::<Result<u64, String>>()?,
    };
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    println!(
        "jwtkit_bg.wasm: {raw} bytes, {} bytes gzip -9 ({:.1} KiB); JavaScript: {} bytes gzip -9 ({:.1} KiB)",
        sizes.wasm,
        kib(sizes.wasm),
        sizes.js,
        kib(sizes.js)
    );
    Ok(sizes)
}

/// The files under `dir` (recursively) whose names end with `.{ext}`, sorted.
fn files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            found.extend(files(&path, ext)?);
        } else if path.extension().is_some_and(|e| e == ext) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The demo page ready to serve: `web/` plus the package's `web` build in `pkg/`, assembled
/// in `target/web` (the sources stay untouched).
pub(crate) fn assemble_demo() -> Result<PathBuf, String> {
    let root = workspace_root();
    let out = root.join("target").join("web");
    let pkg = out.join("pkg");
    remove(&out)?;
    std::fs::create_dir_all(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
    let copy = |from: PathBuf, to: PathBuf| {
        std::fs::copy(&from, &to)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", from.display()))
    };
    for entry in std::fs::read_dir(root.join("web")).map_err(|e| format!("web/: {e}"))? {
        let path = entry.map_err(|e| format!("web/: {e}"))?.path();
        if let (true, Some(name)) = (path.is_file(), path.file_name()) {
            copy(path.clone(), out.join(name))?;
        }
    }
    // The package as a page loads it: the glue, the `.wasm` and the snippets the glue imports.
    let built = wasm_dir().join("pkg/web");
    let mut wanted = files(&built, "js")?;
    wanted.push(built.join("jwtkit_bg.wasm"));
    for from in wanted {
        let relative = from.strip_prefix(&built).map_err(|e| e.to_string())?;
        let to = pkg.join(relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        copy(from, to)?;
    }
    println!("demo page assembled in {}", out.display());
    Ok(out)
}

/// The package-level tests: the `nodejs` build required by name from node:test, the `web`
/// build in headless Chromium, and a TypeScript consumer type-checked against the `.d.ts`.
pub(crate) fn test_package() -> Result<(), String> {
    let js = wasm_dir().join("js");
    npm_ci(&js)?;
    link_package(&js)?;

    step("package tests: Node.js (nodejs build) and headless Chromium (web build)");
    let output = Cmd::new("node")
        .args(["--test", "--test-reporter=tap"])
        .dir(&js)
        .run_tee()?;
    require_node_tests_passed(&output, "package tests")?;

    step("package tests: TypeScript consumer (tsc --noEmit)");
    Cmd::new("npx")
        .args(["--no-install", "tsc", "--noEmit", "-p", "."])
        .dir(&js)
        .run()
}

/// The demo page in headless Chromium and Firefox against the real `jwtkit serve`, built
/// with the page in (tests/e2e).
pub(crate) fn test_demo() -> Result<(), String> {
    let root = workspace_root();
    let web = assemble_demo()?;
    let jwtkit = build_jwtkit(false, Some(&web))?;
    let e2e = root.join("tests").join("e2e");
    npm_ci(&e2e)?;
    step("end-to-end tests: the demo page in headless Chromium and Firefox against jwtkit serve");
    let shots = root.join("target").join("e2e-screenshots");
    let output = Cmd::new("node")
        .args(["--test", "--test-reporter=tap"])
        .env("JWTKIT_BIN", &jwtkit)
        .env("JWTKIT_SCREENSHOTS", &shots)
        .dir(&e2e)
        .run_tee()?;
    require_node_tests_passed(&output, "end-to-end tests")?;
    println!("screenshots: {}", shots.display());
    Ok(())
}

/// `npm ci` unless `node_modules` matches the lock file already.
pub(crate) fn npm_ci(dir: &Path) -> Result<(), String> {
    step(&format!("npm dependencies of {}", dir.display()));
    // A missing file reads as empty, which never matches: `npm ci` then runs (and says why
    // it cannot, for a missing lock file).
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).unwrap_or_default();
    let installed =
        std::fs::read_to_string(dir.join("node_modules/.jwtkit-lock")).unwrap_or_default();
    if !lock.is_empty() && lock == installed {
        println!("ok: node_modules matches package-lock.json");
        return Ok(());
    }
    Cmd::new("npm")
        .args(["ci", "--no-fund", "--no-audit"])
        .dir(dir)
        .run()?;
    std::fs::write(dir.join("node_modules/.jwtkit-lock"), lock)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// `wasm/js/node_modules/jwtkit` → the built `nodejs` package, as `npm install` would place it.
fn link_package(js: &Path) -> Result<(), String> {
    let link = js.join("node_modules").join("jwtkit");
    remove(&link)?;
    std::os::unix::fs::symlink("../../pkg/nodejs", &link)
        .map_err(|e| format!("{}: {e}", link.display()))
}

/// Removes a file, link or directory tree; nothing there is fine.
fn remove(path: &Path) -> Result<(), String> {
    let removed = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    removed.map_err(|e| format!("cannot remove {}: {e}", path.display()))
}
