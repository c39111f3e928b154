//! The per-request part of APIG.0303 messages (app-signing.md §6), worded
//! as APIG words it: `, appkey 0117***e5e1`, `, signature time:…,server
//! time:…`, `, canonicalRequest:GET|/test/||host:d7da***3df7.example.com|…`.
//!
//! Nothing here is a secret of the gateway's: the canonical request is
//! built from the client's own request and never holds the AppSecret or
//! the signature. Error bodies travel further than the client, though
//! (logs, proxies, screenshots), so the shape of APIG's examples is kept
//! and extended to credentials the client itself sent:
//! * the AppKey: its first 4 and last 4 characters around `***`;
//! * the signed `host`: its first label masked so (`d7da***3df7.example.com`);
//! * the payload hash: its first 5 and last 6 hex digits (`e3b0c***52b855`);
//!   `UNSIGNED-PAYLOAD` is shown as it is;
//! * signed headers that carry credentials (`authorization`, `cookie`,
//!   `x-apig-appcode`, …): `***`;
//! * values too short to show part of (under twice the shown characters)
//!   or not printable ASCII: `***`.
//!
//! The rest of the canonical request is shown as the gateway built it:
//! method, canonical URI and query, the other signed headers, the list of
//! signed names. Bytes that are not UTF-8 show as U+FFFD.

use super::signature::UNSIGNED_PAYLOAD;

/// Signed headers whose values are credentials, shown as `***`.
const CREDENTIAL_HEADERS: [&[u8]; 6] = [
    b"authorization",
    b"proxy-authorization",
    b"cookie",
    b"x-apig-appcode",
    b"x-auth-token",
    b"x-subject-token",
];

/// `, appkey <key masked>` for an AppKey no app has.
pub(super) fn app_not_found(key: &[u8]) -> Box<str> {
    let mut out = String::from(", appkey ");
    mask(key, 4, 4, &mut out);
    out.into_boxed_str()
}

/// `, signature time:<X-Sdk-Date>,server time:<now, same format>`.
pub(super) fn expired(signed: &str, server: &str) -> Box<str> {
    format!(", signature time:{signed},server time:{server}").into_boxed_str()
}

/// Longest canonical request shown in a message, bytes (then `…`).
const MAX_DETAIL: usize = 2048;

/// `, canonicalRequest:<canonical>` with every `\n` as `|`, masked as the
/// module says; `headers` is the number of signed headers (their lines
/// follow method, URI and query).
pub(super) fn mismatch(canonical: &[u8], headers: usize) -> Box<str> {
    let mut out = String::with_capacity(canonical.len() + 32);
    out.push_str(", canonicalRequest:");
    let header_lines = 3..3 + headers;
    // The blank line and the names list follow the headers.
    let payload_line = header_lines.end + 2;
    for (i, line) in canonical.split(|&b| b == b'\n').enumerate() {
        if out.len() > MAX_DETAIL {
            // The message echoes the request; it need not echo all of it.
            out.push('…');
            break;
        }
        if i > 0 {
            out.push('|');
        }
        if header_lines.contains(&i) {
            header_line(line, &mut out);
        } else if i == payload_line && line != UNSIGNED_PAYLOAD {
            mask(line, 5, 6, &mut out);
        } else {
            out.push_str(&String::from_utf8_lossy(line));
        }
    }
    out.into_boxed_str()
}

/// A canonical header line `name:value`, its value masked where needed.
fn header_line(line: &[u8], out: &mut String) {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        out.push_str(&String::from_utf8_lossy(line));
        return;
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    out.push_str(&String::from_utf8_lossy(name));
    out.push(':');
    if name == b"host" {
        // The first label (up to `.` or `:`), then the rest as it is.
        let end = value
            .iter()
            .position(|&b| b == b'.' || b == b':')
            .unwrap_or(value.len());
        mask(&value[..end], 4, 4, out);
        out.push_str(&String::from_utf8_lossy(&value[end..]));
    } else if CREDENTIAL_HEADERS.contains(&name) {
        out.push_str("***");
    } else {
        out.push_str(&String::from_utf8_lossy(value));
    }
}

/// `value` as its first `head` and last `tail` characters around `***`
/// when it is printable ASCII at least twice as long as what is shown,
/// else `***`.
fn mask(value: &[u8], head: usize, tail: usize, out: &mut String) {
    let shown = head + tail;
    debug_assert!(shown > 0, "a mask shows something");
    if value.len() < 2 * shown || !value.iter().all(u8::is_ascii_graphic) {
        out.push_str("***");
        return;
    }
    debug_assert!(value.len() > shown, "the shown parts do not overlap");
    out.extend(value[..head].iter().map(|&b| char::from(b)));
    out.push_str("***");
    out.extend(value[value.len() - tail..].iter().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_keys_show_four_and_four_when_long_enough() {
        assert_eq!(
            &*app_not_found(b"0117ab8c9d0e1f2a3b4c5d6e7f80e5e1"),
            ", appkey 0117***e5e1"
        );
        assert_eq!(&*app_not_found(b"0123456789abcdef"), ", appkey 0123***cdef");
        assert_eq!(&*app_not_found(b"0123456789abcde"), ", appkey ***");
        assert_eq!(&*app_not_found(b"nobody"), ", appkey ***");
        assert_eq!(&*app_not_found(b""), ", appkey ***");
        // Not printable ASCII: nothing shown (no split characters, no
        // control bytes).
        assert_eq!(
            &*app_not_found("κλειδί-κλειδί-κλειδί".as_bytes()),
            ", appkey ***"
        );
        assert_eq!(&*app_not_found(b"0123456789 abcdef"), ", appkey ***");
    }

    #[test]
    fn expired_names_both_times() {
        assert_eq!(
            &*expired("20230527T000431Z", "20230527T020608Z"),
            ", signature time:20230527T000431Z,server time:20230527T020608Z"
        );
    }

    #[test]
    fn the_canonical_request_is_shown_on_one_line_as_apig_masks_it() {
        // app-signing.md §6's example, with the host and hash it masks.
        let cr = b"GET\n/test/\n\nhost:d7dae4b1c1b84b8e8d5f8b7e0a9c3df7.example.com\n\
            x-sdk-date:20230527T015431Z\n\nhost;x-sdk-date\n\
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            &*mismatch(cr, 2),
            ", canonicalRequest:GET|/test/||host:d7da***3df7.example.com|\
             x-sdk-date:20230527T015431Z||host;x-sdk-date|e3b0c***52b855"
        );
    }

    #[test]
    fn hosts_credentials_and_unsigned_payloads() {
        let cr = b"POST\n/a/\nq=1\ncookie:sid=abc\nhost:api.example.com:8443\n\
            x-apig-appcode:secretcode\nx-custom:a\"b|c\xff\n\n\
            cookie;host;x-apig-appcode;x-custom\nUNSIGNED-PAYLOAD";
        assert_eq!(
            &*mismatch(cr, 4),
            ", canonicalRequest:POST|/a/|q=1|cookie:***|host:***.example.com:8443|\
             x-apig-appcode:***|x-custom:a\"b|c\u{fffd}||cookie;host;x-apig-appcode;x-custom|\
             UNSIGNED-PAYLOAD"
        );
        let ip = b"GET\n/\n\nhost:127.0.0.1:8080\n\nhost\nabc";
        assert_eq!(
            &*mismatch(ip, 1),
            ", canonicalRequest:GET|/||host:***.0.0.1:8080||host|***"
        );
    }
}
