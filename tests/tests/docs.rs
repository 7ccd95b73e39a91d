//! The documentation in step with the code: the README's settings, error and route tables
//! are derived from their one declaration each (and printed here when they differ), and
//! every repository path the docs name exists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jwtkit_core::Error;
use jwtkit_server::error::{Problem, core_phase_entry, dpop_proof_entry};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// The text between `<!-- NAME -->` and `<!-- /NAME -->` in the README.
fn section(readme: &str, name: &str) -> String {
    let start = format!("<!-- {name}:");
    let begin = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README has no `{start} ... -->` marker"));
    let body = &readme[begin..];
    let body = &body[body.find("-->").unwrap() + 3..];
    let end = body
        .find(&format!("<!-- /{name} -->"))
        .unwrap_or_else(|| panic!("README has no `<!-- /{name} -->` marker"));
    body[..end].trim().to_owned()
}

/// Fails with the derived text, ready to paste, when the README's section differs.
fn assert_section(name: &str, derived: &str) {
    let readme = read("README.md");
    let written = section(&readme, name);
    assert!(
        written == derived.trim(),
        "the README's {name} table is out of step with the code; it should read:\n\n{derived}"
    );
}

#[test]
fn the_settings_table_is_derived_from_the_declarations() {
    assert_section("settings", &jwtkit_server::config::table::markdown_table());
}

/// One row of the error table: where the error comes from, its HTTP answer, code, message.
struct Row {
    source: String,
    status: String,
    error: String,
    code: &'static str,
    message: &'static str,
}

fn every_error() -> Vec<Row> {
    let mut rows = Vec::new();
    for (phase, table) in Error::TABLES {
        let (status, error) = core_phase_entry(phase).map_or(
            ("—".to_owned(), "—".to_owned()),
            |(status, error, _)| (status.to_string(), format!("`{error}`")),
        );
        for entry in table {
            rows.push(Row {
                source: format!("core: {phase}"),
                status: status.clone(),
                error: error.clone(),
                code: entry.code,
                message: entry.message,
            });
        }
    }
    for entry in jwtkit_core::dpop::ProofError::TABLE {
        let (status, error, _) = dpop_proof_entry(entry.code);
        rows.push(Row {
            source: "core: DPoP proof".to_owned(),
            status: status.to_string(),
            error: format!("`{error}`"),
            code: entry.code,
            message: entry.message,
        });
    }
    for entry in Problem::ENTRIES {
        rows.push(Row {
            source: "server".to_owned(),
            status: entry.status.to_string(),
            error: format!("`{}`", entry.error),
            code: entry.code,
            message: entry.message,
        });
    }
    for entry in jwtkit_wasm::error::JsError::TABLE {
        rows.push(Row {
            source: "npm package".to_owned(),
            status: "—".to_owned(),
            error: "—".to_owned(),
            code: entry.code,
            message: entry.message,
        });
    }
    rows
}

#[test]
fn no_two_kinds_of_error_share_a_code() {
    let mut seen = BTreeMap::new();
    for row in every_error() {
        if let Some(other) = seen.insert(row.code, row.source.clone()) {
            panic!("{} is declared by {other} and by {}", row.code, row.source);
        }
    }
}

#[test]
fn the_error_table_is_derived_from_the_declarations() {
    let mut table =
        String::from("| code | from | HTTP | `error` | message |\n|---|---|---|---|---|\n");
    for row in every_error() {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            row.code,
            row.source,
            row.status,
            row.error,
            row.message.replace('|', "\\|")
        ));
    }
    assert_section("errors", &table);
}

#[test]
fn the_route_table_lists_every_route_and_nothing_else() {
    let readme = read("README.md");
    let section = section(&readme, "routes");
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|line| line.split('`').next())
        .collect();
    let declared: Vec<String> = jwtkit_server::routes::ROUTES
        .iter()
        .flat_map(|route| {
            route
                .methods
                .iter()
                .map(move |method| format!("{method} {}", route.path))
        })
        .collect();
    assert_eq!(
        listed, declared,
        "the README's routes table: one row per method and path, in ROUTES' order"
    );
}

