//! `tollgate check` on API-model mistakes (behaviour.md §5, §6.5, §8, §9,
//! §18): each bad file exits 1 and names the TOML key path and the
//! problem; every problem of a file is reported in one run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// What every file starts with.
const HEAD: &str = "[[listener]]\naddress = \"127.0.0.1:0\"\n\n";

/// Writes `body` (after [`HEAD`]) to a file of its own in a temp dir.
fn write_temp(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tollgate-config-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("{HEAD}{body}")).unwrap();
    path
}

/// Runs `tollgate check -c` on `body`: (exit code, stdout + stderr).
fn check(name: &str, body: &str) -> (Option<i32>, String) {
    let path = write_temp(name, body);
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
    (out.status.code(), text)
}

/// Asserts that `body` is rejected with exit code 1 and that for every
/// `(key path, words)` one output line names both.
fn rejects(name: &str, body: &str, expected: &[(&str, &str)]) -> String {
    let (code, out) = check(name, body);
    assert_eq!(code, Some(1), "{name} should be rejected:\n{out}");
    for (path, words) in expected {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("{path}: ")) && l.contains(words)),
            "{name}: no line names `{path}` and \"{words}\":\n{out}"
        );
    }
    out
}

/// Asserts that `body` is accepted.
fn accepts(name: &str, body: &str) {
    let (code, out) = check(name, body);
    assert_eq!(code, Some(0), "{name} should be accepted:\n{out}");
}

/// A DEFAULT group with one API `GET /a` whose `[[group.api.param]]`,
/// backend lines and extra tables are `params`, `backend` and `extra`.
fn api(params: &str, backend: &str, extra: &str) -> String {
    format!(
        "[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n{params}\n[group.api.backend]\ntype = \"http\"\naddress = \"127.0.0.1:18080\"\n{backend}\n{extra}"
    )
}

/// A HEADER input parameter named `name`.
fn header_param(name: &str) -> String {
    format!("[[group.api.param]]\nname = \"{name}\"\nlocation = \"HEADER\"\n")
}

/// A backend policy selecting on query parameter `q` (`type`, `value`).
fn policy(i: usize, kind: &str, value: &str) -> String {
    format!(
        "[[group.api.policy]]\nname = \"p{i}\"\n[[group.api.policy.condition]]\nsource = \"param\"\nparam = \"q\"\ntype = \"{kind}\"\nvalue = '{value}'\n[group.api.policy.backend]\ntype = \"mock\"\nbody = \"p{i}\"\n"
    )
}

const Q: &str = "[[group.api.param]]\nname = \"q\"\nlocation = \"QUERY\"\n";

/// A DEFAULT group whose set `custom` has a NOT_FOUND body `body`.
fn response_body(body: &str) -> String {
    format!(
        "[[group]]\nname = \"DEFAULT\"\n[group.responses.custom.NOT_FOUND]\nbody = '{body}'\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\ngateway_response = \"custom\"\n[group.api.backend]\ntype = \"mock\"\n"
    )
}

#[test]
fn six_backend_policies_are_one_too_many() {
    // behaviour.md §8.1: at most 5 policies besides the default backend.
    let five: String = (0..5).map(|i| policy(i, "equal", &i.to_string())).collect();
    accepts("five-policies", &api(Q, "", &five));
    let six: String = (0..6).map(|i| policy(i, "equal", &i.to_string())).collect();
    rejects(
        "six-policies",
        &api(Q, "", &six),
        &[("group[0].api[0].policy", "at most 5")],
    );
}

#[test]
fn reserved_and_invalid_header_parameter_names() {
    // behaviour.md §6.5 naming rules.
    for (name, words) in [
        ("x-apig-foo", "reserves"),
        ("X-Apig-Foo", "reserves"),
        ("x-sdk-date", "reserves"),
        ("X-Stage", "x-stage is reserved"),
        ("x_user", "contains _"),
        ("Authorization", "may not be named Authorization"),
        ("X-Auth-Token", "may not be named X-Auth-Token"),
    ] {
        rejects(
            &format!("header-{name}"),
            &api(&header_param(name), "", ""),
            &[("group[0].api[0].param[0].name", words)],
        );
    }
    accepts("header-ok", &api(&header_param("X-User"), "", ""));
}

