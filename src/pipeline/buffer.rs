//! Reading a request body whole before it is forwarded, for what must see
//! all of it first: a signature over it (app-signing.md §2.6) or an
//! authorizer event (§11.9.2). The raw body stays in the client buffer,
//! where the forward stage takes it from unchanged.

use std::time::Duration;

use crate::clock::Clock;
use crate::error::{AuthFault, GatewayError};
use crate::forward::body::{self, BodyPace};
use crate::http::framing::{ChunkedScanner, Scan};
use crate::http::{BodyFraming, ParseError, RequestHead, write};
use crate::io::{self, ClientConn};
use crate::policy::auth::signature;

/// Raw bytes a buffered chunked body may hold beyond twice its payload
/// limit: room for chunk-size lines and the trailer section.
const CHUNK_FRAMING_SLACK: u64 = 64 * 1024;

/// Reads a chunked request body whole into the client buffer, unchanged
/// (the forward stage relays it from there, and bytes after it — a
/// pipelined request — stay after it), handing each run of payload bytes
/// to `on_payload` as it arrives; returns the body's raw length. Payload
/// over `max` → 413, invalid framing → 400, reads within `pace`; the raw
/// bytes are capped at twice `max` plus slack, so framing (one-byte chunks
/// with long extensions) cannot fill memory under a small payload.
pub(super) async fn buffer_chunked_body(
    client: &mut ClientConn,
    wants_continue: bool,
    max: u64,
    pace: &mut Pace<'_>,
    mut on_payload: impl FnMut(&[u8]),
) -> Result<usize, BodyRead> {
    let too_large = BodyRead::Refused(GatewayError::Parse(ParseError::BodyTooLarge));
    let max_raw = max.saturating_mul(2).saturating_add(CHUNK_FRAMING_SLACK);
    let mut scanner = ChunkedScanner::new();
    let mut scanned = 0;
    let mut continue_sent = !wants_continue;
    loop {
        debug_assert!(scanned <= client.rbuf.len(), "scanned past the buffer");
        let fresh = client.rbuf.get(scanned..).unwrap_or_default();
        let scan = scanner
            .scan_payload(fresh, &mut on_payload)
            .map_err(|e| BodyRead::Refused(e.into()))?;
        if scanner.declared_bytes() > max {
            return Err(too_large);
        }
        if let Scan::Done(n) = scan {
            return Ok(scanned + n);
        }
        scanned = client.rbuf.len();
        if scanned as u64 > max_raw {
            return Err(too_large);
        }
        if !continue_sent {
            let sent = io::write_owned_within(
                &mut client.stream,
                write::CONTINUE_100,
                client.send_timeout,
            );
            sent.await.map_err(|_| BodyRead::Stalled)?;
            continue_sent = true;
        }
        let limit = pace.limit().ok_or(BodyRead::Stalled)?;
        match body::fill(&mut client.stream, &mut client.rbuf, limit).await {
            Ok(n) if n > 0 => pace.received(n),
            _ => return Err(BodyRead::Stalled),
        }
    }
}

/// A body's [`BodyPace`] with the worker's clock: each read waits at most
/// one pause, and the body must keep the minimum rate (issue 13), as in
/// the forward stage.
pub(super) struct Pace<'a> {
    /// The pace.
    pub pace: BodyPace,
    /// The worker's clock.
    pub clock: &'a dyn Clock,
}

impl Pace<'_> {
    fn limit(&self) -> Option<Duration> {
        self.pace.read_limit(self.clock.now())
    }

    fn received(&mut self, n: usize) {
        self.pace.received(n);
    }
}

/// Why a request body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyRead {
    /// The client went away, failed, or sent nothing for the body timeout.
    Stalled,
    /// The body is refused (413, or 400 for bad framing).
    Refused(GatewayError),
}

/// The body's hash for backend signing when all of it is in memory:
/// `known` (taken by app authentication), else that of no body or of a
/// `Content-Length` body read in full. A chunked body is hashed only by
/// app authentication, which buffers it.
pub(super) fn in_memory_body_sha256(
    head: &RequestHead,
    client: &ClientConn,
    known: Option<[u8; 64]>,
) -> Option<[u8; 64]> {
    if known.is_some() {
        return known;
    }
    match head.framing {
        BodyFraming::None => Some(*signature::EMPTY_BODY_SHA256),
        BodyFraming::Length(n) => {
            let body = client.rbuf.get(..usize::try_from(n).ok()?)?;
            Some(signature::sha256_hex(body))
        }
        BodyFraming::Chunked => None,
    }
}

