//! Fuzz `PathTree::build` and `PathTree::lookup` (matchit style): derive a
//! few routes and request paths from the input, build (errors are fine,
//! panics are not), then check every lookup against the winning route's own
//! template.
//!
//! Input: byte 0 = route count (low 3 bits) and alphabet (bit 7: raw
//! UTF-8, else the restricted `/{}+ab` alphabet that hits the grammar's
//! edges). Per route: a flags byte (method, mode), a length byte, then the
//! template bytes. The rest: request paths separated by `\n`, each led by
//! a method byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::http::{Method, Span};
use tollgate::route::path::{
    MatchMode, MethodSpec, Params, PathLookup, PathTree, RouteDef, Segment, Template,
    parse_template,
};

const ALPHABET: &[u8] = b"/{}+ab";
const METHODS: [Method; 8] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Patch,
    Method::Head,
    Method::Options,
    Method::Other,
];

/// Splits `n` bytes off the front of `data`.
fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, tail) = data.split_at(n.min(data.len()));
    *data = tail;
    head
}

fn text(raw: &[u8], restricted: bool) -> String {
    if restricted {
        raw.iter()
            .map(|&b| ALPHABET[b as usize % ALPHABET.len()] as char)
            .collect()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    }
}

/// The path's segments after the leading `/` (empty path = `/`).
fn segments(path: &[u8]) -> Vec<&[u8]> {
    let body = path.get(1..).unwrap_or_default();
    body.split(|&b| b == b'/').collect()
}

/// Checks that `template` really matches `path` with these captures.
fn check_match(template: &Template, path: &[u8], params: &[Span], remainder: Option<Span>) {
    let segs = segments(path);
    let mut caps = params.iter();
    let mut at = 0;
    for segment in &template.segments {
        match segment {
            Segment::Static(s) => assert_eq!(segs[at], s.as_bytes()),
            Segment::Param(_) => {
                let span = caps.next().expect("a capture per param");
                assert!(!segs[at].is_empty());
                assert_eq!(span.of(path), segs[at]);
            }
            Segment::Greedy(_) => {
                let span = caps.next().expect("a capture per greedy");
                assert!(!span.is_empty());
                assert_eq!(span.of(path), segs[at..].join(&b'/').as_slice());
                assert_eq!(span.end as usize, path.len());
                at = segs.len();
                break;
            }
        }
        at += 1;
    }
    assert!(caps.next().is_none(), "no extra captures");
    match remainder {
        None => assert_eq!(at, segs.len(), "exact consumes every segment"),
        Some(rest) => {
            let want = if at < segs.len() {
                segs[at..].join(&b'/')
            } else {
                Vec::new()
            };
            assert_eq!(rest.of(path), want.as_slice());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let Some(&header) = take(&mut data, 1).first() else {
        return;
    };
    let restricted = header & 0x80 == 0;
    let mut owned = Vec::new();
    for _ in 0..(header & 7) {
        let flags = take(&mut data, 1).first().copied().unwrap_or(0);
        let len = take(&mut data, 1).first().copied().unwrap_or(0) as usize % 32;
        let method = match flags % 9 {
            8 => MethodSpec::Any,
            m => MethodSpec::One(METHODS[m as usize]),
        };
        let mode = if flags & 0x10 == 0 {
            MatchMode::Exact
        } else {
            MatchMode::Prefix
        };
        owned.push((method, text(take(&mut data, len), restricted), mode));
    }
    let routes: Vec<RouteDef<'_>> = (0u32..)
        .zip(&owned)
        .map(|(id, (method, path, mode))| RouteDef {
            method: *method,
            path,
            mode: *mode,
            id,
        })
        .collect();
    let tree = match PathTree::build(&routes) {
        Ok(tree) => tree,
        Err(errors) => {
            assert!(errors.iter().all(|e| e.index < routes.len()));
            // Build what is valid, so lookups still get exercised.
            let valid: Vec<RouteDef<'_>> = routes
                .iter()
                .enumerate()
                .filter(|(i, _)| errors.iter().all(|e| e.index != *i))
                .map(|(_, r)| r.clone())
                .collect();
            PathTree::build(&valid).unwrap_or_default()
        }
    };
    let mut params = Params::default();
    for raw in data.split(|&b| b == b'\n').take(8) {
        let (method, raw) = raw.split_first().map_or((Method::Get, raw), |(m, rest)| {
            (METHODS[*m as usize % METHODS.len()], rest)
        });
        let path = text(raw, restricted);
        let path = path.as_bytes();
        match tree.lookup(method, path, &mut params) {
            PathLookup::Found { id, remainder } => {
                let route = &routes[id as usize];
                // HEAD without a route of its own takes the GET route.
                let head_as_get = method == Method::Head && route.method == MethodSpec::One(Method::Get);
                assert!(route.method == MethodSpec::Any || route.method == MethodSpec::One(method) || head_as_get);
                assert_eq!(remainder.is_some(), route.mode == MatchMode::Prefix);
                let template = parse_template(route.path, route.mode).expect("built routes parse");
                let shown: &[u8] = if path.is_empty() { b"/" } else { path };
                if !path.is_empty() {
                    check_match(&template, shown, params.as_slice(), remainder);
                }
                for span in params.as_slice().iter().chain(remainder.as_ref()) {
                    assert!(span.start <= span.end && span.end as usize <= path.len());
                }
            }
            PathLookup::MethodMismatch | PathLookup::NotFound => {
                assert!(params.as_slice().is_empty());
            }
        }
    }
});
