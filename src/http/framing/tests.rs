//! Unit tests of the chunked scanner (RFC 9112 §7.1): valid and invalid
//! tables, every split position, one byte at a time, and the encoder.

use super::*;

/// Whole-input outcome: `Ok(Some(n))` done after n bytes, `Ok(None)` needs
/// more, `Err` refused.
type Outcome = Result<Option<usize>, FramingError>;

fn whole(input: &[u8]) -> Outcome {
    match ChunkedScanner::new().scan(input)? {
        Scan::Done(n) => Ok(Some(n)),
        Scan::NeedMore => Ok(None),
    }
}

/// Scans `pieces` in order; offsets of `Done` are made absolute.
fn pieces(input: &[u8], cuts: &[usize]) -> (Outcome, u64) {
    let mut scanner = ChunkedScanner::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([input.len()]) {
        match scanner.scan(&input[start..end]) {
            Ok(Scan::Done(n)) => return (Ok(Some(start + n)), scanner.data_bytes()),
            Ok(Scan::NeedMore) => {}
            Err(e) => return (Err(e), scanner.data_bytes()),
        }
        start = end;
    }
    (Ok(None), scanner.data_bytes())
}

/// (body, payload bytes)
const VALID: &[(&[u8], u64)] = &[
    (b"0\r\n\r\n", 0),
    (b"5\r\nhello\r\n0\r\n\r\n", 5),
    (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 11),
    (b"A\r\n0123456789\r\n0\r\n\r\n", 10),
    (b"000a\r\n0123456789\r\n000\r\n\r\n", 10),
    (b"0000000000000005\r\nhello\r\n0\r\n\r\n", 5),
    (b"5;foo\r\nhello\r\n0\r\n\r\n", 5),
    (b"5;a=b;c=d\r\nhello\r\n0\r\n\r\n", 5),
    (b"5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", 5),
    (b"5\t;\ta\t=\tb\r\nhello\r\n0\r\n\r\n", 5),
    (b"5;a=\"x y;\\\"z\\\\\"\r\nhello\r\n0\r\n\r\n", 5),
    (b"5;a=\"\"\r\nhello\r\n0\r\n\r\n", 5),
    (b"0;last=1\r\n\r\n", 0),
    (b"0\r\nX-Trailer: v\r\nY:\r\nZ: a\tb \xff\r\n\r\n", 0),
    (b"3\r\n\r\n\r\r\n0\r\n\r\n", 3),
];

/// (body, error)
const INVALID: &[(&[u8], FramingError)] = &[
    (b"g\r\n", FramingError::BadChunkSize),
    (b"\r\n", FramingError::BadChunkSize),
    (b" 5\r\n", FramingError::BadChunkSize),
    (b"-5\r\n", FramingError::BadChunkSize),
    (b"+5\r\n", FramingError::BadChunkSize),
    (b"0x5\r\n", FramingError::BadChunkSize),
    (b"5g\r\n", FramingError::BadChunkSize),
    (
        b"00000000000000005\r\nhello\r\n0\r\n\r\n",
        FramingError::BadChunkSize,
    ),
    (b"5\nhello\r\n0\r\n\r\n", FramingError::BadLineEnding),
    (b"5\rhello\r\n0\r\n\r\n", FramingError::BadLineEnding),
    (b"5\r\nhelloX\r\n0\r\n\r\n", FramingError::BadLineEnding),
    (b"5\r\nhello\n0\r\n\r\n", FramingError::BadLineEnding),
    (b"5\r\nhello\rX0\r\n\r\n", FramingError::BadLineEnding),
    (b"5;a\nhello", FramingError::BadLineEnding),
    (b"5;a=b\nhello", FramingError::BadLineEnding),
    (b"5 \r\nhello", FramingError::BadChunkExtension),
    (b"5;\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=b \r\nhello", FramingError::BadChunkExtension),
    (b"5;a b\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=\"x\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=\"x\ny\"\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=\"\\\x01\"\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=\"\x00\"\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=\"x\"y\r\nhello", FramingError::BadChunkExtension),
    (b"5;a=b=c\r\nhello", FramingError::BadChunkExtension),
    (b"5;a@b\r\nhello", FramingError::BadChunkExtension),
    (b"0\r\nA: b\r\n c\r\n\r\n", FramingError::BadTrailer),
    (b"0\r\nA b: c\r\n\r\n", FramingError::BadTrailer),
    (b"0\r\nA : c\r\n\r\n", FramingError::BadTrailer),
    (b"0\r\n: c\r\n\r\n", FramingError::BadTrailer),
    (b"0\r\nA: \x01\r\n\r\n", FramingError::BadTrailer),
    (b"0\r\nA: \x7f\r\n\r\n", FramingError::BadTrailer),
    (b"0\r\n\n", FramingError::BadLineEnding),
    (b"0\r\n\rX", FramingError::BadLineEnding),
    (b"0\r\nA: b\n\r\n", FramingError::BadLineEnding),
    (b"0\r\nA: b\rX\r\n", FramingError::BadLineEnding),
];

