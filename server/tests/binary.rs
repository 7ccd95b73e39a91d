//! The real `jwtkit serve` process: configuration errors, the development banner, logs that
//! never carry tokens or keys, and graceful shutdown on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{Jwtkit, Scratch};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn jwtkit() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jwtkit"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

async fn exit_error(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = jwtkit()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn configuration_errors_name_the_setting_and_exit_2() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 6] = [
        (&["serve", "--token-ttl", "soon"], &[], "--token-ttl"),
        (&["serve", "--bind", "localhost"], &[], "`bind`"),
        (&["serve"], &[("JWTKIT_LEEWAY", "1h")], "JWTKIT_LEEWAY"),
        (&["serve", "--secret", "short"], &[], "`secret`"),
        (
            &["serve", "--keys", "/nonexistent.json"],
            &[],
            "cannot read /nonexistent.json",
        ),
        (
            &["serve", "--config", "/nonexistent.toml"],
            &[],
            "invalid config file (--config",
        ),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = exit_error(args, env).await;
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains("fix:"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("short\""),
            "the secret is not echoed: {stderr}"
        );
    }
}

#[tokio::test]
async fn config_file_problems_come_all_at_once_with_lines_and_the_key_meant() {
    let dir = Scratch::new("config-file");
    let file = dir.path().join("jwtkit.toml");
    let file = file.to_str().unwrap();
    std::fs::write(
        file,
        "bind = \"127.0.0.1:0\"\ntoken_tll = \"3m\"\nleeway = 1.5\n\
         [[api_keys]]\nname = \"billing\"\nhash = \"sha256:x\"\nrole = [\"user\"]\n",
    )
    .unwrap();
    let (code, stderr) = exit_error(&["serve", "--config", file], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    for expected in [
        "has 3 problems",
        "line 2, column 1: unknown key `token_tll` (did you mean `token_ttl`?)",
        "line 3, column 1: `leeway` has the wrong type",
        "line 7, column 1: unknown key `role` in [[api_keys]] (did you mean `roles`?)",
        "fix: correct them; `jwtkit config` lists every key",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    std::fs::write(file, "bind = \"127.0.0.1:0\ntoken_ttl = 3m\n").unwrap();
    let (code, stderr) = exit_error(&["serve", "--config", file], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 1, column 20: not valid TOML")
            && stderr.contains("line 2, column 13: not valid TOML"),
        "{stderr}"
    );
    // Values out of range: all of them, each with the file's line.
    std::fs::write(file, "token_ttl = \"48h\"\nleeway = \"11m\"\n").unwrap();
    let (code, stderr) = exit_error(&["serve", "--config", file], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "\"48h\" is out of range (1s to 24h) ({file}, line 1)"
        )) && stderr.contains(&format!(
            "\"11m\" is out of range (0s to 10m) ({file}, line 2)"
        )),
        "{stderr}"
    );
    // The fix works: the reference names every key, and a file written from it is read.
    let reference = jwtkit().arg("config").output().await.unwrap();
    let reference = String::from_utf8(reference.stdout).unwrap();
    assert!(
        reference.contains("#token_ttl = \"3m\"") && reference.contains("#[[api_keys]]"),
        "{reference}"
    );
    let entry = jwtkit()
        .args(["keygen", "--api-key", "billing", "--json"])
        .output()
        .await
        .unwrap();
    let entry: serde_json::Value = serde_json::from_slice(&entry.stdout).unwrap();
    let keys = dir.path().join("key.json");
    let key = jwtkit()
        .args(["keygen", "--alg", "EdDSA"])
        .output()
        .await
        .unwrap();
    std::fs::write(&keys, key.stdout).unwrap();
    std::fs::write(
        file,
        format!(
            "bind = \"127.0.0.1:0\"\nmetrics_bind = \"off\"\ntoken_ttl = \"3m\"\nleeway = 1\n\
             keys = \"key.json\"\nstore = \"sqlite:s.sqlite3\"\n\
             [[api_keys]]\nname = \"billing\"\nhash = {}\nroles = [\"user\"]\n",
            entry["hash"]
        ),
    )
    .unwrap();
    let server = Jwtkit::start(&["--config", file]);
    // Its paths are relative to it, the store's too.
    assert_eq!(
        server.started["store"].as_str(),
        Some(format!("sqlite:{}", dir.path().join("s.sqlite3").display()).as_str())
    );
    let (status, _) = server.post_json(
        "/api/v3/auth",
        &serde_json::json!({"api-key": entry["key"]}),
    );
    assert_eq!(status, 200);
    server.stop();
}

