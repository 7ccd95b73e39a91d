//! The real `jwtkit serve` process: configuration errors, the development banner, logs that
//! never carry tokens or keys, and graceful shutdown on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

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

struct Running {
    child: Child,
    addr: std::net::SocketAddr,
    /// What `--json` printed: {"url", "demo_page", "development"}.
    started: serde_json::Value,
}

/// A store of the test's own in the system's temporary directory.
fn store_arg(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("jwtkit-binary-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite:{}", dir.join("store.sqlite3").display())
}

/// Starts `jwtkit serve --json` on port 0 and reads its one JSON line.
async fn start(args: &[&str]) -> Running {
    let mut child = jwtkit()
        .args(["serve", "--json", "--bind", "127.0.0.1:0"])
        .args(["--store", &store_arg("start")])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Keep draining stdout so that the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let started: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr = started["url"]
        .as_str()
        .unwrap()
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap();
    Running {
        child,
        addr,
        started,
    }
}

#[tokio::test]
async fn the_banner_warns_loudly_about_the_development_setup() {
    let mut child = jwtkit()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(["--store", &store_arg("banner")])
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
    assert!(banner.contains("DEVELOPMENT SETUP"), "{banner}");
    assert!(banner.contains("API key dev "), "{banner}");
    assert!(banner.contains("API key dev-admin "), "{banner}");
}

#[tokio::test]
async fn development_server_serves_logs_safely_and_shuts_down_gracefully() {
    let mut server = start(&[]).await;
    assert!(server.started["demo_page"].is_null(), "{}", server.started);
    let dev = &server.started["development"]["api_keys"];
    assert_eq!(dev[0]["name"], "dev", "{}", server.started);
    assert_eq!(dev[1]["roles"], serde_json::json!(["user", "admin"]));
    let key = dev[0]["key"].as_str().unwrap().to_owned();
    let addr = server.addr;
    let body = format!(r#"{{"api-key":"{key}"}}"#);
    let raw = format!(
        "POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let auth = http(addr, &raw);
    assert!(auth.starts_with("HTTP/1.1 200"), "{auth}");
    let body: serde_json::Value =
        serde_json::from_str(auth.split_once("\r\n\r\n").unwrap().1).unwrap();
    let token = body["data"]["token"].as_str().unwrap().to_owned();
    let secret = http(
        addr,
        &format!(
            "GET /api/v3/secret HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
        ),
    );
    assert!(secret.starts_with("HTTP/1.1 200"), "{secret}");

    // SIGTERM to our own child, by PID: the server stops accepting and exits cleanly.
    let pid = server.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut logs = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(
        logs.contains("/api/v3/secret") && logs.contains("status=200"),
        "one line per request: {logs}"
    );
    assert!(logs.contains("shutting down"), "{logs}");
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !logs.contains(signature) && !logs.contains(&key),
        "no token or API key in the logs: {logs}"
    );
}

/// One request on a new connection (`Connection: close`), the whole response as text.
fn http(addr: std::net::SocketAddr, raw: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
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
