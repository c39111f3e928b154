use super::*;

fn norm(path: &str) -> Result<String, PathFault> {
    normalize(path.as_bytes(), &PathRules::DEFAULT).map(|out| match out {
        Some(bytes) => String::from_utf8(bytes).unwrap(),
        None => path.to_string(),
    })
}

fn with(rules: PathRules, path: &str) -> Result<String, PathFault> {
    normalize(path.as_bytes(), &rules).map(|out| match out {
        Some(bytes) => String::from_utf8(bytes).unwrap(),
        None => path.to_string(),
    })
}

#[test]
fn normal_paths_are_left_alone_without_allocating() {
    for p in [
        "/", "/admin", "/a/b/c", "/users/7", "/%2A", "/a%20b", "/%25", "/a;b", "",
    ] {
        assert_eq!(
            normalize(p.as_bytes(), &PathRules::DEFAULT),
            Ok(None),
            "{p}"
        );
    }
}

// regression: issue 13 item 2 — these spellings of /admin reached an
// `ANY /` catch-all and bypassed the `/admin` API's access control.
#[test]
fn spellings_of_a_path_normalise_to_it() {
    assert_eq!(norm("//admin").as_deref(), Ok("/admin"));
    assert_eq!(norm("/%61dmin").as_deref(), Ok("/admin"));
    assert_eq!(norm("/%61%64%6D%69%6e").as_deref(), Ok("/admin"));
    assert_eq!(norm("///a//b///").as_deref(), Ok("/a/b/"));
    assert_eq!(norm("/a%2db%5fc%7E").as_deref(), Ok("/a-b_c~"));
    assert_eq!(norm("/x%2a%3f").as_deref(), Ok("/x%2A%3F"));
}

#[test]
fn separators_a_backend_may_read_differently_are_refused() {
    assert_eq!(norm("/x\\..\\admin"), Err(PathFault::Backslash));
    assert_eq!(norm("/a%2Fb"), Err(PathFault::EscapedSlash));
    assert_eq!(norm("/a%2fb"), Err(PathFault::EscapedSlash));
    assert_eq!(norm("/a%5cb"), Err(PathFault::EscapedSlash));
    assert_eq!(norm("/%2e%2e/admin"), Err(PathFault::DotSegment));
    assert_eq!(norm("/a/%2E/b"), Err(PathFault::DotSegment));
    assert_eq!(norm("/a%"), Err(PathFault::BadEscape));
    assert_eq!(norm("/a%4"), Err(PathFault::BadEscape));
    assert_eq!(norm("/a%zz"), Err(PathFault::BadEscape));
    // Merging cannot make a dot segment out of nothing, nor hide one.
    assert_eq!(norm("/a//..//b"), Err(PathFault::DotSegment));
}

#[test]
fn each_rule_can_be_relaxed_or_tightened() {
    let keep_all = PathRules {
        merge_slashes: false,
        backslash: PathAction::Keep,
        escaped_slash: PathAction::Keep,
        semicolon: PathAction::Keep,
    };
    assert_eq!(with(keep_all, "//a").as_deref(), Ok("//a"));
    assert_eq!(with(keep_all, "/a\\b").as_deref(), Ok("/a\\b"));
    assert_eq!(with(keep_all, "/a%2fb%5C").as_deref(), Ok("/a%2Fb%5C"));
    let strict = PathRules {
        semicolon: PathAction::Reject,
        ..PathRules::DEFAULT
    };
    assert_eq!(with(strict, "/admin;x=1"), Err(PathFault::Semicolon));
    assert_eq!(norm("/admin;x=1").as_deref(), Ok("/admin;x=1"));
}

#[test]
fn normalising_twice_changes_nothing() {
    for p in ["//a//b", "/%61%2a", "/%2561", "/a/%7e/", "/%41%42/%63"] {
        let once = norm(p).unwrap();
        assert_eq!(
            normalize(once.as_bytes(), &PathRules::DEFAULT),
            Ok(None),
            "{p} → {once}"
        );
    }
}
