//! In-memory request path: everything a worker does to one proxied request
//! except the socket I/O — parse the client head, route it, check its input
//! parameters, select the backend, build the upstream head, parse the
//! upstream response head, render the client head — for a plain API, for
//! an API that maps three parameters behind five backend policies (§8, §9),
//! for a mock API and for an error response, and the path normaliser on
//! its own beside them. Justifies the per-request budget of the load
//! benchmark (benches/README.md).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tollgate::backend::select::Facts;
use tollgate::backend::{self, Backend};
use tollgate::control;
use tollgate::error::{GatewayError, Rejection};
use tollgate::http::{Method, Version, parse_request, parse_response};
use tollgate::policy::{Identity, params, protocol};
use tollgate::request_id::{RequestId, RequestIdGen};
use tollgate::respond::{self, ClientFraming, Decor, ErrorScene};
use tollgate::rewrite;
use tollgate::snapshot::Snapshot;

const CONFIG: &str = r#"
[[listener]]
address = "127.0.0.1:0"

[[group]]
name = "shop"
domains = ["shop.example.com"]

[[group.api]]
name = "user-cars"
method = "GET"
path = "/users/{id}/cars/{car}"
[group.api.backend]
type = "http"
address = "127.0.0.1:18080"
path = "/v2/cars/{car}/owner/{id}"

# behaviour.md §9.1 mapping behind five policies that do not match (§8).
[[group.api]]
name = "mapped"
method = "GET"
path = "/v1.0/{test01}"
[[group.api.param]]
name = "test01"
location = "PATH"
[[group.api.param]]
name = "test02"
location = "HEADER"
required = true
[[group.api.param]]
name = "test03"
location = "QUERY"
[group.api.backend]
type = "http"
address = "127.0.0.1:18080"
path = "/v1.0/{test05}"
[[group.api.backend.param]]
name = "test01"
location = "HEADER"
from = "test01"
[[group.api.backend.param]]
name = "test05"
location = "PATH"
from = "test02"
[[group.api.backend.param]]
name = "test03"
location = "HEADER"
from = "test03"
[[group.api.policy]]
name = "intranet"
condition = [{ source = "source_ip", value = ["10.0.0.0/8", "192.168.0.0/16"] }]
backend = { type = "mock", body = "intranet" }
[[group.api.policy]]
name = "equal"
condition = [{ source = "param", param = "test01", value = "zzz" }]
backend = { type = "mock", body = "equal" }
[[group.api.policy]]
name = "enum"
condition = [{ source = "param", param = "test02", type = "enum", value = ["a", "b", "c"] }]
backend = { type = "mock", body = "enum" }
[[group.api.policy]]
name = "match"
condition = [{ source = "param", param = "test03", type = "match", value = "[0-5]+" }]
backend = { type = "mock", body = "match" }
[[group.api.policy]]
name = "all"
effective = "all"
condition = [
  { source = "param", param = "test01", value = "abc" },
  { source = "param", param = "test02", value = "nope" },
]
backend = { type = "mock", body = "all" }

[[group.api]]
name = "mock"
method = "GET"
path = "/hello"
[group.api.backend]
type = "mock"
headers = { "Content-Type" = "text/plain" }
body = "hello"

[[group]]
name = "DEFAULT"

[[group.api]]
name = "proxy"
method = "ANY"
path = "/"
match = "prefix"
[group.api.backend]
type = "http"
address = "127.0.0.1:18080"
"#;