/// Whether a signature covers the body: signed, and not with a signed
/// `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (an unsigned one is ignored,
/// app-signing.md §2.6, so the body is hashed then).
pub(super) fn payload_is_signed(head: &RequestHead) -> bool {
    let Some(value) = head.values(b"authorization").next() else {
        return false;
    };
    if !value.starts_with(signature::ALGORITHM) {
        return false;
    }
    let unsigned = head
        .values(b"x-sdk-content-sha256")
        .any(|v| v.trim_ascii() == signature::UNSIGNED_PAYLOAD);
    // Only UNSIGNED-PAYLOAD requests pay for a second parse of the header.
    !unsigned
        || signature::parse_authorization(value).is_ok_and(|a| !a.signs(b"x-sdk-content-sha256"))
}

/// Reads a `Content-Length` body whole into the client buffer (the parser
/// capped it at `max_body_bytes`), hashing each piece as it arrives.
pub(super) async fn hash_length_body(
    client: &mut ClientConn,
    len: u64,
    wants_continue: bool,
    pace: &mut Pace<'_>,
) -> Result<[u8; 64], GatewayError> {
    let unread = GatewayError::AppAuth(AuthFault::BodyNotRead);
    let mut hash = signature::BodyHash::default();
    read_length_body(client, len, wants_continue, pace, |piece| {
        hash.update(piece)
    })
    .await
    .map_err(|ClientStalled| unread)?;
    Ok(hash.finish())
}

/// Reads a `Content-Length` body whole into the client buffer (the parser
/// capped it at `max_body_bytes`), answering `100 Continue` first when the
/// client waits for it. Already buffered bytes count; `on_data` sees the
/// body's bytes in order, each once, as they arrive.
pub(super) async fn read_length_body(
    client: &mut ClientConn,
    len: u64,
    wants_continue: bool,
    pace: &mut Pace<'_>,
    mut on_data: impl FnMut(&[u8]),
) -> Result<(), ClientStalled> {
    let len = usize::try_from(len).map_err(|_| ClientStalled)?;
    if wants_continue && client.rbuf.len() < len {
        let sent =
            io::write_owned_within(&mut client.stream, write::CONTINUE_100, client.send_timeout);
        sent.await.map_err(|_| ClientStalled)?;
    }
    // What is buffered already, then each read as it arrives.
    let mut seen = client.rbuf.len().min(len);
    on_data(client.rbuf.get(..seen).unwrap_or_default());
    while seen < len {
        let want = len - client.rbuf.len();
        let limit = pace.limit().ok_or(ClientStalled)?;
        let read = io::read_into(&mut client.stream, &mut client.rbuf, want.min(64 * 1024));
        match monoio::time::timeout(limit, read).await {
            Ok(Ok(n)) if n > 0 => pace.received(n),
            _ => return Err(ClientStalled),
        }
        let now = client.rbuf.len().min(len);
        on_data(client.rbuf.get(seen..now).unwrap_or_default());
        seen = now;
    }
    Ok(())
}

/// The client went away, failed, or sent nothing for the body timeout
/// while the gateway read its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClientStalled;

/// Reads a chunked body whole into the client buffer (see
/// [`buffer_chunked_body`]), hashing its payload as the bytes arrive
/// (app-signing.md §2.6).
pub(super) async fn hash_chunked_body(
    client: &mut ClientConn,
    wants_continue: bool,
    max_body: u64,
    pace: &mut Pace<'_>,
) -> Result<[u8; 64], GatewayError> {
    let mut hash = signature::BodyHash::default();
    let update = |payload: &[u8]| hash.update(payload);
    match buffer_chunked_body(client, wants_continue, max_body, pace, update).await {
        Ok(_) => Ok(hash.finish()),
        Err(BodyRead::Refused(e)) => Err(e),
        Err(BodyRead::Stalled) => Err(GatewayError::AppAuth(AuthFault::BodyNotRead)),
    }
}
