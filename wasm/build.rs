//! Reads the option names of `src/types.d.ts` — the members of each `...Options` interface,
//! with those of the interface it extends — into `option_names.rs`: the declarations stay
//! the one place the names are written, and the `.wasm` carries no parser for them.

// A build script fails by panicking, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::fmt::Write as _;

fn main() {
    println!("cargo::rerun-if-changed=src/types.d.ts");
    let declarations = std::fs::read_to_string("src/types.d.ts").expect("src/types.d.ts");
    let mut code = String::from(
        "/// The option names `interface` declares in `types.d.ts` (none for an unknown one).\n\
         pub(crate) fn option_names(interface: &str) -> &'static [&'static str] {\n    match interface {\n",
    );
    for (name, _) in interfaces(&declarations).filter(|(name, _)| name.ends_with("Options")) {
        let members = members(&declarations, name);
        writeln!(code, "        {name:?} => &{members:?},").unwrap();
    }
    code.push_str("        _ => &[],\n    }\n}\n");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("option_names.rs");
    std::fs::write(out, code).unwrap();
}

/// Every `export interface NAME ... {` with the text after its name.
fn interfaces(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split("export interface ").skip(1).filter_map(|rest| {
        let end = rest.find([' ', '{'])?;
        Some((&rest[..end], &rest[end..]))
    })
}

/// The members `interface` declares, after those of the interface it extends.
fn members<'t>(text: &'t str, interface: &str) -> Vec<&'t str> {
    let Some((_, rest)) = interfaces(text).find(|(name, _)| *name == interface) else {
        panic!("types.d.ts declares no interface {interface}");
    };
    let (opening, body) = rest.split_once('{').expect("an interface body");
    let body = body.split("\n}").next().unwrap_or("");
    let mut names = match opening.trim().strip_prefix("extends ") {
        Some(parent) => members(text, parent.trim()),
        None => Vec::new(),
    };
    names.extend(body.lines().filter_map(|line| {
        let line = line.trim();
        let name = &line[..line.find(['?', ':'])?];
        (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(name)
    }));
    names
}
