//! Template parsing (behaviour.md §6.3, §27 C11): every `TemplateError`.

use super::super::*;
use MatchMode::{Exact as E, Prefix as P};

fn statics(names: &[&str]) -> Vec<Segment> {
    names.iter().map(|n| Segment::Static((*n).into())).collect()
}

#[test]
fn template_root_exact_is_one_empty_segment() {
    assert_eq!(parse_template("/", E).unwrap().segments, statics(&[""]));
}

#[test]
fn template_root_prefix_has_no_segments() {
    assert!(parse_template("/", P).unwrap().segments.is_empty());
}

#[test]
fn template_trailing_slash_kept_for_exact() {
    assert_eq!(
        parse_template("/a/", E).unwrap().segments,
        statics(&["a", ""])
    );
}

#[test]
fn template_trailing_slash_dropped_for_prefix() {
    assert_eq!(
        parse_template("/test/", P).unwrap().segments,
        statics(&["test"])
    );
}

#[test]
fn template_params_in_order() {
    let t = parse_template("/u/{user_id}/x/{rest-1+}", E).unwrap();
    assert_eq!(t.param_names().collect::<Vec<_>>(), ["user_id", "rest-1"]);
    assert_eq!(t.segments[3], Segment::Greedy("rest-1".into()));
}

#[test]
fn template_accepts_pchars_and_escapes() {
    assert!(parse_template("/a-._~!$&'()*+,;=:@/%2F%7b/{_x}", E).is_ok());
}

/// One row per `TemplateError` variant (and a few spellings of each).
#[test]
fn template_rejects_invalid_with_the_right_error() {
    use TemplateError::*;
    let b = |s: &str| -> Box<str> { s.into() };
    let many_params: String = (0..17).map(|i| format!("/{{p{i}}}")).collect();
    let many_segments = "/a".repeat(129);
    let rows: Vec<(&str, MatchMode, TemplateError)> = vec![
        ("users", E, MissingLeadingSlash { path: b("users") }),
        ("", E, MissingLeadingSlash { path: b("") }),
        ("/a//b", E, EmptySegment { path: b("/a//b") }),
        ("//", E, EmptySegment { path: b("//") }),
        ("//", P, EmptySegment { path: b("//") }),
        (
            "/users/u{id}",
            E,
            PartialSegment {
                segment: b("u{id}"),
            },
        ),
        (
            "/a/{id}x",
            E,
            PartialSegment {
                segment: b("{id}x"),
            },
        ),
        ("/a/{id", E, StrayBrace { segment: b("{id") }),
        ("/a/}", E, StrayBrace { segment: b("}") }),
        ("/a/}x{", E, StrayBrace { segment: b("}x{") }),
        ("/a/{}", E, InvalidParamName { name: b("") }),
        ("/a/{+}", E, InvalidParamName { name: b("") }),
        ("/a/{1x}", E, InvalidParamName { name: b("1x") }),
        ("/a/{-x}", E, InvalidParamName { name: b("-x") }),
        ("/a/{a.b}", E, InvalidParamName { name: b("a.b") }),
        ("/a/{{a}}", E, InvalidParamName { name: b("{a}") }),
        ("/{p+}/a", E, GreedyNotLast { name: b("p") }),
        ("/a/{p+}", P, GreedyWithPrefix { name: b("p") }),
        ("/{a}/{a}", E, DuplicateParam { name: b("a") }),
        ("/{a}/{a+}", E, DuplicateParam { name: b("a") }),
        (&many_params, E, TooManyParams { count: 17 }),
        (&many_segments, E, TooManySegments { count: 129 }),
        (
            "/a b",
            E,
            InvalidChar {
                segment: b("a b"),
                ch: ' ',
            },
        ),
        (
            "/a?b",
            E,
            InvalidChar {
                segment: b("a?b"),
                ch: '?',
            },
        ),
        (
            "/a#",
            P,
            InvalidChar {
                segment: b("a#"),
                ch: '#',
            },
        ),
        (
            "/é",
            E,
            InvalidChar {
                segment: b("é"),
                ch: 'é',
            },
        ),
        ("/a%2", E, BadPercentEncoding { segment: b("a%2") }),
        ("/a%zz", E, BadPercentEncoding { segment: b("a%zz") }),
    ];
    for (path, mode, want) in rows {
        assert_eq!(parse_template(path, mode), Err(want), "{path:?} {mode:?}");
    }
}

#[test]
fn template_limits_are_inclusive() {
    let sixteen: String = (0..16).map(|i| format!("/{{p{i}}}")).collect();
    assert!(parse_template(&sixteen, E).is_ok());
    assert!(parse_template(&"/a".repeat(128), E).is_ok());
}

#[test]
fn template_error_messages_say_how_to_fix() {
    let msg = |path: &str, mode| parse_template(path, mode).unwrap_err().to_string();
    assert!(msg("/users/u{id}", E).contains("write `/users/{id}` instead of `/users/u{id}`"));
    assert!(msg("/a/{p+}", P).contains("set the match mode to exact"));
    assert!(msg("/{p+}/a", E).contains("`/files/{p+}`"));
    assert!(msg("/a b", E).contains("`%20`"));
    assert!(msg("a", E).contains("write `/a`"));
}
