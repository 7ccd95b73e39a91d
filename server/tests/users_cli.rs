//! `jwtkit users`, the real binary: a person's whole life in the store (added, listed,
//! password changed, disabled, enabled, removed), the password only ever read from standard
//! input, and each refusal with its reason and exit status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{RedisServer, Scratch, jwtkit};

fn list(store: &str) -> Vec<Value> {
    support::list_json("users", store)
}

fn lifecycle(store: &str) {
    let add = jwtkit(
        &[
            "users",
            "add",
            "Ann",
            "--name",
            "Ann Example",
            "--email",
            "ann@example.org",
            "--email-verified",
            "--store",
            store,
        ],
        Some("correct horse battery\n"),
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.starts_with("user ann added (sub u_"),
        "{}",
        add.stdout
    );
    assert!(!add.stdout.contains("correct horse") && !add.stderr.contains("correct horse"));

    let users = list(store);
    assert_eq!(users.len(), 1);
    let ann = &users[0];
    assert_eq!(ann["username"], "ann");
    assert_eq!(ann["email_verified"], true);
    assert_eq!(ann["disabled"], false);
    assert!(ann.get("password_hash").is_none(), "never listed: {ann}");
    let sub = ann["sub"].as_str().unwrap().to_owned();

    let table = jwtkit(&["users", "list", "--store", store], None);
    assert!(
        table.stdout.contains("ann@example.org ✓") && table.stdout.contains("1 user(s)"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("argon2"), "{}", table.stdout);

    let taken = jwtkit(
        &["users", "add", "ANN", "--store", store],
        Some("another horse\n"),
    );
    assert_eq!(taken.code, 2);
    assert!(
        taken.stderr.contains("there is a user \"ann\" already"),
        "{}",
        taken.stderr
    );

    let passwd = jwtkit(
        &["users", "passwd", "ann", "--store", store],
        Some("staple battery horse\r\n"),
    );
    assert_eq!(passwd.code, 0, "{}", passwd.stderr);
    assert_eq!(
        passwd.stdout.trim(),
        "password of ann changed; 0 session(s) ended"
    );

    let typo = jwtkit(&["users", "disable", "amn", "--store", store], None);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr
            .contains("there is no user \"amn\": did you mean \"ann\"?"),
        "{}",
        typo.stderr
    );

    let disable = jwtkit(&["users", "disable", "ann", "--store", store], None);
    assert_eq!(disable.code, 0, "{}", disable.stderr);
    assert_eq!(list(store)[0]["disabled"], true);
    assert_eq!(
        jwtkit(&["users", "enable", "ann", "--store", store], None).code,
        0
    );
    assert_eq!(list(store)[0]["disabled"], false);

    let remove = jwtkit(&["users", "remove", "ann", "--store", store], None);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert!(list(store).is_empty());
    let again = jwtkit(
        &["users", "add", "ann", "--store", store],
        Some("correct horse battery\n"),
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_ne!(
        list(store)[0]["sub"],
        sub.as_str(),
        "a subject is never reassigned"
    );
}

#[test]
fn a_person_from_added_to_removed_on_sqlite() {
    let scratch = Scratch::new("users-cli");
    let path = scratch.path().join("jwtkit.sqlite3");
    let store = format!("sqlite:{}", path.display());
    lifecycle(&store);
}

#[test]
fn a_person_from_added_to_removed_on_redis() {
    let redis = RedisServer::start("users-cli");
    lifecycle(&redis.url());
}

#[test]
fn passwords_come_from_standard_input_only_and_are_checked() {
    let scratch = Scratch::new("users-cli-input");
    let path = scratch.path().join("jwtkit.sqlite3");
    let store = format!("sqlite:{}", path.display());

    // The first add creates the store, and says where.
    let first = jwtkit(
        &["users", "add", "ann", "--store", &store],
        Some("correct horse\n"),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("creating a new store at"),
        "{}",
        first.stderr
    );

    for (stdin, expected) in [
        (None, "no password on standard input"),
        (Some("\n"), "no password on standard input"),
        (Some("p4ss-one\np4ss-two\n"), "more than one line"),
        (
            Some("Tiny7\n"),
            "the password is too short: use at least 8 characters",
        ),
        (Some("bobby123\n"), "the password must not be the username"),
    ] {
        let run = jwtkit(&["users", "add", "bobby123", "--store", &store], stdin);
        assert_eq!(run.code, 2, "{stdin:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{stdin:?}: {}", run.stderr);
        let first_line = stdin.and_then(|t| t.lines().next()).unwrap_or_default();
        if first_line.len() > 3 && first_line != "bobby123" {
            assert!(
                !run.stderr.contains(first_line),
                "the password is never echoed"
            );
        }
    }
    // A password is never an argument.
    let run = jwtkit(
        &["users", "add", "bob", "--password", "x", "--store", &store],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unexpected argument '--password'"),
        "{}",
        run.stderr
    );

    for (username, expected) in [
        ("al ice", "the username contains a space"),
        ("zoë", "the username contains 'ë'"),
    ] {
        let run = jwtkit(
            &["users", "add", username, "--store", &store],
            Some("correct horse\n"),
        );
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains(expected), "{username}: {}", run.stderr);
    }
    let run = jwtkit(
        &[
            "users",
            "add",
            "carol",
            "--email",
            "carol-at-example",
            "--store",
            &store,
        ],
        Some("correct horse\n"),
    );
    assert!(
        run.stderr
            .contains("\"carol-at-example\" is not an e-mail address"),
        "{}",
        run.stderr
    );
    let run = jwtkit(
        &[
            "users",
            "add",
            "carol",
            "--email-verified",
            "--store",
            &store,
        ],
        Some("correct horse\n"),
    );
    assert_eq!(
        run.code, 2,
        "--email-verified needs --email: {}",
        run.stderr
    );
    assert_eq!(list(&store).len(), 1, "no refused user was added");
}
