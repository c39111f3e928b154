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

// --- Content-Length / Transfer-Encoding (RFC 9112 §6) ---

#[test]
fn parse_rejects_content_length_with_transfer_encoding() {
    // RFC 9112 §6.1: CL + TE is a smuggling vector; reject and close.
    rejects(
        &get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
        Malformed::ContentLengthWithTransferEncoding,
    );
    rejects(
        &get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
        Malformed::ContentLengthWithTransferEncoding,
    );
}

#[test]
fn parse_accepts_identical_duplicate_content_length() {
    // RFC 9110 §8.6: a list of identical values may be taken as one.
    let head = ok(&get_with("Content-Length: 7\r\nContent-Length: 7\r\n"));
    assert_eq!(head.framing, BodyFraming::Length(7));
    let head = ok(&get_with("Content-Length: 7, 7,007\r\n"));
    assert_eq!(head.framing, BodyFraming::Length(7));
}

#[test]
fn parse_rejects_differing_content_length() {
    // RFC 9112 §6.3 (5): differing lengths make the framing unknowable.
    rejects(
        &get_with("Content-Length: 7\r\nContent-Length: 8\r\n"),
        Malformed::ConflictingContentLength,
    );
    rejects(
        &get_with("Content-Length: 7, 8\r\n"),
        Malformed::ConflictingContentLength,
    );
}

#[test]
fn parse_rejects_non_decimal_content_length() {
    // RFC 9110 §8.6: Content-Length = 1*DIGIT.
    for value in [
        "",
        "-1",
        "+1",
        "0x10",
        "1 2",
        "abc",
        "1.0",
        "5,",
        ",5",
        "18446744073709551616",
    ] {
        rejects(
            &get_with(&format!("Content-Length: {value}\r\n")),
            Malformed::BadContentLength,
        );
    }
}

#[test]
fn parse_accepts_content_length_zero_as_no_body() {
    assert_eq!(
        ok(&get_with("Content-Length: 0\r\n")).framing,
        BodyFraming::None
    );
}

#[test]
fn parse_rejects_body_over_limit() {
    // behaviour.md §3: body > 12 MiB → 413.
    let max = limits().max_body_bytes;
    let at = ok(&get_with(&format!("Content-Length: {max}\r\n")));
    assert_eq!(at.framing, BodyFraming::Length(max));
    let over = parse(&get_with(&format!("Content-Length: {}\r\n", max + 1)));
    assert_eq!(over.map(|h| h.is_some()), Err(ParseError::BodyTooLarge));
}

#[test]
fn parse_rejects_unsupported_transfer_encoding() {
    // RFC 9112 §6.1: only a final `chunked` frames a request; the gateway
    // accepts exactly one `chunked` and nothing else.
    for value in [
        "gzip, chunked",
        "chunked, chunked",
        "identity",
        "",
        "chunked;q=1",
        "gzip",
        "chunked,",
    ] {
        rejects(
            &get_with(&format!("Transfer-Encoding: {value}\r\n")),
            Malformed::UnsupportedTransferEncoding,
        );
    }
    rejects(
        &get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        Malformed::UnsupportedTransferEncoding,
    );
    rejects(
        &get_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
        Malformed::UnsupportedTransferEncoding,
    );
}

#[test]
fn parse_accepts_chunked_in_any_case() {
    for value in ["chunked", "Chunked", "CHUNKED", " chunked "] {
        let head = ok(&get_with(&format!("Transfer-Encoding: {value}\r\n")));
        assert_eq!(head.framing, BodyFraming::Chunked);
    }
}

#[test]
fn parse_rejects_transfer_encoding_in_http10() {
    // RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing.
    rejects(
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        Malformed::TransferEncodingInHttp10,
    );
}

// --- Field syntax (RFC 9112 §5) ---

#[test]
fn parse_rejects_obs_fold() {
    // RFC 9112 §5.2: a server MUST reject obs-fold in a request.
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
        Malformed::ObsFold,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n",
        Malformed::ObsFold,
    );
    rejects(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", Malformed::ObsFold);
}

#[test]
fn parse_rejects_space_before_colon() {
    // RFC 9112 §5.1: whitespace between name and colon → 400.
    rejects(
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        Malformed::SpaceBeforeColon,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\n",
        Malformed::SpaceBeforeColon,
    );
}