#[test]
fn unknown_stage_in_stages() {
    // behaviour.md §5.3: an API is published only in defined stages.
    let body = api("", "", "").replace(
        "path = \"/a\"\n",
        "path = \"/a\"\nstages = [\"RELEASE\", \"DEV\"]\n",
    );
    let out = rejects(
        "unknown-stage",
        &body,
        &[("group[0].api[0].stages[1]", "stage \"DEV\" is not defined")],
    );
    assert!(
        out.contains("[[stage]]"),
        "the fix says how to define it:\n{out}"
    );
    accepts(
        "known-stage",
        &format!("[[stage]]\nname = \"DEV\"\n\n{body}"),
    );
}

#[test]
fn stage_variable_missing_in_a_published_stage() {
    // behaviour.md §5.2: every #name# must be defined in every stage the
    // API is published in.
    let body = format!(
        "[[stage]]\nname = \"DEV\"\n\n{}",
        api("", "path = \"/#prefix#/x\"\n", "").replace(
            "path = \"/a\"\n",
            "path = \"/a\"\nstages = [\"RELEASE\", \"DEV\"]\n",
        )
    )
    .replace(
        "[[group.api]]",
        "[group.variables.RELEASE]\nprefix = \"v1\"\n\n[[group.api]]",
    );
    rejects(
        "undefined-variable",
        &body,
        &[(
            "group[0].api[0].backend.path",
            "#prefix#, which stage DEV does not define",
        )],
    );
    let fixed = body.replace(
        "[[group.api]]",
        "[group.variables.DEV]\nprefix = \"v2\"\n\n[[group.api]]",
    );
    accepts("defined-variable", &fixed);
}

#[test]
fn unknown_response_type_key() {
    // behaviour.md §18.2: the fourteen type keys.
    let body =
        "[[group]]\nname = \"DEFAULT\"\n[group.responses.default.NOT_FOUNDS]\nstatus = 404\n";
    rejects(
        "unknown-type",
        body,
        &[(
            "group[0].responses.default.NOT_FOUNDS",
            "unknown response type \"NOT_FOUNDS\"",
        )],
    );
}

