//! Path lookup: our `PathTree` against matchit 0.9 on the same REST
//! catalogue, at 10, 1 000 and 10 000 routes (matchit's bench style).
//!
//! Justifies the custom segment tree in `route::path` (the brief: within
//! about 1.5× of matchit). matchit has no methods and no prefix mode, so it
//! gets each path once and the prefix route `/static/` as
//! `/static/{*rest}`. Each iteration looks up the same 8 request paths
//! (static, param, deep param, last-added, prefix, and two misses).
//!
//! Run: `cargo bench --bench route -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use tollgate::http::Method;
use tollgate::route::path::{MatchMode, MethodSpec, Params, PathLookup, PathTree, RouteDef};

/// One catalogue entry: method, our template, matchit's template.
struct Api {
    method: Method,
    path: String,
    mode: MatchMode,
    matchit: String,
}

/// `n` routes shaped like a REST catalogue, plus the `/static/` prefix.
fn catalogue(n: usize) -> Vec<Api> {
    let mut apis: Vec<Api> = (0..n)
        .map(|i| {
            let (res, shape) = (i / 3, i % 3);
            let base = format!("/v1/svc{}/res{res}", res % 50);
            let (method, path) = match shape {
                0 => (Method::Get, base),
                1 => (Method::Get, format!("{base}/{{id}}")),
                _ => (Method::Post, format!("{base}/{{id}}/items")),
            };
            Api {
                method,
                matchit: path.clone(),
                path,
                mode: MatchMode::Exact,
            }
        })
        .collect();
    apis.push(Api {
        method: Method::Get,
        path: "/static/".into(),
        mode: MatchMode::Prefix,
        matchit: "/static/{*rest}".into(),
    });
    apis
}

/// The request mix: (method, path); valid for every catalogue size.
fn requests(n: usize) -> Vec<(Method, String)> {
    let last = (n - 1) / 3;
    vec![
        (Method::Get, "/v1/svc0/res0".into()),
        (Method::Get, "/v1/svc1/res1/12345".into()),
        (Method::Post, "/v1/svc2/res2/abc/items".into()),
        (Method::Get, format!("/v1/svc{}/res{last}", last % 50)),
        (Method::Get, "/v1/svc0/res0/9".into()),
        (Method::Get, "/static/css/app.css".into()),
        (Method::Get, "/v1/svc0/nope".into()),
        (Method::Get, "/unknown/path/here".into()),
    ]
}

fn build_ours(apis: &[Api]) -> PathTree {
    let defs: Vec<RouteDef<'_>> = (0u32..)
        .zip(apis)
        .map(|(id, api)| RouteDef {
            method: MethodSpec::One(api.method),
            path: &api.path,
            mode: api.mode,
            id,
        })
        .collect();
    PathTree::build(&defs).expect("catalogue builds")
}

fn build_matchit(apis: &[Api]) -> matchit::Router<u32> {
    let mut router = matchit::Router::new();
    for (id, api) in (0u32..).zip(apis) {
        router
            .insert(api.matchit.as_str(), id)
            .expect("catalogue builds");
    }
    router
}

fn bench_size(c: &mut Criterion, n: usize) {
    let apis = catalogue(n);
    let reqs = requests(n);
    let ours = build_ours(&apis);
    let theirs = build_matchit(&apis);
    let hits = |r: &(Method, String)| {
        let mut params = Params::default();
        matches!(
            ours.lookup(r.0, r.1.as_bytes(), &mut params),
            PathLookup::Found { .. }
        )
    };
    let ours_hits = reqs.iter().filter(|r| hits(r)).count();
    let theirs_hits = reqs.iter().filter(|r| theirs.at(&r.1).is_ok()).count();
    assert_eq!(ours_hits, theirs_hits, "both routers agree on the mix");

    let mut group = c.benchmark_group(format!("route/{n}"));
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function("tollgate", |b| {
        let mut params = Params::default();
        b.iter(|| {
            for (method, path) in &reqs {
                black_box(ours.lookup(*method, black_box(path.as_bytes()), &mut params));
                black_box(&params);
            }
        })
    });
    group.bench_function("matchit", |b| {
        b.iter(|| {
            for (_, path) in &reqs {
                let _ = black_box(theirs.at(black_box(path)));
            }
        })
    });
    group.finish();
}

fn route(c: &mut Criterion) {
    for n in [10, 1_000, 10_000] {
        bench_size(c, n);
    }
}

/// `criterion_main!` without `criterion_group!`, whose generated `pub fn`
/// has no doc comment.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    route(&mut c);
    c.final_summary();
}
