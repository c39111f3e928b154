//! Template compilation and rendering (behaviour.md §18).
use super::*;

const NOT_FOUND_MSG: &str = "The API does not exist or has not been published in the environment.";

fn ctx<'a>(
    frontend: &'a [(Box<str>, Box<str>)],
    backend: &'a [(Box<str>, Box<str>)],
) -> ErrorContext<'a> {
    ErrorContext {
        request_id: b"822cf60eb35d5280fc83614b31e7b507",
        api_id: b"api-1",
        app_id: b"",
        stage: b"RELEASE",
        source_ip: b"10.0.0.7",
        error_code: "APIG.0101",
        error_message: NOT_FOUND_MSG,
        error_type: "NOT_FOUND",
        frontend,
        backend,
    }
}

fn pairs(kv: &[(&str, &str)]) -> Vec<(Box<str>, Box<str>)> {
    kv.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
}

/// Renders, checks the length promise and that the output is JSON.
fn render(t: &Template, c: &ErrorContext<'_>) -> String {
    let mut out = BytesMut::from(&b"prefix"[..]);
    t.render(c, &mut out);
    let body = &out[b"prefix".len()..];
    assert_eq!(body.len(), t.rendered_len(c), "rendered_len");
    serde_json::from_slice::<serde_json::Value>(body).expect("rendered body is JSON");
    String::from_utf8(body.to_vec()).expect("utf-8")
}

fn compile_render(src: &str, c: &ErrorContext<'_>) -> String {
    render(&Template::compile(src).expect("compiles"), c)
}

#[test]
fn builtin_renders_the_default_body_byte_for_byte() {
    let body = render(&Template::builtin(), &ctx(&[], &[]));
    assert_eq!(
        body,
        format!(
            r#"{{"error_code": "APIG.0101", "error_msg": "{NOT_FOUND_MSG}", "request_id": "822cf60eb35d5280fc83614b31e7b507"}}"#
        )
    );
}

#[test]
fn builtin_equals_the_default_template_compiled() {
    assert_eq!(Template::compile(DEFAULT_TEMPLATE), Ok(Template::builtin()));
}

#[test]
fn custom_example_renders_every_field() {
    let src = r#"{"errorcode": "$context.error.code", "errormsg": "$context.error.message", "requestid": "$context.requestId", "apiId": "$context.apiId"}"#;
    let body = compile_render(src, &ctx(&[], &[]));
    assert_eq!(
        body,
        format!(
            r#"{{"errorcode": "APIG.0101", "errormsg": "{NOT_FOUND_MSG}", "requestid": "822cf60eb35d5280fc83614b31e7b507", "apiId": "api-1"}}"#
        )
    );
}

#[test]
fn names_match_case_insensitively() {
    let src = r#"{"a": "$context.requestid", "b": "$CONTEXT.APIID", "c": "$context.Error.Type", "d": "$context.SOURCEIP", "e": "$context.stage"}"#;
    let body = compile_render(src, &ctx(&[], &[]));
    assert_eq!(
        body,
        r#"{"a": "822cf60eb35d5280fc83614b31e7b507", "b": "api-1", "c": "NOT_FOUND", "d": "10.0.0.7", "e": "RELEASE"}"#
    );
}