#[tokio::test]
async fn the_banner_warns_loudly_about_the_development_setup() {
    let dir = Scratch::new("binary-banner");
    let mut child = jwtkit()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "127.0.0.1:0",
        ])
        .args([
            "--store",
            &format!("sqlite:{}", dir.path().join("s.sqlite3").display()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    // The development banner ends with the "Try it" example.
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await
    {
        banner.push_str(&line);
        banner.push('\n');
        if line.trim_start().starts_with("-d '") {
            break;
        }
    }
    assert!(
        banner.contains("listening on http://127.0.0.1:"),
        "{banner}"
    );
    assert!(
        banner.contains("metrics: http://127.0.0.1:") && banner.contains("/metrics\n"),
        "{banner}"
    );
    assert!(banner.contains("DEVELOPMENT SETUP"), "{banner}");
    assert!(banner.contains("API key dev "), "{banner}");
    assert!(banner.contains("API key dev-admin "), "{banner}");
}

#[tokio::test]
async fn a_server_that_cannot_start_says_why_and_never_that_it_listens() {
    // A store that cannot be opened: no banner (it is printed once the store is open).
    let output = jwtkit()
        .args(["serve", "--bind", "127.0.0.1:0", "--metrics-bind", "off"])
        .args(["--store", "sqlite:/nonexistent-dir/jwtkit.sqlite3"])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stdout, "", "nothing says it is listening");
    assert!(
        stderr.contains("/nonexistent-dir/jwtkit.sqlite3") && stderr.contains("fix:"),
        "{stderr}"
    );
    // The metrics address taken: the setting is named.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = exit_error(
        &["serve", "--bind", "127.0.0.1:0", "--metrics-bind", &addr],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr} (`metrics_bind`)"))
            && stderr.contains("--metrics-bind"),
        "{stderr}"
    );
}

