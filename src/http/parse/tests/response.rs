//! Connection, keep-alive, Expect and header classification; response
//! heads and their framing (RFC 9112 §6.3).

use super::*;

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
        ("X-Forwarded-Fox", HeaderKind::Impostor),
        ("X-Tollgate-Loop", HeaderKind::LoopGuard),
        // Underscore spellings of what the gateway owns or frames (issue
        // 13 item 6); other underscore names are ordinary.
        ("Transfer_Encoding", HeaderKind::Impostor),
        ("content_length", HeaderKind::Impostor),
        ("X_Forwarded_For", HeaderKind::Impostor),
        ("x_real_ip", HeaderKind::Impostor),
        ("X_Apig_RateLimit_Api", HeaderKind::Impostor),
        (
            "x_apig_a_very_long_name_beyond_thirty_two_bytes",
            HeaderKind::Impostor,
        ),
        ("X_Tollgate_Loop", HeaderKind::Impostor),
        ("X_Forwarded_Port", HeaderKind::Impostor),
        ("X-Real-IP", HeaderKind::Impostor),
        ("X-Original-URL", HeaderKind::Impostor),
        ("x-rewrite-url", HeaderKind::Impostor),
        ("X-HTTP-Method-Override", HeaderKind::Impostor),
        ("X-HTTP-Method", HeaderKind::Impostor),
        ("X-Method-Override", HeaderKind::Impostor),
        ("X-Forwarded-Prefix", HeaderKind::Impostor),
        ("X_Custom", HeaderKind::Other),
        ("Content_Type", HeaderKind::Other),
        ("host_", HeaderKind::Other),
        (
            "a_very_long_name_that_is_longer_than_thirty_two_bytes",
            HeaderKind::Other,
        ),
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
