//! Field syntax, Host and request-target rules (RFC 9112 §3.2, §5).

use super::*;

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
