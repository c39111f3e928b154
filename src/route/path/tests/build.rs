//! Building: conflicts and errors reported with their input indexes, and
//! large route sets.

use super::super::*;
use super::{ANY, GET, POST, defs};
use MatchMode::{Exact as E, Prefix as P};

#[test]
fn build_reports_every_conflict_and_template_error() {
    let routes = defs(&[
        (GET, "/a/{x}", E),
        (GET, "/a/{y}", E),  // conflict: param names don't matter
        (ANY, "/a/{z}", E),  // ok: ANY is not GET
        (GET, "/a/{x}", P),  // ok: other mode
        (GET, "/a/{q}/", P), // conflict: trailing `/` dropped for prefix
        (GET, "/a/{x}/", E), // ok: trailing `/` is another exact shape
        (GET, "bad", E),     // template error
        (GET, "/f/{p+}", E),
        (GET, "/f/{q+}", E), // conflict: greedy likewise
        (POST, "/f/{q+}", E),
        (GET, "/a/{y}", E), // conflict with the first, not the second
    ]);
    let errors = PathTree::build(&defs_ref(&routes)).unwrap_err();
    let kinds: Vec<(usize, BuildErrorKind)> =
        errors.into_iter().map(|e| (e.index, e.kind)).collect();
    let conflict = |with| BuildErrorKind::Conflict { with };
    let bad = BuildErrorKind::Template(TemplateError::MissingLeadingSlash { path: "bad".into() });
    assert_eq!(
        kinds,
        [
            (1, conflict(0)),
            (4, conflict(3)),
            (6, bad),
            (8, conflict(7)),
            (10, conflict(0))
        ]
    );
}

fn defs_ref<'a>(routes: &[RouteDef<'a>]) -> Vec<RouteDef<'a>> {
    routes.to_vec()
}

#[test]
fn build_get_and_any_same_path_coexist() {
    let routes = defs(&[
        (GET, "/a", E),
        (ANY, "/a", E),
        (GET, "/a", P),
        (ANY, "/a", P),
    ]);
    assert_eq!(PathTree::build(&routes).unwrap().len(), 4);
}

#[test]
fn build_empty_is_ok() {
    assert!(PathTree::build(&[]).unwrap().is_empty());
}

/// The bench's catalogue shape: many static siblings (hashed children).
fn catalogue(n: usize) -> Vec<(String, MethodSpec)> {
    let shapes = ["", "/{id}", "/{id}/items"];
    let methods = [GET, GET, POST];
    (0..n)
        .map(|i| {
            let (res, shape) = (i / 3, i % 3);
            (
                format!("/v1/svc{}/res{res}{}", res % 50, shapes[shape]),
                methods[shape],
            )
        })
        .collect()
}

#[test]
fn build_with_10000_routes_finds_each() {
    let routes = catalogue(10_000);
    let defs: Vec<RouteDef<'_>> = (0u32..)
        .zip(&routes)
        .map(|(id, (path, method))| RouteDef {
            method: *method,
            path,
            mode: E,
            id,
        })
        .collect();
    let tree = PathTree::build(&defs).unwrap();
    assert_eq!(tree.len(), 10_000);
    let mut params = Params::default();
    for (i, (path, method)) in routes.iter().enumerate() {
        let concrete = path.replace("{id}", "42");
        let MethodSpec::One(m) = *method else {
            unreachable!()
        };
        let found = tree.lookup(m, concrete.as_bytes(), &mut params);
        assert_eq!(
            found,
            PathLookup::Found {
                id: i as u32,
                remainder: None
            },
            "{concrete}"
        );
    }
    let miss = tree.lookup(Method::Get, b"/v1/svc3/res9999999", &mut params);
    assert_eq!(miss, PathLookup::NotFound);
}
