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
        (&["serve", "--config", "/nonexistent.toml"], &[], "`config`"),
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
async fn config_file_settings_are_validated_with_unknown_keys_refused() {
    let dir = std::env::temp_dir().join(format!("jwtkit-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwtkit.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:0\"\ntoken_tll = \"3m\"\n").unwrap();
    let (code, stderr) = exit_error(&["serve", "--config", file.to_str().unwrap()], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("token_tll"), "the typo is named: {stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
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
