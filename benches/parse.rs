//! `http::parse_request` on small, typical and large heads, next to raw
//! `httparse::Request::parse` on the same bytes, so the cost of our
//! classification and RFC 9112 checks shows as a ratio; plus
//! `ChunkedScanner::scan` over a 64 KiB body of 4 KiB chunks; plus
//! `query::find` on a typical query and `percent::encode` / `decode` on a
//! short parameter value.
//!
//! Justifies: parsing in place (spans, no copies) with one classification
//! pass; the scanner's O(1) skip over chunk data; query lookup without
//! allocation and table-driven percent-encoding.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_main};
use tollgate::http::HeadLimits;
use tollgate::http::framing::{ChunkedScanner, LAST_CHUNK, encode_chunk_header};
use tollgate::http::parse_request;
use tollgate::http::percent::{self, EncodeSet};
use tollgate::http::query;

const LIMITS: HeadLimits = HeadLimits {
    max_uri_bytes: 32 * 1024,
    max_header_bytes: 32 * 1024,
    max_headers_total_bytes: 128 * 1024,
    max_body_bytes: 12 * 1024 * 1024,
};

fn small() -> Vec<u8> {
    b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec()
}

/// Browser-like, about 500 bytes and 11 headers.
fn typical() -> Vec<u8> {
    b"GET /api/v1/orders/12345?expand=items&page=2 HTTP/1.1\r\n\
Host: api.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: application/json, text/plain, */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Referer: https://app.example.com/orders\r\n\
Origin: https://app.example.com\r\n\
Connection: keep-alive\r\n\
Cookie: session=3f9a1c2e7b5d4e6f8a9b0c1d2e3f4a5b; theme=dark\r\n\
X-Request-Id: 0f8e2c1a-4b6d-4e8f-9a1b-2c3d4e5f6a7b\r\n\
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig\r\n\r\n"
        .to_vec()
}

/// About 4 KiB: 40 headers and a long cookie.
fn large() -> Vec<u8> {
    let mut head = b"POST /api/v2/tenants/acme/reports/generate?format=csv&tz=UTC HTTP/1.1\r\n\
Host: api.example.com\r\nContent-Length: 512\r\n"
        .to_vec();
    for i in 0..37 {
        head.extend_from_slice(
            format!(
                "X-Custom-Header-{i:02}: value-{i:02}-abcdefghijklmnopqrstuvwxyz0123456789\r\n"
            )
            .as_bytes(),
        );
    }
    let cookie: String = (0..40)
        .map(|i| format!("c{i:02}={:x}; ", 0x1234_5678_9abc_u64 * i))
        .collect();
    head.extend_from_slice(format!("Cookie: {cookie}\r\n\r\n").as_bytes());
    head
}

fn bench_heads(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_request");
    for (name, raw) in [
        ("small", small()),
        ("typical", typical()),
        ("large", large()),
    ] {
        let raw = Bytes::from(raw);
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group.bench_function(format!("tollgate/{name}"), |b| {
            b.iter_batched_ref(
                || BytesMut::from(&raw[..]),
                |buf| black_box(parse_request(buf, &LIMITS)),
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("httparse/{name}"), |b| {
            b.iter(|| {
                let mut slots = [httparse::EMPTY_HEADER; 128];
                let mut req = httparse::Request::new(&mut slots);
                black_box(req.parse(black_box(&raw[..])).map(|s| s.is_complete()))
            })
        });
    }
    group.finish();
}

/// 64 KiB of payload in 4 KiB chunks.
fn chunked_body() -> Vec<u8> {
    let mut body = BytesMut::new();
    for _ in 0..16 {
        encode_chunk_header(4096, &mut body);
        body.extend_from_slice(&[b'x'; 4096]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(LAST_CHUNK);
    body.to_vec()
}

fn bench_chunked(c: &mut Criterion) {
    let body = chunked_body();
    let mut group = c.benchmark_group("chunked_scan");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("64KiB_4KiB_chunks", |b| {
        b.iter(|| ChunkedScanner::new().scan(black_box(&body)))
    });
    group.finish();
}

/// Six pairs, one key percent-encoded, as a browser or SDK sends them.
const QUERY: &[u8] =
    b"expand=items&page=2&per_page=50&sort=-created_at&filter%5Bstatus%5D=open&q=caf%C3%A9+au+lait";

/// 39 bytes with escapes in either set (space, `/`, `&`, `[`, UTF-8).
const VALUE: &[u8] = "[apig] orders/2024 & caf\u{e9} {draft}#1234".as_bytes();

fn bench_query(c: &mut Criterion) {
    let mut group = c.benchmark_group("query_find");
    group.throughput(Throughput::Bytes(QUERY.len() as u64));
    for (name, key) in [
        ("first", &b"expand"[..]),
        ("last", b"Q"),
        ("missing", b"limit"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| query::find(black_box(QUERY), black_box(key)))
        });
    }
    group.bench_function("encoded_key", |b| {
        b.iter(|| query::find(black_box(QUERY), black_box(b"filter[status]")))
    });
    group.finish();
}

fn bench_percent(c: &mut Criterion) {
    let mut group = c.benchmark_group("percent");
    group.throughput(Throughput::Bytes(VALUE.len() as u64));
    for (name, set) in [
        ("encode/path", EncodeSet::Path),
        ("encode/query", EncodeSet::Query),
    ] {
        let mut out = BytesMut::with_capacity(3 * VALUE.len());
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                percent::encode(black_box(VALUE), set, &mut out);
                black_box(out.len())
            })
        });
    }
    let mut encoded = BytesMut::new();
    percent::encode(VALUE, EncodeSet::Path, &mut encoded);
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("decode", |b| {
        b.iter(|| black_box(percent::decode(black_box(&encoded[..]))))
    });
    group.finish();
}

/// curl's ClientHello (SNI a.example.test, TLS 1.3), as the fuzz seed
/// holds it after its one-byte piece-size prefix.
const CLIENT_HELLO: &[u8] = include_bytes!("../fuzz/corpus/tls_client_hello/curl-sni-tls13");

fn bench_client_hello(c: &mut Criterion) {
    let hello = &CLIENT_HELLO[1..];
    let table = tollgate::tls::SniTable::new(1);
    let mut group = c.benchmark_group("tls");
    group.throughput(Throughput::Bytes(hello.len() as u64));
    group.bench_function("client_hello", |b| {
        b.iter(|| {
            let mut acceptor = rustls::server::Acceptor::default();
            match tollgate::tls::offer(&mut acceptor, black_box(hello)) {
                tollgate::tls::Hello::Ready(accepted) => {
                    let sni = accepted.client_hello().server_name().map(str::to_owned);
                    black_box(table.pick(0, sni.as_deref()))
                }
                _ => unreachable!("a complete ClientHello"),
            }
        })
    });
    group.finish();
}

/// Private, so the `pub fn` the macro writes needs no doc comment.
mod group {
    criterion::criterion_group!(
        benches,
        super::bench_heads,
        super::bench_chunked,
        super::bench_query,
        super::bench_percent,
        super::bench_client_hello
    );
}
criterion_main!(group::benches);
