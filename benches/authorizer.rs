//! Custom authorizers (behaviour.md §11.9): the per-call work besides the
//! network round trip — writing the event for a typical request, parsing
//! the endpoint's result — and a cache hit, the work of every request
//! served from the result cache.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench code

use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_main};
use tollgate::clock::{Clock, ManualClock};
use tollgate::http::{HeadLimits, parse_request};
use tollgate::policy::auth::authorizer::cache::ResultCache;
use tollgate::policy::auth::authorizer::{
    Authorizer, Facts, IdentitySource, Kind, Outcome, parse_result,
};

const LIMITS: HeadLimits = HeadLimits {
    max_uri_bytes: 32 * 1024,
    max_header_bytes: 32 * 1024,
    max_headers_total_bytes: 128 * 1024,
    max_body_bytes: 12 * 1024 * 1024,
};

fn authorizer() -> Authorizer {
    Authorizer {
        name: "basic".into(),
        kind: Kind::Frontend,
        upstream: 0,
        host: "127.0.0.1:9000".into(),
        path: "/auth".into(),
        timeout: Duration::from_secs(5),
        cache_ttl: Duration::from_secs(30),
        identity: vec![IdentitySource::Header("authorization".into())],
        send_body: false,
        max_body: 1024 * 1024,
        user_data: Some("tenant-a".into()),
        relaxed: false,
        num_bool: true,
        deny_status: false,
    }
}

fn bench_authorizer(c: &mut Criterion) {
    let mut group = c.benchmark_group("authorizer");
    group.throughput(Throughput::Elements(1));
    let raw = "GET /v1/orders/42?limit=20&offset=40 HTTP/1.1\r\nHost: api.example.com\r\n\
               Authorization: Basic dXNlcjE6cGFzc3dvcmQ=\r\nUser-Agent: curl/8.5.0\r\n\
               Accept: */*\r\nX-Request-Id: 0123456789abcdef\r\n\r\n";
    let head = parse_request(&mut BytesMut::from(raw), &LIMITS)
        .unwrap()
        .unwrap();
    let az = authorizer();
    let facts = Facts {
        head: &head,
        body: None,
        source_ip: b"10.1.2.3",
        request_id: "822cf60eb35d5280fc83614b31e7b507",
        stage: "RELEASE",
        api_id: "api-1",
    };
    let mut out = BytesMut::with_capacity(2048);
    group.bench_function("write_event", |b| {
        b.iter(|| {
            out.clear();
            az.write_request(black_box(&facts), &mut out);
            black_box(out.len())
        })
    });
    let result = br#"{"statusCode":200,"body":"{\"status\":\"allow\",\"context\":{\"user_name\":\"user1\",\"tenant\":\"t-42\",\"admin\":false,\"level\":3}}"}"#;
    assert!(parse_result(result, true, false).unwrap().allow);
    group.bench_function("parse_result", |b| {
        b.iter(|| black_box(parse_result(black_box(result), true, false)))
    });
    let clock = ManualClock::new();
    let mut cache = ResultCache::new(10_000);
    let key = az.cache_key(0, &head).unwrap();
    let outcome = Rc::new(parse_result(result, true, false).unwrap());
    cache.put(&key, outcome, clock.now() + Duration::from_secs(30));
    group.bench_function("cache_hit", |b| {
        b.iter(|| {
            let key = az.cache_key(0, black_box(&head)).unwrap();
            let hit: Rc<Outcome> = cache.get(&key, clock.now()).unwrap();
            black_box(Rc::clone(&hit.context))
        })
    });
    group.finish();
}

/// Private, so the `pub fn` the macro writes needs no doc comment.
mod group {
    criterion::criterion_group!(benches, super::bench_authorizer);
}
criterion_main!(group::benches);
