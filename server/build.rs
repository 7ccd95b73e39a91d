//! Builds the demo page into the binary when `JWTKIT_DEMO_DIR` names an assembled one
//! (`cargo xtask run` and the end-to-end tests set it to `target/web`), so that a bare
//! `jwtkit serve` serves it at `/`. Without it the binary carries no page.

use std::path::{Path, PathBuf};

fn main() -> Result<(), String> {
    println!("cargo::rerun-if-env-changed=JWTKIT_DEMO_DIR");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?);
    let mut code = String::from("&[\n");
    if let Some(dir) = std::env::var_os("JWTKIT_DEMO_DIR") {
        let dir = PathBuf::from(dir);
        println!("cargo::rerun-if-changed={}", dir.display());
        if !dir.join("index.html").is_file() {
            return Err(format!(
                "JWTKIT_DEMO_DIR={} holds no index.html: `cargo xtask run` assembles the page",
                dir.display()
            ));
        }
        let mut files = Vec::new();
        collect(&dir, &mut files)?;
        files.sort();
        for file in files {
            let relative = file
                .strip_prefix(&dir)
                .map_err(|e| e.to_string())?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let absolute = file
                .canonicalize()
                .map_err(|e| format!("{}: {e}", file.display()))?;
            code.push_str(&format!(
                "    ({relative:?}, include_bytes!({absolute:?})),\n"
            ));
        }
    }
    code.push(']');
    std::fs::write(out.join("demo.rs"), code).map_err(|e| format!("OUT_DIR: {e}"))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
