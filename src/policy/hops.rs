//! Loop protection (behaviour.md §3 step 18, §7.6 APIG.0612, §23: API
//! recursion depth 10).
//!
//! Every upstream request carries `X-Tollgate-Loop: <token>;hops=<n>`,
//! where the token is 16 hex digits drawn from the OS generator once per
//! process. A request arriving with this process's token has come back
//! through a backend that is (or leads to) this gateway; past
//! [`MAX_HOPS`] it is answered `500 APIG.0612 "An API cannot call
//! itself."` instead of going round again (an API whose backend was the
//! gateway's own listener made about 3,000 hops, issue 13).
//!
//! A client cannot pass a hop count in as-is: without the token (which only
//! backends see) its header is another process's, counted by that process
//! only and forwarded unchanged, so a fleet of gateways that route to one
//! another still counts each process's own hops.

use std::sync::LazyLock;

use bytes::{BufMut, BytesMut};

use crate::http::RequestHead;
use crate::http::parse::HeaderKind;

/// Most nested calls through this process before a request is refused
/// (§23: recursion depth 10).
pub const MAX_HOPS: u32 = 10;

/// The header's name (`HeaderKind::LoopGuard` recognises it).
pub const HEADER: &[u8] = b"X-Tollgate-Loop";

/// This process's token: 16 lower-case hex digits of 8 random bytes.
static TOKEN: LazyLock<[u8; 16]> = LazyLock::new(|| {
    let mut token = [0u8; 16];
    hex::encode_to_slice(crate::secret::random::<8>(), &mut token).unwrap_or_default();
    token
});

/// Draws this process's token now (the control plane, before workers
/// start), so no request waits on it.
pub fn draw_token() {
    LazyLock::force(&TOKEN);
}

/// How many times this request has already passed through this process.
pub fn count(head: &RequestHead) -> u32 {
    head.headers
        .iter()
        .filter(|h| h.kind == HeaderKind::LoopGuard)
        .filter_map(|h| own_hops(head.slice(h.value)))
        .max()
        .unwrap_or(0)
}

/// The hop count of a value carrying this process's token.
fn own_hops(value: &[u8]) -> Option<u32> {
    let (token, hops) = split(value)?;
    if token != &TOKEN[..] {
        return None;
    }
    std::str::from_utf8(hops).ok()?.parse().ok()
}

/// `<token>;hops=<n>` → (token, n's digits).
fn split(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let value = value.trim_ascii();
    let at = value.iter().position(|&b| b == b';')?;
    let (token, rest) = value.split_at(at);
    let hops = rest.get(1..)?.trim_ascii().strip_prefix(b"hops=")?;
    Some((token.trim_ascii(), hops))
}

/// Writes this process's loop header with `hops + 1`, and every other
/// process's loop header line unchanged.
pub fn write(out: &mut BytesMut, head: &RequestHead, hops: u32) {
    for h in head
        .headers
        .iter()
        .filter(|h| h.kind == HeaderKind::LoopGuard)
    {
        let value = head.slice(h.value);
        if own_hops(value).is_none() && split(value).is_some() {
            crate::http::write::header(out, HEADER, value);
        }
    }
    out.put_slice(HEADER);
    out.put_slice(b": ");
    out.put_slice(&TOKEN[..]);
    out.put_slice(b";hops=");
    out.put_slice(
        itoa::Buffer::new()
            .format(hops.saturating_add(1))
            .as_bytes(),
    );
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::head_for_tests;

    fn with(lines: &str) -> RequestHead {
        head_for_tests(&format!("GET / HTTP/1.1\r\nHost: h\r\n{lines}\r\n"))
    }

    #[test]
    fn only_this_process_token_counts() {
        let token = std::str::from_utf8(&TOKEN[..]).unwrap();
        assert_eq!(count(&with("")), 0);
        assert_eq!(
            count(&with(&format!("X-Tollgate-Loop: {token};hops=4\r\n"))),
            4
        );
        // A client's guess, another process's token, garbage: not ours.
        assert_eq!(
            count(&with("X-Tollgate-Loop: 0000000000000000;hops=9\r\n")),
            0
        );
        assert_eq!(count(&with("x-tollgate-loop: nonsense\r\n")), 0);
        let head = with(&format!(
            "X-Tollgate-Loop: {token};hops=2\r\nX-Tollgate-Loop: abcdefabcdefabcd;hops=7\r\nX-Tollgate-Loop: junk\r\n"
        ));
        assert_eq!(count(&head), 2);
        let mut out = BytesMut::new();
        write(&mut out, &head, 2);
        let text = String::from_utf8(out.to_vec()).unwrap();
        assert_eq!(
            text,
            format!(
                "X-Tollgate-Loop: abcdefabcdefabcd;hops=7\r\nX-Tollgate-Loop: {token};hops=3\r\n"
            )
        );
    }
}