#[test]
fn longest_name_wins_and_the_next_byte_ends_it() {
    let body = compile_render(r#"{"a": "$context.stage-$context.apiIdx"}"#, &ctx(&[], &[]));
    assert_eq!(body, r#"{"a": "RELEASE-api-1x"}"#);
}

#[test]
fn quoted_values_are_json_escaped() {
    let c = ErrorContext {
        error_message: "say \"hi\"\\ now\nthen\t\u{1}é",
        ..ctx(&[], &[])
    };
    let body = compile_render(r#"{"m": "$context.error.message"}"#, &c);
    assert_eq!(body, r#"{"m": "say \"hi\"\\ now\u000athen\u0009\u0001é"}"#);
    let parsed: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(parsed["m"], c.error_message);
}

#[test]
fn unquoted_values_become_json_values() {
    let fe = pairs(&[
        ("num", "1001"),
        ("neg", "-2.5e3"),
        ("yes", "true"),
        ("nil", "null"),
        ("word", "abc"),
        ("lead0", "007"),
        ("quote", "a\"b"),
    ]);
    let src = r#"{"n": $context.authorizer.frontend.num, "g": $context.authorizer.frontend.neg, "y": $context.authorizer.frontend.yes, "z": $context.authorizer.frontend.nil, "w": $context.authorizer.frontend.word, "l": $context.authorizer.frontend.lead0, "q": $context.authorizer.frontend.quote, "e": $context.appId}"#;
    let body = compile_render(src, &ctx(&fe, &[]));
    assert_eq!(
        body,
        r#"{"n": 1001, "g": -2.5e3, "y": true, "z": null, "w": "abc", "l": "007", "q": "a\"b", "e": null}"#
    );
}

#[test]
fn json_number_grammar_is_exact() {
    for ok in ["0", "-0", "12", "1.5", "1e9", "1E+9", "-3.25e-2"] {
        assert!(is_json_number(ok.as_bytes()), "{ok}");
    }
    for bad in [
        "", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x1", "1.5.5", "NaN",
    ] {
        assert!(!is_json_number(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn authorizer_properties_present_and_absent() {
    let fe = pairs(&[("user", "alice"), ("Tier-1", "gold")]);
    let be = pairs(&[("tenant_id", "t9")]);
    let src = r#"{"u": "$context.authorizer.frontend.user", "t": "$context.Authorizer.Frontend.Tier-1", "b": "$context.authorizer.backend.tenant_id", "missing": "$context.authorizer.frontend.USER", "raw_missing": $context.authorizer.backend.nope}"#;
    let body = compile_render(src, &ctx(&fe, &be));
    assert_eq!(
        body,
        r#"{"u": "alice", "t": "gold", "b": "t9", "missing": "", "raw_missing": null}"#
    );
    let body = compile_render(src, &ctx(&[], &[]));
    assert_eq!(
        body,
        r#"{"u": "", "t": "", "b": "", "missing": "", "raw_missing": null}"#
    );
}

#[test]
fn property_ends_at_a_dot() {
    let fe = pairs(&[("user", "alice")]);
    let body = compile_render(
        r#"{"u": "$context.authorizer.frontend.user.name"}"#,
        &ctx(&fe, &[]),
    );
    assert_eq!(body, r#"{"u": "alice.name"}"#);
}

#[test]
fn unknown_variable_is_named() {
    let err = Template::compile(r#"{"a": "$context.apid"}"#).unwrap_err();
    assert_eq!(err, TemplateError::UnknownVariable("apid".into()));
    assert!(err.to_string().contains("$context.apid"), "{err}");
    let err = Template::compile(r#"{"a": "$context.error.kind"}"#).unwrap_err();
    assert_eq!(err, TemplateError::UnknownVariable("error.kind".into()));
    let err = Template::compile(r#"{"a": "$context.authorizer.frontend."}"#).unwrap_err();
    assert_eq!(
        err,
        TemplateError::UnknownVariable("authorizer.frontend.".into())
    );
}

#[test]
fn overlong_property_is_rejected() {
    let ok = format!(
        r#"{{"a": "$context.authorizer.backend.{}"}}"#,
        "p".repeat(32)
    );
    assert!(Template::compile(&ok).is_ok());
    let bad = format!(
        r#"{{"a": "$context.authorizer.backend.{}"}}"#,
        "p".repeat(33)
    );
    assert!(matches!(
        Template::compile(&bad),
        Err(TemplateError::PropertyTooLong(_))
    ));
}

#[test]
fn non_json_content_is_rejected() {
    for src in [
        r#"{"error_code": "$context.error.code""#,
        "plain text",
        r#"{"a": $context.apiId$context.appId}"#,
        r#"{"a": "x"$context.apiId}"#,
        r#"{$context.apiId: 1}"#,
        r#"{"a": 1$context.apiId}"#,
        "",
    ] {
        let err = Template::compile(src).unwrap_err();
        assert!(matches!(err, TemplateError::NotJson(_)), "{src}: {err:?}");
    }
}

#[test]
fn dollar_without_context_is_literal() {
    let src = r#"{"price": "$5", "cost$": 3, "$ctx": "$context", "esc": "\"$context.stage\""}"#;
    let body = compile_render(src, &ctx(&[], &[]));
    assert_eq!(
        body,
        r#"{"price": "$5", "cost$": 3, "$ctx": "$context", "esc": "\"RELEASE\""}"#
    );
}

#[test]
fn string_state_follows_escapes() {
    // The variable after `\\"` is outside the string; after `\"`, inside.
    let src = r#"{"a": "x\\", "b": $context.stage, "c": "y\" $context.stage"}"#;
    let body = compile_render(src, &ctx(&[], &[]));
    assert_eq!(body, r#"{"a": "x\\", "b": "RELEASE", "c": "y\" RELEASE"}"#);
}

#[test]
fn context_var_displays_canonically() {
    assert_eq!(ContextVar::RequestId.to_string(), "$context.requestId");
    assert_eq!(ContextVar::ErrorCode.to_string(), "$context.error.code");
    assert_eq!(
        ContextVar::Backend("tenant".into()).to_string(),
        "$context.authorizer.backend.tenant"
    );
}