#[test]
fn unknown_context_variable_in_a_template() {
    // behaviour.md §18.3: the documented variables only.
    rejects(
        "unknown-variable",
        &response_body(r#"{"x": "$context.foo"}"#),
        &[("group[0].responses.custom.NOT_FOUND.body", "$context.foo")],
    );
    accepts(
        "known-variable",
        &response_body(r#"{"x": "$context.sourceIp"}"#),
    );
}

#[test]
fn template_that_is_not_json() {
    // behaviour.md §18.1: "Content must be JSON".
    let out = rejects(
        "not-json",
        &response_body(r#"{"error_code": "$context.error.code""#),
        &[("group[0].responses.custom.NOT_FOUND.body", "")],
    );
    assert!(
        out.to_ascii_lowercase().contains("json"),
        "the message says JSON:\n{out}"
    );
    rejects(
        "plain-text",
        &response_body("Not found: $context.error.message"),
        &[("group[0].responses.custom.NOT_FOUND.body", "")],
    );
}

#[test]
fn regex_that_does_not_compile() {
    // behaviour.md §8.2 Matching conditions.
    rejects(
        "bad-regex",
        &api(Q, "", &policy(0, "match", "[0-5")),
        &[(
            "group[0].api[0].policy[0].condition[0].value",
            "regular expression",
        )],
    );
    accepts("good-regex", &api(Q, "", &policy(0, "match", "[0-5]")));
}

#[test]
fn conflicting_routes_in_one_stage_but_not_across_stages() {
    // behaviour.md §5.3, §6.7: two APIs with the same method, path and
    // match mode cannot both be published in one stage.
    let two = |stages_b: &str| {
        format!(
            "[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/same\"\nmatch = \"prefix\"\n[group.api.backend]\ntype = \"mock\"\n\n[[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/same\"\nmatch = \"prefix\"\nstages = {stages_b}\n[group.api.backend]\ntype = \"mock\"\n"
        )
    };
    rejects(
        "conflict-same-stage",
        &two("[\"DEV\", \"RELEASE\"]"),
        &[("group[0].api[1].path", "conflicts with group[0].api[0]")],
    );
    accepts("conflict-other-stage", &two("[\"DEV\"]"));
}

#[test]
fn mapping_from_an_undefined_input() {
    // behaviour.md §9.1: a backend parameter maps a defined input.
    let mapping =
        "[[group.api.backend.param]]\nname = \"user\"\nlocation = \"HEADER\"\nfrom = \"uid\"\n";
    rejects(
        "undefined-input",
        &api(Q, "", mapping),
        &[(
            "group[0].api[0].backend.param[0].from",
            "\"uid\" is not an input parameter",
        )],
    );
    accepts("defined-input", &api(Q, "", &mapping.replace("uid", "q")));
}

#[test]
fn unknown_system_parameter() {
    // behaviour.md §9.3: the gateway's system parameters.
    let system = "[[group.api.backend.system]]\nname = \"X-Client\"\nlocation = \"HEADER\"\nfrom = \"clientIp\"\n";
    rejects(
        "unknown-system",
        &api("", "", system),
        &[(
            "group[0].api[0].backend.system[0].from",
            "unknown system parameter \"clientIp\"",
        )],
    );
    accepts(
        "known-system",
        &api("", "", &system.replace("clientIp", "sourceIp")),
    );
}

#[test]
fn every_error_of_a_file_is_reported_at_once() {
    // style.md §4.3: all errors with their TOML path, in one run.
    let body = api(
        &header_param("X-Stage"),
        "",
        "[[group.api.backend.system]]\nname = \"X-Client\"\nlocation = \"HEADER\"\nfrom = \"clientIp\"\n",
    )
    .replace("path = \"/a\"\n", "path = \"/a\"\nstages = [\"NOPE\"]\n");
    let out = rejects(
        "three-errors",
        &body,
        &[
            ("group[0].api[0].stages[0]", "stage \"NOPE\" is not defined"),
            ("group[0].api[0].param[0].name", "x-stage is reserved"),
            (
                "group[0].api[0].backend.system[0].from",
                "unknown system parameter",
            ),
        ],
    );
    assert!(out.contains("3 error(s)"), "{out}");
}

#[test]
fn summary_counts_groups_not_group_stage_pairs() {
    // regression: `check` printed one group per (group, stage) pair once
    // stages existed ("2 group(s)" for one group and one extra stage).
    let path = write_temp(
        "summary",
        "[[stage]]\nname = \"DEV\"\n[[stage]]\nname = \"TEST\"\n\n[[group]]\nname = \"DEFAULT\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nstages = [\"DEV\"]\n[group.api.backend]\ntype = \"mock\"\n",
    );
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("OK: 1 group(s), 1 API(s)"), "{stdout}");
}
#[test]
fn errors_found_by_validation_and_by_compilation_come_together() {
    // An undefined input in one API (found by validation) hides neither a
    // regex that does not compile in another API nor a template that is
    // not JSON (both found compiling).
    let second = format!(
        "[[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/b\"\n{Q}[group.api.backend]\ntype = \"mock\"\n{}",
        policy(0, "match", "[0-5")
    );
    let body = api(
        Q,
        "",
        "[[group.api.backend.param]]\nname = \"user\"\nlocation = \"HEADER\"\nfrom = \"uid\"\n",
    )
    .replace(
        "[[group.api]]",
        "[group.responses.default.NOT_FOUND]\nbody = 'not json'\n\n[[group.api]]",
    ) + &second;
    let out = rejects(
        "mixed-errors",
        &body,
        &[
            (
                "group[0].api[0].backend.param[0].from",
                "\"uid\" is not an input parameter",
            ),
            (
                "group[0].api[1].policy[0].condition[0].value",
                "regular expression",
            ),
            ("group[0].responses.default.NOT_FOUND.body", "JSON"),
        ],
    );
    assert!(out.contains("3 error(s)"), "{out}");
}

#[test]
fn hostile_client_limits_that_cannot_work_are_check_errors() {
    // HEAD opens with [[listener]]; [server] and [settings] tables follow.
    let body = "[server]\nhead_buffer_budget_bytes = 100000\n\n\
                [settings]\nmax_body_bytes = 1000\n";
    rejects(
        "hostile-limits",
        body,
        &[(
            "server.head_buffer_budget_bytes",
            "cannot hold even one request head",
        )],
    );
    rejects(
        "path-rule-spelling",
        "[settings]\npath_semicolon = \"strip\"\n",
        &[("settings.path_semicolon", "expected `reject` or `keep`")],
    );
    accepts(
        "hostile-limits-ok",
        "[server]\nworker_connections = 100\n\n[settings]\nunderscore_headers = \"reject\"\npath_case_sensitive = false\n",
    );
}