/// Build outputs and other places the docs may name that are not in the repository.
const GENERATED: [&str; 4] = ["target/", "wasm/pkg", "node_modules", "../shared/"];

#[test]
fn every_path_the_docs_name_exists() {
    let mut docs = vec!["README.md".to_owned(), "SECURITY.md".to_owned()];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        docs.push(format!("docs/{name}"));
    }
    let mut missing = Vec::new();
    for doc in &docs {
        for named in named_paths(&read(doc)) {
            // `file.rs::item` names a function in that file.
            let (path, item) = match named.split_once("::") {
                Some((path, item)) => (path.to_owned(), Some(item.to_owned())),
                None => (named.clone(), None),
            };
            if !path.contains('/') {
                missing.push(format!(
                    "{doc}: {named} (name the path from the repository root)"
                ));
                continue;
            }
            if let Some(item) = item {
                let found = std::fs::read_to_string(root().join(&path))
                    .is_ok_and(|text| text.contains(&format!("fn {item}(")));
                if !found {
                    missing.push(format!("{doc}: {named} (no fn {item} there)"));
                }
                continue;
            }
            let generated = GENERATED.iter().any(|prefix| path.starts_with(prefix));
            let base = if path.starts_with("../") {
                root()
            } else {
                root().join(Path::new(doc).parent().unwrap())
            };
            let exists = base.join(&path).exists() || root().join(&path).exists();
            if !generated && !exists {
                missing.push(format!("{doc}: {path}"));
            }
        }
    }
    assert!(missing.is_empty(), "paths that do not exist: {missing:#?}");
}

/// Repository paths in `text`: code spans and link targets that look like a relative path
/// with a directory (`server/src/error.rs`, `docs/benchmarks.md`), and Rust files, alone or
/// with an item (`core/tests/verify.rs::key_selection_binds_the_algorithm`).
fn named_paths(text: &str) -> Vec<String> {
    let mut candidates = Vec::new();
    for (i, span) in text.split('`').enumerate() {
        if i % 2 == 1 {
            candidates.push(span.to_owned());
        }
    }
    for link in text.split("](").skip(1) {
        if let Some(target) = link.split(')').next() {
            candidates.push(target.split('#').next().unwrap_or_default().to_owned());
        }
    }
    candidates
        .into_iter()
        .filter(|c| {
            let rust_file = c.split("::").next().is_some_and(|p| p.ends_with(".rs"));
            rust_file
                || c.contains('/')
                    && !c.contains("://")
                    && !c.contains(' ')
                    && !c.starts_with('/')
                    && !c.starts_with('-')
                    && !c.contains('*')
                    && c.rsplit('/').next().is_some_and(|last| {
                        last.is_empty() || last.contains('.') || c.ends_with('/')
                    })
                    && c.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "/._-".contains(ch))
        })
        .collect()
}

/// The README's warp service behind a remote issuer is the doctest of
/// `server/src/remote/mod.rs` (which compiles it), line for line.
#[test]
fn the_readmes_remote_issuer_example_is_the_compiled_one() {
    let doctest: Vec<String> = read("server/src/remote/mod.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line).to_owned())
        .skip_while(|line| line != "```no_run")
        .skip(1)
        .take_while(|line| line != "```")
        .filter(|line| !line.starts_with('#') && !line.starts_with("use ") && !line.is_empty())
        .collect();
    let readme = read("README.md");
    let start = readme
        .find("In your own warp service")
        .expect("the README's remote issuer example");
    let example: Vec<String> = readme[start..]
        .lines()
        .skip_while(|line| *line != "```rust")
        .skip(1)
        .take_while(|line| *line != "```")
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(!example.is_empty());
    assert_eq!(example, doctest, "README.md and server/src/remote/mod.rs");
}

/// The browser package's sign-in sends jwtkit's CSRF header on a request that relies on the
/// provider's refresh-token cookie; its JavaScript names it as the protocol declares it.
#[test]
fn the_sign_ins_csrf_header_is_the_protocols() {
    let declared = format!(
        "const CSRF_HEADER = '{}';",
        jwtkit_core::protocol::CSRF_HEADER
    );
    assert!(read("wasm/src/session/sign_in.js").contains(&declared));
}
