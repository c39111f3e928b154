//! Every shipped configuration parses, validates and compiles (keeps the
//! examples honest): `config/*.toml` and `config/examples/*.toml`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

use std::path::PathBuf;

use tollgate::control;

/// The `.toml` files directly in `dir`, sorted.
fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Loads every file as `tollgate check -c FILE` does, relative paths
/// (certificates) against the file's directory; panics naming the first
/// that does not load.
fn load_all(files: &[PathBuf]) {
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        let dir = path.parent().unwrap();
        if let Err(errs) = control::load_at(&text, dir) {
            panic!("{}: {errs:#?}", path.display());
        }
    }
}

#[test]
fn every_config_file_loads() {
    let files = toml_files("config");
    load_all(&files);
    assert!(
        files.len() >= 2,
        "expected config/gateway.toml and config/bench.toml"
    );
}

#[test]
fn every_example_file_loads() {
    let files = toml_files("config/examples");
    load_all(&files);
    for name in [
        "stages.toml",
        "parameters.toml",
        "backend-policies.toml",
        "cors.toml",
        "gateway-responses.toml",
        "tls.toml",
        "app-auth.toml",
        "token-auth.toml",
    ] {
        assert!(
            files.iter().any(|p| p.ends_with(name)),
            "config/examples/{name} is missing"
        );
    }
}

#[test]
fn examples_listen_on_fixed_ports() {
    // Examples are run by hand: a fixed port each, never 0.
    for path in toml_files("config/examples") {
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = control::parse(&text).unwrap();
        for l in &spec.listener {
            assert!(
                !l.address.ends_with(":0"),
                "{}: listener {} uses port 0",
                path.display(),
                l.address
            );
        }
    }
}

#[test]
fn embedded_default_is_config_gateway_toml() {
    assert_eq!(
        control::DEFAULT_CONFIG,
        std::fs::read_to_string("config/gateway.toml").unwrap()
    );
}