#[test]
fn scan_accepts_valid_bodies() {
    for &(body, payload) in VALID {
        let mut with_next = body.to_vec();
        with_next.extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(
            whole(&with_next),
            Ok(Some(body.len())),
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(pieces(body, &[]).1, payload);
    }
}

#[test]
fn scan_rejects_invalid_bodies() {
    for &(body, error) in INVALID {
        assert_eq!(
            whole(body),
            Err(error),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn scan_needs_more_for_every_prefix_of_a_valid_body() {
    for &(body, _) in VALID {
        for len in 0..body.len() {
            assert_eq!(
                whole(&body[..len]),
                Ok(None),
                "{:?}[..{len}]",
                String::from_utf8_lossy(body)
            );
        }
    }
}

#[test]
fn scan_gives_the_same_result_at_every_split() {
    let cases = VALID.iter().map(|c| c.0).chain(INVALID.iter().map(|c| c.0));
    for body in cases {
        let mut input = body.to_vec();
        input.extend_from_slice(b"NEXT");
        let (expected, payload) = pieces(&input, &[]);
        for cut in 0..=input.len() {
            assert_eq!(
                pieces(&input, &[cut]),
                (expected, payload),
                "{:?} cut {cut}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

#[test]
fn scan_gives_the_same_result_one_byte_at_a_time() {
    let cases = VALID.iter().map(|c| c.0).chain(INVALID.iter().map(|c| c.0));
    for body in cases {
        let cuts: Vec<usize> = (1..body.len()).collect();
        assert_eq!(
            pieces(body, &cuts),
            pieces(body, &[]),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn scan_skips_chunk_data_in_one_step() {
    let mut scanner = ChunkedScanner::new();
    assert_eq!(scanner.scan(b"10000\r\n"), Ok(Scan::NeedMore));
    assert_eq!(scanner.scan(&[b'x'; 0x10000]), Ok(Scan::NeedMore));
    assert_eq!(scanner.data_bytes(), 0x10000);
    assert_eq!(scanner.scan(b"\r\n0\r\n\r\nrest"), Ok(Scan::Done(7)));
}

#[test]
fn scan_repeats_its_outcome_after_the_end() {
    let mut done = ChunkedScanner::new();
    assert_eq!(done.scan(b"0\r\n\r\n"), Ok(Scan::Done(5)));
    assert_eq!(done.scan(b"more"), Ok(Scan::Done(0)));
    let mut failed = ChunkedScanner::new();
    assert_eq!(failed.scan(b"x"), Err(FramingError::BadChunkSize));
    assert_eq!(failed.scan(b"0\r\n\r\n"), Err(FramingError::BadChunkSize));
}

#[test]
fn scan_rejects_chunk_line_over_limit() {
    let line = |len: usize| {
        let mut body = b"5;a=".to_vec();
        body.resize(len, b'b');
        body.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        body
    };
    let at = line(MAX_CHUNK_LINE_BYTES);
    assert_eq!(whole(&at), Ok(Some(at.len())));
    assert_eq!(
        whole(&line(MAX_CHUNK_LINE_BYTES + 1)),
        Err(FramingError::BadChunkExtension)
    );
}

#[test]
fn scan_rejects_trailer_section_over_limit() {
    let trailers = |len: usize| {
        // "X: v...v\r\n" + final "\r\n" = len bytes of trailer section.
        let mut body = b"0\r\nX: ".to_vec();
        body.resize(3 + len - 4, b'v');
        body.extend_from_slice(b"\r\n\r\n");
        body
    };
    let at = trailers(MAX_TRAILER_BYTES);
    assert_eq!(whole(&at), Ok(Some(at.len())));
    assert_eq!(
        whole(&trailers(MAX_TRAILER_BYTES + 1)),
        Err(FramingError::BadTrailer)
    );
}

#[test]
fn encode_chunk_header_writes_lowercase_hex() {
    for (len, want) in [
        (0usize, &b"0\r\n"[..]),
        (1, b"1\r\n"),
        (15, b"f\r\n"),
        (16, b"10\r\n"),
        (4096, b"1000\r\n"),
        (0xabcdef, b"abcdef\r\n"),
    ] {
        let mut out = BytesMut::new();
        encode_chunk_header(len, &mut out);
        assert_eq!(&out[..], want, "{len}");
    }
    let mut out = BytesMut::from(&b"x"[..]);
    encode_chunk_header(usize::MAX, &mut out);
    assert_eq!(&out[..], format!("x{:x}\r\n", usize::MAX).as_bytes());
}

#[test]
fn encoded_chunks_scan_back() {
    let mut body = BytesMut::new();
    for len in [1usize, 100, 4096] {
        encode_chunk_header(len, &mut body);
        body.extend_from_slice(&vec![b'z'; len]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(LAST_CHUNK);
    let mut scanner = ChunkedScanner::new();
    assert_eq!(scanner.scan(&body), Ok(Scan::Done(body.len())));
    assert_eq!(scanner.data_bytes(), 4197);
}

#[test]
fn declared_bytes_counts_the_announced_chunk_before_its_data() {
    let mut s = ChunkedScanner::new();
    assert_eq!(s.scan(b"10\r\nabc"), Ok(Scan::NeedMore));
    assert_eq!(s.declared_bytes(), 16);
    assert_eq!(s.data_bytes(), 3);
}

/// The payload `scan_payload` hands out over `pieces` cut at `cuts`.
fn payload_of(input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut scanner = ChunkedScanner::new();
    let mut payload = Vec::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([input.len()]) {
        let scan = scanner.scan_payload(&input[start..end], |p| payload.extend_from_slice(p));
        if !matches!(scan, Ok(Scan::NeedMore)) {
            break;
        }
        start = end;
    }
    payload
}

#[test]
fn scan_payload_hands_out_the_dechunked_body_at_every_split() {
    let known: &[(&[u8], &[u8])] = &[
        (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
        (b"5;a=\"x;y\"\r\nhello\r\n0\r\nT: 1\r\n\r\n", b"hello"),
        (b"3\r\n\r\n\r\r\n0\r\n\r\n", b"\r\n\r"),
        (b"0\r\n\r\n", b""),
    ];
    for &(body, payload) in known {
        assert_eq!(payload_of(body, &[]), payload);
    }
    for &(body, count) in VALID {
        let mut input = body.to_vec();
        input.extend_from_slice(b"5\r\nNEXT!\r\n");
        let whole = payload_of(&input, &[]);
        assert_eq!(whole.len() as u64, count);
        for cut in 0..=input.len() {
            assert_eq!(payload_of(&input, &[cut]), whole, "cut {cut}");
        }
        let every: Vec<usize> = (1..input.len()).collect();
        assert_eq!(payload_of(&input, &every), whole);
    }
}

// regression: issue 13 item 5 — trailer sections were forwarded verbatim.
#[test]
fn trailer_fields_that_must_come_first_are_filtered_out() {
    let section =
        b"Checksum: 1\r\nContent-Length: 5\r\nX: POST / HTTP/1.1\r\nTransfer_Encoding: chunked\r\n\
HOST: x\r\nproxy-authorization: y\r\nX-Apig-Mode: debug\r\nServer-Timing: db;dur=53\r\n\r\n";
    let mut out = BytesMut::new();
    filter_trailer(section, &mut out);
    assert_eq!(
        &out[..],
        b"Checksum: 1\r\nX: POST / HTTP/1.1\r\nServer-Timing: db;dur=53\r\n\r\n"
    );
    let mut out = BytesMut::new();
    filter_trailer(b"\r\n", &mut out);
    assert_eq!(&out[..], b"\r\n");
}