#[test]
fn parse_rejects_bad_header_names_as_syntax() {
    rejects(b"GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n", Malformed::Syntax);
    rejects(b"GET / HTTP/1.1\r\n: a\r\n\r\n", Malformed::Syntax);
}

#[test]
fn parse_rejects_control_bytes_in_values() {
    // RFC 9110 §5.5: NUL, CR, LF and other CTLs are not field content.
    for ctl in [0x00u8, 0x01, 0x0b, 0x7f, b'\r'] {
        let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b".to_vec();
        raw.push(ctl);
        raw.extend_from_slice(b"c\r\n\r\n");
        rejects(&raw, Malformed::BadHeaderValue);
    }
}

#[test]
fn parse_accepts_htab_and_obs_text_in_values() {
    let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\tc\xe9\r\n\r\n");
    assert_eq!(header_value(&head, "x-a"), Some(&b"b\tc\xe9"[..]));
}

#[test]
fn parse_trims_value_whitespace() {
    let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v a \t \r\nX-B:\r\nX-C:   \r\n\r\n");
    assert_eq!(header_value(&head, "x-a"), Some(&b"v a"[..]));
    assert_eq!(header_value(&head, "x-b"), Some(&b""[..]));
    assert_eq!(header_value(&head, "x-c"), Some(&b""[..]));
}

#[test]
fn parse_rejects_bad_request_lines_as_syntax() {
    for raw in [
        &b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"[..],
        b"GET / http/1.1\r\nHost: a\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\rHost: a\r\n\r\n",
    ] {
        rejects(raw, Malformed::Syntax);
    }
}

#[test]
fn parse_rejects_too_many_headers() {
    let many = |n: usize| {
        let extra: String = (1..n).map(|i| format!("X-{i}: v\r\n")).collect();
        get_with(&extra)
    };
    assert_eq!(ok(&many(MAX_HEADERS)).headers.len(), MAX_HEADERS);
    rejects(&many(MAX_HEADERS + 1), Malformed::TooManyHeaders);
}

// --- Host (RFC 9112 §3.2) ---

#[test]
fn parse_rejects_missing_host_on_http11() {
    rejects(b"GET / HTTP/1.1\r\n\r\n", Malformed::MissingHost);
}

#[test]
fn parse_accepts_missing_host_on_http10() {
    assert_eq!(ok(b"GET / HTTP/1.0\r\n\r\n").host, None);
    assert_eq!(ok(b"GET / HTTP/1.0\r\nHost:\r\n\r\n").host, None);
}

#[test]
fn parse_rejects_duplicate_host() {
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        Malformed::DuplicateHost,
    );
}

#[test]
fn parse_rejects_bad_host() {
    for host in [
        "",
        "a b",
        "host:",
        "host:abc",
        "host:123456",
        "user@host",
        "[::1",
        "[zz]",
        "[]",
        ":80",
        "a/b",
        "a%zz",
        "[::1]x",
        "a:65536",
    ] {
        rejects(
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
            Malformed::BadHost,
        );
    }
}

