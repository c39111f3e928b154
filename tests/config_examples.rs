//! Every shipped configuration parses, validates and compiles (keeps the
//! examples honest).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

use tollgate::control;

#[test]
fn every_config_file_loads() {
    let mut seen = 0;
    for entry in std::fs::read_dir("config").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(errs) = control::load(&text) {
                panic!("{}: {errs:#?}", path.display());
            }
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "expected config/gateway.toml and config/bench.toml"
    );
}

#[test]
fn embedded_default_is_config_gateway_toml() {
    assert_eq!(
        control::DEFAULT_CONFIG,
        std::fs::read_to_string("config/gateway.toml").unwrap()
    );
}
