//! Unit tests of the path tree: the precedence table of behaviour.md §6.4
//! (exact before prefix, static before {param} before {param+}, longest
//! prefix, specific method before ANY), captures, and build errors.

use super::*;
use MatchMode::{Exact as E, Prefix as P};

const GET: MethodSpec = MethodSpec::One(Method::Get);
const POST: MethodSpec = MethodSpec::One(Method::Post);
const ANY: MethodSpec = MethodSpec::Any;

/// Expected lookup outcome in the tables below.
#[derive(Debug, PartialEq)]
enum Want {
    /// Exact hit: route index, captures.
    Hit(u32, &'static [&'static str]),
    /// Prefix hit: route index, captures, remainder.
    Rest(u32, &'static [&'static str], &'static str),
    Mismatch,
    Missing,
}
use Want::*;

/// Builds a tree whose ids are the routes' indexes.
fn tree(routes: &[(MethodSpec, &str, MatchMode)]) -> PathTree {
    let defs = defs(routes);
    PathTree::build(&defs).expect("routes build")
}

fn defs<'a>(routes: &[(MethodSpec, &'a str, MatchMode)]) -> Vec<RouteDef<'a>> {
    (0u32..)
        .zip(routes)
        .map(|(id, &(method, path, mode))| RouteDef {
            method,
            path,
            mode,
            id,
        })
        .collect()
}

/// A lookup outcome with owned captures, comparable with a [`Want`].
#[derive(Debug, PartialEq)]
enum Got {
    Hit(u32, Vec<String>),
    Rest(u32, Vec<String>, String),
    Mismatch,
    Missing,
}

impl From<&Want> for Got {
    fn from(want: &Want) -> Got {
        let owned = |c: &[&str]| c.iter().map(|s| s.to_string()).collect();
        match want {
            Hit(id, c) => Got::Hit(*id, owned(c)),
            Rest(id, c, r) => Got::Rest(*id, owned(c), r.to_string()),
            Mismatch => Got::Mismatch,
            Missing => Got::Missing,
        }
    }
}

/// Looks `path` up and renders the outcome with its captures as text.
fn outcome(tree: &PathTree, method: Method, path: &str) -> Got {
    let mut params = Params::default();
    let found = tree.lookup(method, path.as_bytes(), &mut params);
    let text = |s: &Span| String::from_utf8_lossy(s.of(path.as_bytes())).into_owned();
    let caps: Vec<String> = params.as_slice().iter().map(text).collect();
    match found {
        PathLookup::Found {
            id,
            remainder: None,
        } => Got::Hit(id, caps),
        PathLookup::Found {
            id,
            remainder: Some(r),
        } => Got::Rest(id, caps, text(&r)),
        PathLookup::MethodMismatch | PathLookup::NotFound => {
            assert!(caps.is_empty(), "captures only on Found");
            if found == PathLookup::NotFound {
                Got::Missing
            } else {
                Got::Mismatch
            }
        }
    }
}

type Row = (
    &'static str,
    &'static [(MethodSpec, &'static str, MatchMode)],
    Method,
    &'static str,
    Want,
);

