//! In-memory request path: everything a worker does to one proxied request
//! except the socket I/O — parse the client head, route it, build the
//! upstream head, parse the upstream response head, render the client head —
//! and the same for a mock API and for an error response. Justifies the
//! per-request budget of the load benchmark (benches/README.md).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tollgate::backend::{self, Backend};
use tollgate::control;
use tollgate::error::GatewayError;
use tollgate::http::{Method, Version, parse_request, parse_response};
use tollgate::request_id::RequestIdGen;
use tollgate::respond::{self, ClientFraming};
use tollgate::rewrite;

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

    group.bench_function("proxied_request", |b| {
        b.iter(|| {
            inbuf.extend_from_slice(REQUEST);
            let head = parse_request(&mut inbuf, &snap.limits).unwrap().unwrap();
            let rid = ids.next_id();
            let route = snap.routes.lookup(&head).unwrap();
            let Some(Backend::Http(http)) = backend::select(&snap.apis, route.api) else {
                unreachable!("http API")
            };
            out.clear();
            rewrite::request_head(&mut out, &head, &route, http, &rid, b"127.0.0.1");
            black_box(&out);
            upbuf.extend_from_slice(RESPONSE);
            let resp = parse_response(&mut upbuf, 65536, Method::Get)
                .unwrap()
                .unwrap();
            out.clear();
            let framing = ClientFraming::for_response(resp.framing, Version::Http11);
            respond::proxied_head(&mut out, &resp, &rid, Version::Http11, true, framing);
            black_box(&out);
        })
    });

    group.bench_function("mock_request", |b| {
        b.iter(|| {
            inbuf.extend_from_slice(MOCK_REQUEST);
            let head = parse_request(&mut inbuf, &snap.limits).unwrap().unwrap();
            let rid = ids.next_id();
            let route = snap.routes.lookup(&head).unwrap();
            let Some(Backend::Mock(mock)) = backend::select(&snap.apis, route.api) else {
                unreachable!("mock API")
            };
            out.clear();
            respond::mock(&mut out, mock, &rid, Version::Http11, true, false);
            black_box(&out);
        })
    });

    group.bench_function("error_response", |b| {
        b.iter(|| {
            let rid = ids.next_id();
            out.clear();
            respond::error(
                &mut out,
                black_box(&GatewayError::RouteNotFound),
                &rid,
                Version::Http11,
                true,
                false,
            );
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_pipeline);
criterion_main!(benches);
