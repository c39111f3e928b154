//! Dependency-direction guard (design/style.md §1): a stage may use earlier
//! stages and shared infrastructure, never a later stage, `worker` or
//! `control`; nothing but `main.rs` uses `control`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

use std::collections::HashMap;
use std::path::Path;

/// Request-path order of the stage modules.
const STAGES: &[&str] = &[
    "tls", "http", "route", "policy", "backend", "rewrite", "upstream", "forward", "respond",
    "record",
];
/// Shared infrastructure any module may use.
/// `record` holds per-core counters that every stage bumps; its access-log
/// step runs last, but its counters are infrastructure.
const SHARED: &[&str] = &[
    "error",
    "snapshot",
    "clock",
    "io",
    "request_id",
    "secret",
    "http",
    "record",
];

fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Every module named by a `crate::<module>` path outside comments: `use`
/// lines, grouped and multi-line imports, and inline paths alike.
fn uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let rest_trimmed = rest.trim_start_matches('{');
            let name: String = rest_trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    // `use crate::{a, b::c}`: names after a `{` that continue the group.
    for group in text.split("crate::{").skip(1) {
        let body = group.split('}').next().unwrap_or_default();
        for item in body.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn uses_sees_grouped_multiline_and_inline_paths() {
    let text = "use crate::{\n    worker::X,\n    http::Y,\n};\nfn f() { crate::control::load(); } // crate::record in a comment\n";
    let found = uses(text);
    for m in ["worker", "http", "control"] {
        assert!(found.iter().any(|f| f == m), "{m} not found in {found:?}");
    }
    assert!(!found.iter().any(|f| f == "record"));
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

#[test]
fn stages_depend_only_on_earlier_stages() {
    let src = Path::new("src");
    let order: HashMap<&str, usize> = STAGES.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let module = module_of(&file, src);
        let text = std::fs::read_to_string(&file).unwrap();
        for used in uses(&text) {
            if used == module || SHARED.contains(&used.as_str()) {
                continue;
            }
            let bad = match (module.as_str(), used.as_str()) {
                // The snapshot aggregates every stage's compiled types.
                ("main" | "lib" | "snapshot", _) => false,
                (_, "control") => module != "control",
                ("control", _) => false,
                (_, "worker") => true,
                ("worker", _) => false,
                (_, "pipeline") => true,
                ("pipeline", _) => false,
                (m, u) => match (order.get(m), order.get(u)) {
                    (Some(a), Some(b)) => b > a,
                    (None, _) => true, // shared modules use no stage
                    (Some(_), None) => false,
                },
            };
            if bad {
                violations.push(format!("{}: uses crate::{used}", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependency direction violated:\n{}",
        violations.join("\n")
    );
}