/// The precedence table of the module doc, row by row.
#[rustfmt::skip]
const PRECEDENCE: &[Row] = &[
    // Rule 2: static > param > greedy, with backtracking (exact routes).
    ("static_beats_param", &[(GET, "/users/{id}", E), (GET, "/users/me", E)], Method::Get, "/users/me", Hit(1, &[])),
    ("param_when_static_differs", &[(GET, "/users/{id}", E), (GET, "/users/me", E)], Method::Get, "/users/42", Hit(0, &["42"])),
    ("param_beats_greedy", &[(GET, "/files/{p+}", E), (GET, "/files/{name}", E)], Method::Get, "/files/a", Hit(1, &["a"])),
    ("greedy_takes_many_segments", &[(GET, "/files/{p+}", E), (GET, "/files/{name}", E)], Method::Get, "/files/a/b/c", Hit(0, &["a/b/c"])),
    ("backtrack_static_to_param", &[(GET, "/a/b/c", E), (GET, "/a/{x}/d", E)], Method::Get, "/a/b/d", Hit(1, &["b"])),
    ("backtrack_on_method", &[(POST, "/users/me", E), (GET, "/users/{id}", E)], Method::Get, "/users/me", Hit(1, &["me"])),
    ("static_keeps_its_method", &[(POST, "/users/me", E), (GET, "/users/{id}", E)], Method::Post, "/users/me", Hit(0, &[])),
    ("backtrack_param_to_greedy", &[(GET, "/a/{x}/c", E), (GET, "/a/{rest+}", E)], Method::Get, "/a/b/d", Hit(1, &["b/d"])),
    ("param_before_greedy_deep", &[(GET, "/a/{x}/c", E), (GET, "/a/{rest+}", E)], Method::Get, "/a/b/c", Hit(0, &["b"])),
    ("static_any_beats_param_get", &[(ANY, "/u/me", E), (GET, "/u/{id}", E)], Method::Get, "/u/me", Hit(0, &[])),
    // Captures of abandoned branches are not leaked.
    ("abandoned_params_dropped_exact", &[(POST, "/{a}/{b}", E), (GET, "/{rest+}", E)], Method::Get, "/p/q", Hit(1, &["p/q"])),
    ("abandoned_params_dropped_deep", &[(GET, "/{a}/{b}/x", E), (GET, "/{c}/{rest+}", E)], Method::Get, "/p/q/y", Hit(1, &["p", "q/y"])),
    ("abandoned_params_dropped_prefix", &[(POST, "/{a}/{b}", P), (GET, "/s", P)], Method::Get, "/s/t", Rest(1, &[], "t")),
    // Rule 1: exact beats prefix.
    ("exact_beats_prefix", &[(GET, "/a", P), (GET, "/a/b", E)], Method::Get, "/a/b", Hit(1, &[])),
    ("prefix_when_exact_misses", &[(GET, "/a", P), (GET, "/a/b", E)], Method::Get, "/a/c", Rest(0, &[], "c")),
    ("exact_param_beats_prefix_static", &[(GET, "/a/b", P), (GET, "/a/{x}", E)], Method::Get, "/a/b", Hit(1, &["b"])),
    ("prefix_when_exact_method_differs", &[(POST, "/a/b", E), (GET, "/a", P)], Method::Get, "/a/b", Rest(1, &[], "b")),
    // Rule 3: longest prefix; equal length static > param.
    ("longest_prefix_wins", &[(GET, "/a", P), (GET, "/a/b/c", P), (GET, "/a/b", P)], Method::Get, "/a/b/c/d", Rest(1, &[], "d")),
    ("longest_prefix_middle", &[(GET, "/a", P), (GET, "/a/b/c", P), (GET, "/a/b", P)], Method::Get, "/a/b/x", Rest(2, &[], "x")),
    ("longest_prefix_short", &[(GET, "/a", P), (GET, "/a/b/c", P), (GET, "/a/b", P)], Method::Get, "/a/x", Rest(0, &[], "x")),
    ("longer_param_prefix_beats_static", &[(GET, "/a/b", P), (GET, "/a/{x}/c", P)], Method::Get, "/a/b/c/d", Rest(1, &["b"], "d")),
    ("equal_prefix_static_beats_param", &[(GET, "/a/{x}", P), (GET, "/a/b", P)], Method::Get, "/a/b/c", Rest(1, &[], "c")),
    ("equal_prefix_param_otherwise", &[(GET, "/a/{x}", P), (GET, "/a/b", P)], Method::Get, "/a/z/c", Rest(0, &["z"], "c")),
    ("longest_prefix_for_the_method", &[(GET, "/a", P), (POST, "/a/b", P)], Method::Get, "/a/b/c", Rest(0, &[], "b/c")),
    // Rule 4: specific method beats ANY at a leaf.
    ("specific_beats_any", &[(ANY, "/a", E), (GET, "/a", E)], Method::Get, "/a", Hit(1, &[])),
    ("any_for_other_methods", &[(ANY, "/a", E), (GET, "/a", E)], Method::Post, "/a", Hit(0, &[])),
    ("any_for_unlisted_method", &[(ANY, "/a", E)], Method::Other, "/a", Hit(0, &[])),
    ("specific_beats_any_prefix", &[(GET, "/p", P), (ANY, "/p", P)], Method::Delete, "/p/x", Rest(1, &[], "x")),
    ("specific_beats_any_greedy", &[(ANY, "/g/{p+}", E), (GET, "/g/{q+}", E)], Method::Get, "/g/x", Hit(1, &["x"])),
    // behaviour.md §6.4 examples.
    ("prefix_matches_deeper_path", &[(GET, "/test/AA", P)], Method::Get, "/test/AA/CC", Rest(0, &[], "CC")),
    ("prefix_matches_itself", &[(GET, "/test/AA", P)], Method::Get, "/test/AA", Rest(0, &[], "")),
    ("prefix_matches_trailing_slash", &[(GET, "/test/AA", P)], Method::Get, "/test/AA/", Rest(0, &[], "")),
    ("prefix_needs_segment_boundary", &[(GET, "/test/AA", P)], Method::Get, "/test/AACC", Missing),
    ("prefix_remainder_after_slash", &[(GET, "/test/", P)], Method::Get, "/test/AA/CC", Rest(0, &[], "AA/CC")),
    ("prefix_trailing_slash_ignored", &[(GET, "/test/", P)], Method::Get, "/test", Rest(0, &[], "")),
    ("root_prefix_matches_all", &[(GET, "/", P)], Method::Get, "/x/y", Rest(0, &[], "x/y")),
    ("root_prefix_matches_root", &[(GET, "/", P)], Method::Get, "/", Rest(0, &[], "")),
    ("root_prefix_matches_empty_path", &[(GET, "/", P)], Method::Get, "", Rest(0, &[], "")),
    ("prefix_param_captures", &[(GET, "/u/{id}", P)], Method::Get, "/u/7/x", Rest(0, &["7"], "x")),
    ("prefix_param_not_empty", &[(GET, "/u/{id}", P)], Method::Get, "/u//x", Missing),
    // Trailing slash is significant for exact match (§6.3).
    ("exact_trailing_slash_matches", &[(GET, "/a/", E)], Method::Get, "/a/", Hit(0, &[])),
    ("exact_trailing_slash_required", &[(GET, "/a/", E)], Method::Get, "/a", Missing),
    ("exact_no_trailing_slash", &[(GET, "/a", E)], Method::Get, "/a/", Missing),
    ("exact_root", &[(GET, "/", E)], Method::Get, "/", Hit(0, &[])),
    ("exact_root_empty_path", &[(GET, "/", E)], Method::Get, "", Hit(0, &[])),
    ("exact_root_only_root", &[(GET, "/", E)], Method::Get, "/x", Missing),
    // Empty segments are never a `{param}`, and greedy needs a non-empty rest.
    ("param_rejects_empty_segment", &[(GET, "/users/{id}", E)], Method::Get, "/users/", Missing),
    ("param_rejects_missing_segment", &[(GET, "/users/{id}", E)], Method::Get, "/users", Missing),
    ("param_rejects_empty_middle", &[(GET, "/users/{id}/x", E)], Method::Get, "/users//x", Missing),
    ("greedy_rejects_empty_rest", &[(GET, "/files/{p+}", E)], Method::Get, "/files/", Missing),
    ("greedy_rejects_no_rest", &[(GET, "/files/{p+}", E)], Method::Get, "/files", Missing),
    ("greedy_keeps_trailing_slash", &[(GET, "/files/{p+}", E)], Method::Get, "/files/a/", Hit(0, &["a/"])),
    ("greedy_at_root", &[(GET, "/{p+}", E)], Method::Get, "/a/b", Hit(0, &["a/b"])),
    // §6.7: path matched but no method → MethodMismatch; else NotFound.
    ("mismatch_exact", &[(GET, "/a", E)], Method::Post, "/a", Mismatch),
    ("mismatch_prefix", &[(GET, "/a", P)], Method::Post, "/a/b", Mismatch),
    ("mismatch_param", &[(GET, "/users/{id}", E)], Method::Post, "/users/1", Mismatch),
    ("mismatch_greedy", &[(GET, "/f/{p+}", E)], Method::Put, "/f/a/b", Mismatch),
    ("mismatch_other_method", &[(GET, "/a", E), (POST, "/a", E)], Method::Other, "/a", Mismatch),
    ("missing_unknown_path", &[(GET, "/a", E)], Method::Get, "/b", Missing),
    ("missing_empty_tree", &[], Method::Get, "/", Missing),
    // §6.3: case-sensitive, never percent-decoded, origin form only.
    ("case_sensitive", &[(GET, "/Users", E)], Method::Get, "/users", Missing),
    ("not_percent_decoded", &[(GET, "/a%20b", E)], Method::Get, "/a%20b", Hit(0, &[])),
    ("no_decoding_of_request", &[(GET, "/a%20b", E)], Method::Get, "/a b", Missing),
    ("no_leading_slash_missing", &[(GET, "/", P)], Method::Get, "*", Missing),
];