#[test]
fn development_server_serves_logs_safely_and_shuts_down_gracefully() {
    let dir = Scratch::new("binary-dev");
    let store = format!("sqlite:{}", dir.path().join("s.sqlite3").display());
    let server = Jwtkit::start(&["--store", &store]);
    assert!(server.started["demo_page"].is_null(), "{}", server.started);
    let dev = &server.started["development"]["api_keys"];
    assert_eq!(dev[0]["name"], "dev", "{}", server.started);
    assert_eq!(dev[1]["roles"], serde_json::json!(["user", "admin"]));
    let key = dev[0]["key"].as_str().unwrap().to_owned();
    let (status, body) = server.post_json("/api/v3/auth", &serde_json::json!({ "api-key": key }));
    assert_eq!(status, 200, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(server.get("/api/v3/secret", Some(&token)).0, 200);

    // A client that goes away mid-request is no error of the server's.
    let mut half = std::net::TcpStream::connect(server.addr).unwrap();
    std::io::Write::write_all(&mut half, b"GET /api/v3/home HTTP/1.1\r\nHost: x\r\n").unwrap();
    drop(half);
    std::thread::sleep(std::time::Duration::from_millis(100));

    // SIGTERM to our own child, by PID: the server stops accepting and exits cleanly.
    let logs = server.stop();
    assert!(!logs.contains("ERROR"), "{logs}");
    // One line per request, in the subscriber's layout: a timestamp in microseconds, then
    // the fields.
    let line = logs
        .lines()
        .find(|l| l.contains(r#"path="/api/v3/secret""#))
        .unwrap_or_else(|| panic!("one line per request: {logs}"));
    let (time, fields) = line.split_at(27);
    assert!(
        time.as_bytes()[10] == b'T' && time.as_bytes()[19] == b'.' && time.ends_with('Z'),
        "{line}"
    );
    let latency = fields
        .strip_prefix(r#"  INFO method=GET path="/api/v3/secret" status=200 latency_us="#)
        .unwrap_or_else(|| panic!("{line}"));
    assert!(latency.parse::<u64>().is_ok(), "{line}");
    assert!(logs.contains("shutting down"), "{logs}");
    let signature = token.rsplit('.').next().unwrap();
    let refresh = body["data"]["refresh_token"].as_str().unwrap();
    assert!(
        !logs.contains(signature) && !logs.contains(&key) && !logs.contains(refresh),
        "no token or API key in the logs: {logs}"
    );
}

#[tokio::test]
async fn serve_help_lists_every_setting_from_the_table() {
    let output = jwtkit().args(["serve", "--help"]).output().await.unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for setting in jwtkit_server::config::SETTINGS {
        for expected in [
            format!("--{} <{}>", setting.flag, setting.value_name),
            format!("env: {}", setting.env),
        ] {
            assert!(help.contains(&expected), "{expected} missing:\n{help}");
        }
        // clap wraps long lines: compare the words.
        let words: Vec<&str> = help.split_whitespace().collect();
        let wanted: Vec<&str> = setting.help.split_whitespace().take(6).collect();
        assert!(
            words.windows(wanted.len()).any(|w| w == wanted.as_slice()),
            "{}'s help missing:\n{help}",
            setting.name
        );
    }
    assert!(help.contains("--json"), "{help}");
}

/// The output of `jwtkit ARGS`, which must succeed.
async fn output(args: &[&str]) -> String {
    let output = jwtkit().args(args).output().await.unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn each_fix_line_copied_as_written_resolves_its_error() {
    let dir = Scratch::new("fixes");
    let store = format!("sqlite:{}", dir.path().join("s.sqlite3").display());
    let entry: serde_json::Value =
        serde_json::from_str(&output(&["keygen", "--api-key", "billing", "--json"]).await).unwrap();
    let entry_text = entry["entry"].as_str().unwrap();

    // A short secret: the fix's command prints one the server takes.
    let (code, stderr) = exit_error(&["serve", "--secret", "short"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("fix: generate one with `jwtkit keygen --secret`"),
        "{stderr}"
    );
    let secret = output(&["keygen", "--secret"]).await;
    let server = Jwtkit::start(&[
        "--secret",
        secret.trim(),
        "--api-key",
        entry_text,
        "--store",
        &store,
    ]);
    let (status, _) = server.post_json(
        "/api/v3/auth",
        &serde_json::json!({"api-key": entry["key"]}),
    );
    assert_eq!(status, 200);
    server.stop();

    // A JWK given as the secret: refused, and the file it came from works with --keys, for
    // the server and for `jwtkit verify` alike.
    let jwk = output(&["keygen", "--alg", "HS256"]).await;
    let (code, stderr) = exit_error(&["serve", "--secret", &jwk], &[]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("looks like a JWK")
            && stderr.contains("fix: give the JWK's file with --keys FILE"),
        "{stderr}"
    );
    assert!(!stderr.contains("\"k\""), "the key is not echoed: {stderr}");
    let keys = dir.path().join("key.json");
    std::fs::write(&keys, &jwk).unwrap();
    let keys = keys.to_str().unwrap();
    let server = Jwtkit::start(&["--keys", keys, "--api-key", entry_text, "--store", &store]);
    let (status, body) = server.post_json(
        "/api/v3/auth",
        &serde_json::json!({"api-key": entry["key"]}),
    );
    assert_eq!(status, 200);
    server.stop();
    output(&[
        "verify",
        body["data"]["token"].as_str().unwrap(),
        "--keys",
        keys,
    ])
    .await;

    // Keys but no API key and no client: a warning naming what to add; with it added, none.
    let server = Jwtkit::start(&["--keys", keys, "--store", &store]);
    let warnings = server.started["warnings"].to_string();
    assert!(
        warnings.contains("no API key and no OpenID client is configured")
            && warnings.contains("jwtkit keygen --api-key NAME")
            && warnings.contains(&format!("`jwtkit clients add JSON --store {store}`"))
            && warnings.contains(&format!("`jwtkit users add NAME --store {store}`")),
        "{warnings}"
    );
    server.stop();
    let server = Jwtkit::start(&["--keys", keys, "--api-key", entry_text, "--store", &store]);
    assert_eq!(server.started["warnings"], serde_json::json!([]));
    server.stop();

    // A client but nobody to sign in as; following the fix (the command as the warning
    // writes it) silences it.
    let client = r#"{"client_id": "app", "redirect_uris": ["https://app.example/cb"]}"#;
    let with_client = ["--keys", keys, "--client", client, "--store", &store];
    let server = Jwtkit::start(&with_client);
    let warnings = server.started["warnings"].to_string();
    assert!(
        warnings.contains("nobody to sign in as")
            && warnings.contains(&format!("`jwtkit users add NAME --store {store}`")),
        "{warnings}"
    );
    server.stop();
    let added = support::jwtkit(
        &["users", "add", "alice", "--store", &store],
        Some("a-long-passphrase\n"),
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    let server = Jwtkit::start(&with_client);
    assert_eq!(server.started["warnings"], serde_json::json!([]));
    server.stop();

    // A person but no client to sign in through; `jwtkit clients add` silences it.
    let server = Jwtkit::start(&["--keys", keys, "--api-key", entry_text, "--store", &store]);
    let warnings = server.started["warnings"].to_string();
    assert!(
        warnings.contains("no OpenID client is registered, so nobody can sign in")
            && warnings.contains(&format!("`jwtkit clients add JSON --store {store}`")),
        "{warnings}"
    );
    server.stop();
    let added = support::jwtkit(&["clients", "add", client, "--store", &store], None);
    assert_eq!(added.code, 0, "{}", added.stderr);
    let server = Jwtkit::start(&["--keys", keys, "--store", &store]);
    assert_eq!(server.started["warnings"], serde_json::json!([]));
    server.stop();

    // A resource server's issuer must be https; the fix's example form is accepted.
    let (code, stderr) = exit_error(&["serve", "--trust-issuer", "ftp://auth.example"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("ftp://auth.example is not an https URL")
            && stderr.contains("fix: use the issuer's https URL"),
        "{stderr}"
    );

    // A store location of another kind: the value and the forms, each form accepted.
    let (code, stderr) = exit_error(&["serve", "--store", "postgres://db.example/x"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("\"postgres://db.example/x\" is neither")
            && stderr.contains("sqlite:FILE")
            && stderr.contains("redis://HOST:PORT[/DB]"),
        "{stderr}"
    );
    let server = Jwtkit::start(&["--store", &store]);
    assert_eq!(
        server.started["store"],
        store.as_str(),
        "the banner says where the store is"
    );
    server.stop();
    let (code, stderr) = exit_error(&["serve", "--store", "sqlite://jwtkit.sqlite3"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("write sqlite: and the file, e.g. sqlite:jwtkit.sqlite3"),
        "{stderr}"
    );

    // The API key itself given as the entry: refused, never echoed, the entry named.
    let key = entry["key"].as_str().unwrap();
    let (code, stderr) = exit_error(&["serve", "--keys", keys, "--api-key", key], &[]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("that is an API key itself") && stderr.contains("NAME:sha256:HASH"),
        "{stderr}"
    );
    assert!(!stderr.contains(key), "the key is not echoed: {stderr}");
    // Two entries joined with a comma: refused (a role cannot hold a `:`), `;` named.
    let joined = format!("{entry_text},{entry_text}");
    let (code, stderr) = exit_error(
        &["serve", "--keys", keys],
        &[("JWTKIT_API_KEYS", joined.as_str())],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("separated by `;`"), "{stderr}");
}