#[test]
fn parse_accepts_valid_hosts() {
    for host in [
        "example.com",
        "example.com:8080",
        "127.0.0.1",
        "[::1]:443",
        "[2001:db8::1]",
        "a:65535",
        "a_b.example",
        "caf%C3%A9.example",
    ] {
        let head = ok(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
        assert_eq!(head.host.map(|h| head.slice(h)), Some(host.as_bytes()));
    }
}

// --- Request-target (RFC 9112 §3.2) ---

#[test]
fn parse_rejects_connect() {
    rejects(
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        Malformed::Connect,
    );
}

#[test]
fn parse_accepts_absolute_form_with_target_authority_as_host() {
    // RFC 9112 §3.2.2: the target's authority wins over Host.
    let head = ok(b"GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
    assert_eq!(
        head.host.map(|h| head.slice(h)),
        Some(&b"example.com:8080"[..])
    );
    assert_eq!(head.slice(head.path), b"/a/b");
    assert_eq!(head.query.map(|q| head.slice(q)), Some(&b"x=1"[..]));
    let head = ok(b"GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(head.host.map(|h| head.slice(h)), Some(&b"h"[..]));
    assert!(head.path.is_empty());
    let head = ok(b"GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(head.path.is_empty());
    assert_eq!(head.query.map(|q| head.slice(q)), Some(&b"q"[..]));
}

#[test]
fn parse_accepts_asterisk_form_for_options() {
    let head = ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(head.path.is_empty());
    assert_eq!(head.slice(head.target), b"*");
}

#[test]
fn parse_rejects_bad_targets() {
    for target in [
        "example.com:80",
        "a/b",
        "*",
        "http:///x",
        "http://user@h/",
        "ftp://h/",
        "/a#frag",
        "http://h:99999/",
    ] {
        rejects(
            format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
            Malformed::BadTarget,
        );
    }
}

// --- Limits (behaviour.md §3, §20) ---

fn uri_of(len: usize) -> String {
    format!("/{}", "a".repeat(len - 1))
}

#[test]
fn parse_accepts_uri_at_limit() {
    let uri = uri_of(limits().max_uri_bytes);
    let head = ok(format!("OPTIONS {uri} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    assert_eq!(head.target.len(), limits().max_uri_bytes);
    // Partial (no LF yet) at the limit is still just incomplete.
    let partial = format!("OPTIONS {uri} HTTP/1.1\r");
    assert_eq!(parse(partial.as_bytes()).map(|h| h.is_some()), Ok(false));
}

#[test]
fn parse_rejects_uri_over_limit() {
    let uri = uri_of(limits().max_uri_bytes + 1);
    let raw = format!("GET {uri} HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        parse(raw.as_bytes()).map(|h| h.is_some()),
        Err(ParseError::UriTooLong)
    );
}

#[test]
fn parse_rejects_uri_over_limit_while_partial() {
    let uri = uri_of(limits().max_uri_bytes + REQUEST_LINE_ROOM);
    let raw = format!("GET {uri}");
    assert_eq!(
        parse(raw.as_bytes()).map(|h| h.is_some()),
        Err(ParseError::UriTooLong)
    );
}

#[test]
fn parse_rejects_long_malformed_uri_as_too_long() {
    // Limits come before syntax: an oversized URI is a 414, not a 400.
    let uri = uri_of(limits().max_uri_bytes + REQUEST_LINE_ROOM);
    let raw = format!("GET {uri}\x01 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        parse(raw.as_bytes()).map(|h| h.is_some()),
        Err(ParseError::UriTooLong)
    );
}

/// A header line of exactly `len` bytes (`name + ": " + value`).
fn header_line(name: &str, len: usize) -> String {
    format!("{name}: {}\r\n", "v".repeat(len - name.len() - 2))
}

#[test]
fn parse_accepts_header_at_limit() {
    let max = limits().max_header_bytes;
    let head = ok(&get_with(&header_line("X-Long", max)));
    assert_eq!(
        header_value(&head, "x-long").map(<[u8]>::len),
        Some(max - 8)
    );
}

#[test]
fn parse_rejects_header_over_limit() {
    let max = limits().max_header_bytes;
    let raw = get_with(&header_line("X-Long", max + 1));
    assert_eq!(
        parse(&raw).map(|h| h.is_some()),
        Err(ParseError::HeaderTooLarge)
    );
    // Unterminated: refused before the line ends.
    let partial = &raw[..raw.len() - 3];
    assert_eq!(
        parse(partial).map(|h| h.is_some()),
        Err(ParseError::HeaderTooLarge)
    );
    // At the limit and still unterminated: incomplete.
    let at = get_with(&header_line("X-Long", max));
    assert_eq!(parse(&at[..at.len() - 3]).map(|h| h.is_some()), Ok(false));
}

/// Host (7 bytes) plus lines summing to exactly `total` bytes.
fn headers_totalling(total: usize) -> Vec<u8> {
    let max = limits().max_header_bytes;
    let mut left = total - "Host: a".len();
    let mut extra = String::new();
    let mut i = 0;
    while left > 0 {
        let len = left.min(max);
        extra.push_str(&header_line(&format!("X-{i}"), len));
        left -= len;
        i += 1;
    }
    get_with(&extra)
}

#[test]
fn parse_accepts_headers_at_total_limit() {
    let head = ok(&headers_totalling(limits().max_headers_total_bytes));
    assert_eq!(head.headers.len(), 5);
}

#[test]
fn parse_rejects_headers_over_total_limit() {
    let raw = headers_totalling(limits().max_headers_total_bytes + 1);
    assert_eq!(
        parse(&raw).map(|h| h.is_some()),
        Err(ParseError::HeadersTooLarge)
    );
}

#[test]
fn parse_rejects_headers_over_total_limit_while_partial() {
    let raw = headers_totalling(limits().max_headers_total_bytes + HEADER_SECTION_SLACK + 64);
    let partial = &raw[..raw.len() - 2];
    assert_eq!(
        parse(partial).map(|h| h.is_some()),
        Err(ParseError::HeadersTooLarge)
    );
}

#[test]
fn parse_rejects_at_most_as_early_as_a_whole_head() {
    // Feeding a head in growing pieces never refuses what the whole head passes.
    let raw = headers_totalling(limits().max_headers_total_bytes);
    for len in (0..raw.len()).step_by(997) {
        assert_eq!(
            parse(&raw[..len]).map(|h| h.is_some()),
            Ok(false),
            "prefix {len}"
        );
    }
}

// --- Connection, keep-alive, Expect, classification ---

#[test]
fn parse_decides_keep_alive_per_version() {
    // RFC 9112 §9.3.
    assert!(ok(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
    assert!(
        !ok(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").keep_alive
    );
}

#[test]
fn parse_marks_connection_options_hop_by_hop() {
    // RFC 9110 §7.6.1: fields named in Connection are hop-by-hop.
    let head = ok(&get_with(
        "Connection: x-custom , Foo\r\nX-Custom: 1\r\nfoo: 2\r\nX-Other: 3\r\n",
    ));
    let kind = |name: &str| {
        head.headers
            .iter()
            .find(|h| head.slice(h.name).eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.kind)
    };
    assert_eq!(kind("x-custom"), Some(HeaderKind::HopByHop));
    assert_eq!(kind("foo"), Some(HeaderKind::HopByHop));
    assert_eq!(kind("x-other"), Some(HeaderKind::Other));
    assert_eq!(kind("connection"), Some(HeaderKind::HopByHop));
}

#[test]
fn parse_keeps_framing_headers_named_in_connection() {
    let head = ok(&get_with(
        "Connection: host, content-length\r\nContent-Length: 3\r\n",
    ));
    assert_eq!(head.framing, BodyFraming::Length(3));
    assert!(head.headers.iter().any(|h| h.kind == HeaderKind::Host));
}

#[test]
fn parse_rejects_too_many_connection_options() {
    let options: Vec<String> = (0..=headers::MAX_CONNECTION_OPTIONS)
        .map(|i| format!("o{i}"))
        .collect();
    rejects(
        &get_with(&format!("Connection: {}\r\n", options.join(","))),
        Malformed::TooManyConnectionOptions,
    );
}

#[test]
fn parse_detects_expect_continue() {
    assert!(ok(&get_with("Expect: 100-Continue\r\n")).expect_continue);
    let other = ok(&get_with("Expect: something\r\n"));
    assert!(!other.expect_continue);
    assert_eq!(other.headers[1].kind, HeaderKind::Expect);
}

#[test]
fn classify_names_every_kind_case_insensitively() {
    let table = [
        ("Host", HeaderKind::Host),
        ("content-length", HeaderKind::ContentLength),
        ("TRANSFER-ENCODING", HeaderKind::TransferEncoding),
        ("Expect", HeaderKind::Expect),
        ("X-Forwarded-For", HeaderKind::XForwardedFor),
        ("x-forwarded-proto", HeaderKind::XForwardedProto),
        ("X-Forwarded-Host", HeaderKind::XForwardedHost),
        ("X-Request-Id", HeaderKind::XRequestId),
        ("Server", HeaderKind::Server),
        ("Connection", HeaderKind::HopByHop),
        ("Keep-Alive", HeaderKind::HopByHop),
        ("Proxy-Connection", HeaderKind::HopByHop),
        ("TE", HeaderKind::HopByHop),
        ("Trailer", HeaderKind::HopByHop),
        ("Upgrade", HeaderKind::HopByHop),
        ("Proxy-Authenticate", HeaderKind::HopByHop),
        ("Proxy-Authorization", HeaderKind::HopByHop),
        ("Accept", HeaderKind::Other),
        ("Hosts", HeaderKind::Other),
        ("X-Forwarded-Fox", HeaderKind::Other),
    ];
    for (name, kind) in table {
        assert_eq!(classify(name.as_bytes()), kind, "{name}");
    }
}

// --- Responses (RFC 9112 §6.3) ---

fn response(raw: &[u8], method: Method) -> Result<Option<ResponseHead>, ParseError> {
    let mut buf = BytesMut::from(raw);
    parse_response(&mut buf, 64 * KIB, method)
}

fn framing(raw: &str, method: Method) -> Result<ResponseFraming, ParseError> {
    match response(raw.as_bytes(), method) {
        Ok(Some(head)) => Ok(head.framing),
        Ok(None) => panic!("incomplete: {raw:?}"),
        Err(e) => Err(e),
    }
}

#[test]
fn response_framing_follows_rfc9112_table() {
    use ResponseFraming::*;
    let table = [
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            Method::Head,
            Empty,
        ),
        (
            "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
            Method::Get,
            Empty,
        ),
        (
            "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
            Method::Get,
            Empty,
        ),
        ("HTTP/1.1 100 Continue\r\n\r\n", Method::Post, Empty),
        (
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
            Method::Get,
            Empty,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            Method::Get,
            Length(10),
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: 10\r\n\r\n",
            Method::Get,
            Length(10),
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            Method::Get,
            Empty,
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            Method::Get,
            Chunked,
        ),
        ("HTTP/1.1 200 OK\r\n\r\n", Method::Get, UntilClose),
    ];
    for (raw, method, want) in table {
        assert_eq!(framing(raw, method), Ok(want), "{raw:?}");
    }
}

#[test]
fn response_rejects_ambiguous_framing() {
    let m = |rule| Err(ParseError::Malformed(rule));
    let table = [
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            m(Malformed::ContentLengthWithTransferEncoding),
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            m(Malformed::UnsupportedTransferEncoding),
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            m(Malformed::ConflictingContentLength),
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            m(Malformed::BadContentLength),
        ),
        (
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            m(Malformed::TransferEncodingInHttp10),
        ),
        (
            "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
            m(Malformed::ObsFold),
        ),
        ("HTTP/1.1 099 Odd\r\n\r\n", m(Malformed::BadStatus)),
    ];
    for (raw, want) in table {
        assert_eq!(framing(raw, Method::Get), want, "{raw:?}");
    }
}

#[test]
fn response_decides_keep_alive() {
    let keep = |raw: &str| {
        response(raw.as_bytes(), Method::Get)
            .unwrap()
            .unwrap()
            .keep_alive
    };
    assert!(keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    assert!(!keep(
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    assert!(!keep("HTTP/1.1 200 OK\r\n\r\n"));
    assert!(!keep("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    assert!(keep(
        "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
    ));
}

#[test]
fn response_splits_head_and_classifies_headers() {
    let mut buf = BytesMut::from(
        &b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 2\r\n\r\nhi"[..],
    );
    let head = parse_response(&mut buf, 1024, Method::Get)
        .unwrap()
        .unwrap();
    assert_eq!(head.status, 404);
    assert_eq!(head.reason.of(&head.buf), b"Not Found");
    assert_eq!(head.headers[0].kind, HeaderKind::Server);
    assert_eq!(&buf[..], b"hi");
    let head = response(b"HTTP/1.1 200\r\n\r\n", Method::Get)
        .unwrap()
        .unwrap();
    assert!(head.reason.is_empty());
}

#[test]
fn response_limits_head_size() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let mut buf = BytesMut::from(&raw[..]);
    assert!(
        parse_response(&mut buf, raw.len(), Method::Get)
            .unwrap()
            .is_some()
    );
    let mut buf = BytesMut::from(&raw[..]);
    assert_eq!(
        parse_response(&mut buf, raw.len() - 1, Method::Get).map(|h| h.is_some()),
        Err(ParseError::HeadersTooLarge)
    );
    for len in 0..raw.len() {
        let mut buf = BytesMut::from(&raw[..len]);
        assert_eq!(
            parse_response(&mut buf, raw.len(), Method::Get).map(|h| h.is_some()),
            Ok(false)
        );
    }
    let mut buf = BytesMut::from(&raw[..20]);
    assert_eq!(
        parse_response(&mut buf, 19, Method::Get).map(|h| h.is_some()),
        Err(ParseError::HeadersTooLarge)
    );
}
