//! Content-Length / Transfer-Encoding framing of requests (RFC 9112 §6).

use super::*;

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
