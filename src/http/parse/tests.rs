//! Unit tests of the head parser: one per rejection rule (behaviour.md §3,
//! RFC 9112), limits at and one byte over, partial heads, pipelining,
//! target forms, keep-alive, hop-by-hop and the response framing table.

use super::headers::classify;
use super::limits::{HEADER_SECTION_SLACK, REQUEST_LINE_ROOM};
use super::*;

const KIB: usize = 1024;

fn limits() -> HeadLimits {
    HeadLimits {
        max_uri_bytes: 32 * KIB,
        max_header_bytes: 32 * KIB,
        max_headers_total_bytes: 128 * KIB,
        max_body_bytes: 12 * 1024 * 1024,
    }
}

fn parse(raw: &[u8]) -> Result<Option<RequestHead>, ParseError> {
    let mut buf = BytesMut::from(raw);
    parse_request(&mut buf, &limits())
}

fn ok(raw: &[u8]) -> RequestHead {
    match parse(raw) {
        Ok(Some(head)) => head,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
    }
}

fn rejects(raw: &[u8], rule: Malformed) {
    assert_eq!(
        parse(raw).map(|h| h.is_some()),
        Err(ParseError::Malformed(rule)),
        "{:?}",
        String::from_utf8_lossy(raw)
    );
}

/// A GET with `Host: a` and the given extra header lines.
fn get_with(extra: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: a\r\n{extra}\r\n").into_bytes()
}

fn header_value<'a>(head: &'a RequestHead, name: &str) -> Option<&'a [u8]> {
    head.headers
        .iter()
        .find(|h| head.slice(h.name).eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| head.slice(h.value))
}

const TYPICAL: &[u8] = b"POST /api/v1/items?limit=10&x=y HTTP/1.1\r\nHost: api.example.com\r\n\
User-Agent: test/1.0\r\nAccept: */*\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n";

#[test]
fn parse_accepts_simple_get() {
    let head = ok(b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!(head.method, Method::Get);
    assert_eq!(head.slice(head.method_span), b"GET");
    assert_eq!(head.slice(head.target), b"/index.html");
    assert_eq!(head.slice(head.path), b"/index.html");
    assert_eq!(head.query, None);
    assert_eq!(head.version, Version::Http11);
    assert_eq!(head.host.map(|h| head.slice(h)), Some(&b"example.com"[..]));
    assert_eq!(head.framing, BodyFraming::None);
    assert!(head.keep_alive);
    assert!(!head.expect_continue);
    assert_eq!(head.headers.len(), 1);
    assert_eq!(head.headers[0].kind, HeaderKind::Host);
}

#[test]
fn parse_splits_head_and_leaves_body() {
    let mut buf = BytesMut::from(TYPICAL);
    buf.extend_from_slice(b"helloGET");
    let head = parse_request(&mut buf, &limits()).unwrap().unwrap();
    assert_eq!(&head.buf[..], TYPICAL);
    assert_eq!(&buf[..], b"helloGET");
    assert_eq!(head.framing, BodyFraming::Length(5));
    assert_eq!(head.slice(head.path), b"/api/v1/items");
    assert_eq!(
        head.query.map(|q| head.slice(q)),
        Some(&b"limit=10&x=y"[..])
    );
    for h in &head.headers {
        assert!(h.name.end <= h.value.start && h.value.end as usize <= head.buf.len());
    }
}

#[test]
fn parse_returns_none_for_every_prefix() {
    for len in 0..TYPICAL.len() {
        let mut buf = BytesMut::from(&TYPICAL[..len]);
        let got = parse_request(&mut buf, &limits());
        assert_eq!(got.map(|h| h.is_some()), Ok(false), "prefix {len}");
    }
}

#[test]
fn parse_handles_pipelined_requests_in_turn() {
    let mut buf = BytesMut::from(
        &b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n"[..],
    );
    let first = parse_request(&mut buf, &limits()).unwrap().unwrap();
    assert_eq!(first.slice(first.path), b"/a");
    let second = parse_request(&mut buf, &limits()).unwrap().unwrap();
    assert_eq!(second.slice(second.path), b"/b");
    assert!(buf.is_empty());
    assert!(parse_request(&mut buf, &limits()).unwrap().is_none());
}

#[test]
fn parse_skips_empty_lines_before_request_line() {
    // RFC 9112 §2.2: a CRLF left over after a body is ignored.
    let head = ok(b"\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(&head.buf[..3], b"GET");
}

#[test]
fn parse_accepts_bare_lf_line_endings() {
    // RFC 9112 §2.2: a recipient MAY recognise a single LF as a line terminator.
    let head = ok(b"GET / HTTP/1.1\nHost: a\n\n");
    assert_eq!(head.host.map(|h| head.slice(h)), Some(&b"a"[..]));
}

mod framing;
mod limits;
mod response;
mod syntax;
