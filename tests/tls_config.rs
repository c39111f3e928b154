//! Certificates at load (issue 4, behaviour.md §4.3–§4.5): unreadable,
//! mismatched, expired and wrongly named certificates are `tollgate check`
//! errors naming the TOML key, the file and the domain; relative paths
//! resolve against the configuration file's directory.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point

mod common;

use std::process::Command;

use common::pki::{Issued, Pki, certificate_toml};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// A TLS listener and group `g` with `domain` bound to certificate "c".
fn config(cert: &str, domain: &str, extra_domain: &str) -> String {
    format!(
        "[[listener]]\naddress = \"127.0.0.1:0\"\ntls = true\n\n{cert}\
         [[group]]\nname = \"g\"\n[[group.domain]]\nname = \"{domain}\"\ncertificate = \"c\"\n{extra_domain}\
         [[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/\"\n[group.api.backend]\ntype = \"mock\"\n"
    )
}

/// Runs `tollgate check -c` on `toml` written into `dir`.
fn check_in(dir: &std::path::Path, toml: &str) -> (bool, String) {
    let path = dir.join("gateway.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_good_certificate_with_relative_paths_checks_clean() {
    let pki = Pki::new("cfg-good");
    pki.server("good", &["a.example.test"]);
    let cert = "[[certificate]]\nname = \"c\"\ncert = \"good.pem\"\nkey = \"good.key\"\n\n";
    let (ok, text) = check_in(&pki.dir, &config(cert, "a.example.test", ""));
    assert!(ok, "{text}");
}

#[test]
fn an_unreadable_certificate_names_the_key_and_the_file() {
    let pki = Pki::new("cfg-missing");
    let issued = Issued {
        cert: pki.dir.join("nowhere.pem"),
        key: pki.dir.join("nowhere.key"),
    };
    let (ok, text) = check_in(
        &pki.dir,
        &config(&certificate_toml("c", &issued, None), "a.example.test", ""),
    );
    assert!(!ok);
    assert!(text.contains("certificate[0].cert"), "{text}");
    assert!(text.contains("nowhere.pem"), "{text}");
    assert!(text.contains("bound to domain a.example.test"), "{text}");
}

#[test]
fn a_key_of_another_certificate_is_an_error() {
    let pki = Pki::new("cfg-mismatch");
    let a = pki.server("a", &["a.example.test"]);
    let b = pki.server("b", &["a.example.test"]);
    let mixed = Issued {
        cert: a.cert.clone(),
        key: b.key.clone(),
    };
    let (ok, text) = check_in(
        &pki.dir,
        &config(&certificate_toml("c", &mixed, None), "a.example.test", ""),
    );
    assert!(!ok);
    assert!(text.contains("certificate[0].key"), "{text}");
    assert!(text.contains("does not match the certificate"), "{text}");
    assert!(text.contains("a.pem") && text.contains("b.key"), "{text}");
    assert!(text.contains("bound to domain a.example.test"), "{text}");
}

#[test]
fn an_expired_certificate_is_an_error() {
    let pki = Pki::new("cfg-expired");
    let old = pki.expired_server("old", &["a.example.test"]);
    let (ok, text) = check_in(
        &pki.dir,
        &config(&certificate_toml("c", &old, None), "a.example.test", ""),
    );
    assert!(!ok);
    assert!(text.contains("certificate[0].cert"), "{text}");
    assert!(text.contains("expired on"), "{text}");
    assert!(text.contains("old.pem"), "{text}");
    assert!(text.contains("bound to domain a.example.test"), "{text}");
}

#[test]
fn a_domain_the_certificate_does_not_name_is_an_error() {
    // §4.3: the certificate's domain must be the domain it is bound to.
    let pki = Pki::new("cfg-name");
    let a = pki.server("a", &["a.example.test", "*.wild.example.test"]);
    let toml = config(&certificate_toml("c", &a, None), "b.example.test", "");
    let (ok, text) = check_in(&pki.dir, &toml);
    assert!(!ok);
    assert!(text.contains("group[0].domain[0].certificate"), "{text}");
    assert!(
        text.contains("b.example.test") && text.contains("a.pem"),
        "{text}"
    );
    // A wildcard covers one label.
    let toml = config(&certificate_toml("c", &a, None), "x.wild.example.test", "");
    assert!(check_in(&pki.dir, &toml).0);
}

#[test]
fn client_auth_needs_a_ca_and_versions_are_checked() {
    let pki = Pki::new("cfg-auth");
    let a = pki.server("a", &["a.example.test"]);
    let toml = config(
        &certificate_toml("c", &a, None),
        "a.example.test",
        "client_auth = true\nmin_tls_version = \"1.1\"\n",
    );
    let (ok, text) = check_in(&pki.dir, &toml);
    assert!(!ok);
    assert!(text.contains("group[0].domain[0].client_auth"), "{text}");
    assert!(
        text.contains("group[0].domain[0].min_tls_version"),
        "{text}"
    );
    assert!(
        text.contains("rustls"),
        "the fix explains why 1.1 is missing: {text}"
    );
}

#[test]
fn the_default_group_cannot_hold_strict_domains() {
    // Review I2b: DEFAULT answers every unknown Host, so a client_auth or
    // TLS 1.3 domain there would be reachable without its handshake.
    let pki = Pki::new("cfg-default");
    let clients = Pki::new("cfg-default-clients");
    let a = pki.server("a", &["a.example.test"]);
    let toml = config(
        &certificate_toml("c", &a, Some(&clients.ca_path())),
        "a.example.test",
        "client_auth = true\n",
    )
    .replace("name = \"g\"", "name = \"DEFAULT\"");
    let (ok, text) = check_in(&pki.dir, &toml);
    assert!(!ok);
    assert!(
        text.contains("group[0].domain[0]") && text.contains("DEFAULT"),
        "{text}"
    );
}

#[test]
fn unknown_certificate_names_and_bare_tls_listeners_are_errors() {
    let pki = Pki::new("cfg-names");
    let toml = "[[listener]]\naddress = \"127.0.0.1:0\"\ntls = true\n\
                [[listener]]\naddress = \"127.0.0.1:0\"\ndefault_certificate = \"nope\"\n\
                [[group]]\nname = \"g\"\n[[group.domain]]\nname = \"a.example.test\"\ncertificate = \"ghost\"\n";
    let (ok, text) = check_in(&pki.dir, toml);
    assert!(!ok);
    assert!(text.contains("group[0].domain[0].certificate"), "{text}");
    assert!(text.contains("\"ghost\""), "{text}");
    assert!(text.contains("listener[0].tls"), "{text}");
    assert!(text.contains("listener[1].default_certificate"), "{text}");
}

#[test]
fn certificates_without_a_tls_listener_are_an_error() {
    let pki = Pki::new("cfg-nolistener");
    let a = pki.server("a", &["a.example.test"]);
    let toml =
        config(&certificate_toml("c", &a, None), "a.example.test", "").replace("tls = true\n", "");
    let (ok, text) = check_in(&pki.dir, &toml);
    assert!(!ok);
    assert!(text.contains("no listener terminates TLS"), "{text}");
}

#[test]
fn tls_settings_need_an_https_backend() {
    let pki = Pki::new("cfg-backend");
    let toml = "[[listener]]\naddress = \"127.0.0.1:0\"\n\
                [[group]]\nname = \"g\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/\"\n\
                protocol = \"SPDY\"\n\
                [group.api.backend]\ntype = \"http\"\naddress = \"127.0.0.1:9\"\ntls_verify = false\n";
    let (ok, text) = check_in(&pki.dir, toml);
    assert!(!ok);
    assert!(
        text.contains("group[0].api[0].backend.tls_verify"),
        "{text}"
    );
    assert!(text.contains("group[0].api[0].protocol"), "{text}");
}