const REQUEST: &[u8] = b"GET /users/42/cars/abc?fields=all HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: wrk/4.2\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nX-Forwarded-For: 10.1.2.3\r\nConnection: keep-alive\r\n\r\n";
const MAPPED_REQUEST: &[u8] = b"GET /v1.0/abc?test03=xyz HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: wrk/4.2\r\nAccept: */*\r\ntest02: def\r\nConnection: keep-alive\r\n\r\n";
const MOCK_REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: shop.example.com\r\nAccept: */*\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nServer: upstream\r\n\r\n";

fn bench_pipeline(c: &mut Criterion) {
    let snap = control::load(CONFIG)
        .expect("bench config compiles")
        .snapshot;
    let ids = RequestIdGen::new(0);
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    let mut inbuf = BytesMut::with_capacity(8192);
    let mut upbuf = BytesMut::with_capacity(8192);
    let mut out = BytesMut::with_capacity(8192);

    let mut proxied = |request: &[u8]| {
        inbuf.extend_from_slice(request);
        let mut head = parse_request(&mut inbuf, &snap.limits).unwrap().unwrap();
        head.normalize_path(&snap.path_rules).unwrap();
        let rid = ids.next_id();
        let route = snap.routes.lookup(&head).unwrap();
        let api = &snap.apis[route.api as usize];
        let host = head.host.map(|h| head.slice(h));
        let verdict = protocol::check(api.protocols, false, head.method, host, &snap.domain_rules);
        assert_eq!(verdict, Ok(protocol::Verdict::Pass));
        let inputs = params::check(&api.params, &head, &route).unwrap();
        let facts = Facts {
            head: &head,
            inputs: &inputs,
            source_ip: [127, 0, 0, 1].into(),
            identity: &Identity::ANONYMOUS,
        };
        let dep = api.deployment(route.stage).unwrap();
        let Backend::Http(http) = backend::select(api, dep, &facts) else {
            unreachable!("http API")
        };
        let req = rewrite::Request {
            head: &head,
            route: &route,
            api,
            inputs: &inputs,
            identity: &Identity::ANONYMOUS,
            stage: "RELEASE",
            rid: &rid,
            source_ip: b"127.0.0.1",
            peer_ip: b"127.0.0.1",
            tls: false,
            signer: None,
            drop_underscored: false,
        };
        out.clear();
        rewrite::request_head(&mut out, &req, http).unwrap();
        black_box(&out);
        upbuf.extend_from_slice(RESPONSE);
        let resp = parse_response(&mut upbuf, 65536, Method::Get)
            .unwrap()
            .unwrap();
        out.clear();
        let framing = ClientFraming::for_response(resp.framing, Version::Http11);
        let decor = Decor::default();
        respond::proxied_head(
            &mut out,
            &resp,
            &rid,
            &decor,
            Version::Http11,
            true,
            framing,
        );
        black_box(&out);
    };
    group.bench_function("proxied_request", |b| b.iter(|| proxied(REQUEST)));
    group.bench_function("mapped_request", |b| b.iter(|| proxied(MAPPED_REQUEST)));

    group.bench_function("mock_request", |b| {
        b.iter(|| {
            inbuf.extend_from_slice(MOCK_REQUEST);
            let head = parse_request(&mut inbuf, &snap.limits).unwrap().unwrap();
            let rid = ids.next_id();
            let route = snap.routes.lookup(&head).unwrap();
            let api = &snap.apis[route.api as usize];
            let dep = api.deployment(route.stage).unwrap();
            let Backend::Mock(mock) = &dep.default else {
                unreachable!("mock API")
            };
            out.clear();
            let decor = Decor::default();
            respond::mock(&mut out, mock, &rid, &decor, Version::Http11, true, false);
            black_box(&out);
        })
    });

    group.bench_function("error_response", |b| {
        b.iter(|| {
            let rid = ids.next_id();
            out.clear();
            error(&snap, &mut out, &rid);
            black_box(&out);
        })
    });
    group.finish();
}

/// The §18.1 default body through the group's compiled response set.
fn error(snap: &Snapshot, out: &mut BytesMut, rid: &RequestId) {
    let scene = ErrorScene {
        set: snap.group_responses(0),
        api_id: "user-cars",
        stage: "RELEASE",
        source_ip: b"127.0.0.1",
        identity: &Identity::ANONYMOUS,
        decor: Decor::default(),
    };
    let err = Rejection::from(black_box(GatewayError::RouteNotFound));
    respond::error(out, &err, rid, &scene, Version::Http11, true, false);
}

/// The path normaliser (issue 13) next to the whole pipeline above: a
/// path already in normal form (the common case: one scan, no allocation)
/// and one that needs every rewrite (escapes decoded and upper-cased,
/// slashes merged).
fn bench_normalize(c: &mut Criterion) {
    use tollgate::http::normalize::{PathRules, normalize};
    let mut group = c.benchmark_group("normalize");
    for (name, path) in [
        ("normal", &b"/users/42/cars/abc"[..]),
        ("messy", &b"//users//%34%32/cars/%61bc%2a"[..]),
    ] {
        group.throughput(Throughput::Bytes(path.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(normalize(black_box(path), &PathRules::DEFAULT)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_pipeline, bench_normalize);
criterion_main!(benches);