#[test]
fn lookup_follows_precedence_table() {
    let mut failures = Vec::new();
    for (name, routes, method, path, want) in PRECEDENCE {
        let got = outcome(&tree(routes), *method, path);
        let want = Got::from(want);
        if got != want {
            failures.push(format!(
                "{name}: {method:?} {path:?}: got {got:?}, want {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lookup_empty_path_remainder_within_path() {
    let tree = tree(&[(GET, "/", P)]);
    let mut params = Params::default();
    let found = tree.lookup(Method::Get, b"", &mut params);
    let want = PathLookup::Found {
        id: 0,
        remainder: Some(Span::new(0, 0)),
    };
    assert_eq!(found, want);
}

#[test]
fn lookup_resets_params_from_previous_call() {
    let tree = tree(&[(GET, "/u/{id}", E)]);
    let mut params = Params::default();
    tree.lookup(Method::Get, b"/u/1", &mut params);
    assert_eq!(params.as_slice().len(), 1);
    assert_eq!(
        tree.lookup(Method::Get, b"/v", &mut params),
        PathLookup::NotFound
    );
    assert!(params.as_slice().is_empty());
}

mod build;
mod template;

// regression: issue 13 review — HEAD /admin fell through to an `ANY /`
// catch-all past the GET /admin API's access control.
#[test]
fn head_takes_the_get_route_before_any() {
    let routes = [
        RouteDef {
            method: MethodSpec::One(Method::Get),
            path: "/admin",
            mode: MatchMode::Prefix,
            id: 0,
        },
        RouteDef {
            method: MethodSpec::Any,
            path: "/",
            mode: MatchMode::Prefix,
            id: 1,
        },
        RouteDef {
            method: MethodSpec::One(Method::Head),
            path: "/own",
            mode: MatchMode::Exact,
            id: 2,
        },
        RouteDef {
            method: MethodSpec::One(Method::Get),
            path: "/own",
            mode: MatchMode::Exact,
            id: 3,
        },
    ];
    let tree = PathTree::build(&routes).unwrap();
    let found = |m: Method, p: &str| match tree.lookup(m, p.as_bytes(), &mut Params::default()) {
        PathLookup::Found { id, .. } => Some(id),
        _ => None,
    };
    assert_eq!(found(Method::Head, "/admin/x"), Some(0));
    assert_eq!(found(Method::Post, "/admin/x"), Some(1));
    assert_eq!(
        found(Method::Head, "/own"),
        Some(2),
        "a HEAD route of its own wins"
    );
    assert_eq!(found(Method::Head, "/other"), Some(1));
}
