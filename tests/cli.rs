//! The binary: `check` reports every error with key path, line and fix;
//! `run` serves the embedded default config and exits 0 on SIGTERM;
//! `--version`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// Runs `tollgate check -c <path>`: (exit code, stdout, stderr).
fn check(path: &std::path::Path) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(path)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tollgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn version_prints_the_package_version() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn check_accepts_a_valid_config_with_a_summary() {
    let out = Command::new(BIN)
        .args(["check", "-c", "config/gateway.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains("OK: 1 group(s), 3 API(s)"), "{stdout}");
}

#[test]
fn check_reports_every_error_with_path_line_and_fix() {
    let path = write_temp(
        "bad.toml",
        r#"[server]
workers = 0
driver = "kqueue"

[[listener]]
address = "localhost"

[[group]]
name = "DEFAULT"

[[group.api]]
name = "a"
method = "GETS"
path = "/users/u{id}"
[group.api.backend]
type = "http"
address = "127.0.0.1:99999"
path = "/x/{nope}"

[[group.api]]
name = "b"
method = "GET"
path = "/same"
[group.api.backend]
type = "mock"

[[group.api]]
name = "c"
method = "GET"
path = "/same"
[group.api.backend]
type = "mock"
"#,
    );
    let (code, _, err) = check(&path);
    assert_eq!(code, Some(1));
    for (needle, line) in [
        ("server.workers", 2),
        ("server.driver", 3),
        ("listener[0].address", 6),
        ("group[0].api[0].method", 13),
        ("group[0].api[0].path", 14),
        ("group[0].api[0].backend.address", 17),
    ] {
        let hit = err
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no error for {needle}:\n{err}"));
        assert!(
            hit.contains(&format!("line {line}:")),
            "{needle} should be on line {line}: {hit}"
        );
    }
    assert!(err.contains("fix:"), "{err}");
}

#[test]
fn check_reports_route_conflicts() {
    let path = write_temp(
        "conflict.toml",
        "[[listener]]\naddress = \"127.0.0.1:0\"\n[[group]]\nname = \"DEFAULT\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/u/{id}\"\n[group.api.backend]\ntype = \"mock\"\n[[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/u/{uid}\"\n[group.api.backend]\ntype = \"mock\"\n",
    );
    let (code, _, err) = check(&path);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("group[0].api[1].path") && err.contains("conflicts with group[0].api[0]"),
        "{err}"
    );
    assert!(err.contains("line 14:"), "{err}");
}

#[test]
fn check_reports_unknown_keys_and_bad_types() {
    let path = write_temp("typo.toml", "[server]\nworkerz = 2\n");
    let (code, _, err) = check(&path);
    assert_eq!(code, Some(1));
    assert!(err.contains("workerz") && err.contains("line 2"), "{err}");

    let path = write_temp("type.toml", "[settings]\nmax_body_bytes = \"big\"\n");
    let (_, _, err) = check(&path);
    assert!(
        err.contains("settings.max_body_bytes") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn run_serves_the_default_config_and_exits_0_on_sigterm() {
    // The embedded default listens on 127.0.0.1:8080; skip if it is taken.
    if TcpStream::connect("127.0.0.1:8080").is_ok() {
        eprintln!("127.0.0.1:8080 is in use; skipping");
        return;
    }
    let mut child = Command::new(BIN)
        .arg("run")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match TcpStream::connect("127.0.0.1:8080") {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::yield_now(),
            Err(e) => panic!("gateway did not listen: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with("Hello from Tollgate\n"), "{resp}");
    // SAFETY: plain kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
