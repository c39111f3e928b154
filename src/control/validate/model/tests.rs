//! API-model validation rules (behaviour.md §5, §6.5, §8).

use crate::control::load;

/// The error paths `load` reports for an API body added to a DEFAULT group.
fn errors(api: &str) -> Vec<String> {
    let toml = format!(
        "[[listener]]\naddress = \"127.0.0.1:0\"\n[[stage]]\nname = \"DEV\"\n[[group]]\nname = \"DEFAULT\"\n{api}"
    );
    match load(&toml) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.into_iter().map(|e| e.path).collect(),
    }
}

const MOCK: &str = "[group.api.backend]\ntype = \"mock\"\n";

#[test]
fn parameter_naming_rules_of_6_5() {
    for (name, location) in [
        ("x-apig-mode", "QUERY"),
        ("X-Sdk-Date", "HEADER"),
        ("x-stage", "QUERY"),
        ("Authorization", "HEADER"),
        ("X-Auth-Token", "HEADER"),
        ("user_id", "HEADER"),
        ("Content-Length", "HEADER"),
        ("Host", "HEADER"),
    ] {
        let api = format!(
            "[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n[[group.api.param]]\nname = \"{name}\"\nlocation = \"{location}\"\n{MOCK}"
        );
        assert_eq!(
            errors(&api),
            vec!["group[0].api[0].param[0].name"],
            "{name}"
        );
    }
    // Underscores are fine outside headers.
    let ok = format!(
        "[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n[[group.api.param]]\nname = \"user_id\"\nlocation = \"QUERY\"\n{MOCK}"
    );
    assert!(errors(&ok).is_empty());
}

#[test]
fn policy_count_and_unknown_stage() {
    let mut api = String::from(
        "[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nstages = [\"QA\"]\n",
    );
    api += MOCK;
    for i in 0..6 {
        api += &format!(
            "[[group.api.policy]]\nname = \"p{i}\"\ncondition = [{{ source = \"source_ip\", value = \"10.0.0.{i}\" }}]\nbackend = {{ type = \"mock\" }}\n"
        );
    }
    let errs = errors(&api);
    assert!(
        errs.contains(&"group[0].api[0].stages[0]".to_string()),
        "{errs:?}"
    );
    assert!(
        errs.contains(&"group[0].api[0].policy".to_string()),
        "{errs:?}"
    );
}

#[test]
fn undefined_stage_variable_is_reported_per_stage() {
    // behaviour.md §5.2: every stage the API is published in must define it.
    let api = "[group.variables.RELEASE]\nhost = \"127.0.0.1:1\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nstages = [\"RELEASE\", \"DEV\"]\n[group.api.backend]\ntype = \"http\"\naddress = \"#host#\"\n";
    assert_eq!(errors(api), vec!["group[0].api[0].backend.address"]);
    let fixed = api.replace(
        "[[group.api]]",
        "[group.variables.DEV]\nhost = \"127.0.0.1:2\"\n[[group.api]]",
    );
    assert!(errors(&fixed).is_empty());
}
