//! Requests the gateway makes on its own behalf (a custom authorizer's
//! event, behaviour.md §11.9): sent over the worker's pooled upstream
//! connections like a client's request, with the whole response body read
//! into memory, bounded by a size limit.

use bytes::BytesMut;

use super::body::Decoder;
use super::{Forwarder, HeadFailure, Target, acquire, read_head, timed};
use crate::error::GatewayError;
use crate::http::framing::{ChunkedScanner, Scan};
use crate::io;
use crate::record::Metrics;
use crate::upstream::pool::UPSTREAM_BUF_BYTES;

/// What the upstream answered: status and the whole (de-chunked) body.
#[derive(Debug)]
pub struct Answer {
    /// Response status.
    pub status: u16,
    /// Response body, at most the caller's limit.
    pub body: BytesMut,
}

/// Sends `request` (head and body, complete) to `target` and reads the
/// whole response, at most `max_body` body bytes. The request is treated
/// as replayable: a pooled connection that turns out closed is retried
/// once on a fresh one. The connection goes back to the pool when the
/// response left it reusable.
pub async fn call(
    fw: &Forwarder<'_>,
    target: &Target<'_>,
    request: BytesMut,
    max_body: usize,
) -> Result<Answer, GatewayError> {
    let mut retried = false;
    let mut request = request;
    loop {
        let mut conn = acquire(fw, target).await?;
        let (res, buf) = timed(target.timeout, io::write_all(&mut conn.stream, request)).await;
        request = buf;
        let asked = fw.clock.now();
        let head = match res {
            Ok(()) => {
                read_head(
                    &mut conn,
                    target.method,
                    fw.max_response_head,
                    target.timeout,
                    false,
                )
                .await
            }
            Err(e) => Err(HeadFailure::Error(e)),
        };
        let head = match head {
            Ok(head) => {
                conn.answered_in = fw.clock.now().saturating_duration_since(asked);
                head
            }
            Err(HeadFailure::ClosedEarly | HeadFailure::Error(GatewayError::UpstreamReset))
                if conn.reused && !retried && !request.is_empty() =>
            {
                retried = true;
                Metrics::bump(&fw.metrics.upstream_retries);
                continue;
            }
            Err(HeadFailure::ClosedEarly) => return Err(GatewayError::UpstreamReset),
            Err(HeadFailure::Error(e)) => return Err(e),
        };
        if let crate::http::ResponseFraming::Length(n) = head.framing
            && n > max_body as u64
        {
            return Err(GatewayError::UpstreamBadResponse);
        }
        let mut dec = Decoder::for_response(head.framing);
        let mut raw = BytesMut::new();
        let read = async {
            loop {
                let piece = dec.take(&mut conn.buf, max_body as u64)?;
                raw.extend_from_slice(&piece);
                if raw.len() > max_body.saturating_mul(CHUNK_OVERHEAD) {
                    return Err(GatewayError::UpstreamBadResponse);
                }
                if dec.is_done() {
                    return Ok(());
                }
                match io::read_into(&mut conn.stream, &mut conn.buf, UPSTREAM_BUF_BYTES).await {
                    Ok(n) if n > 0 => {}
                    Ok(_) if dec.on_eof() => return Ok(()),
                    _ => return Err(GatewayError::UpstreamReset),
                }
            }
        };
        match monoio::time::timeout(target.timeout, read).await {
            Err(_) => return Err(GatewayError::UpstreamTimeout),
            Ok(Err(GatewayError::Parse(_) | GatewayError::RequestFraming(_))) => {
                return Err(GatewayError::UpstreamBadResponse);
            }
            Ok(Err(e)) => return Err(e),
            Ok(Ok(())) => {}
        }
        let body = match head.framing {
            crate::http::ResponseFraming::Chunked => BytesMut::from(&dechunk(&raw)[..]),
            _ => raw,
        };
        if body.len() > max_body {
            return Err(GatewayError::UpstreamBadResponse);
        }
        if head.keep_alive && conn.buf.is_empty() && !conn.stream.has_pending_input() {
            fw.pool
                .borrow_mut()
                .put(target.upstream, conn, fw.clock.now());
        }
        return Ok(Answer {
            status: head.status,
            body,
        });
    }
}

/// Raw bytes a chunked answer may take per payload byte of the limit:
/// room for small chunks (a 1-byte chunk is 6 raw bytes) and extensions.
const CHUNK_OVERHEAD: usize = 8;

/// The payload of a complete chunked body: chunk data without sizes,
/// extensions, CRLFs or trailers. Input the scanner does not accept as one
/// complete body yields nothing.
pub fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let scan = ChunkedScanner::new().scan_payload(raw, |payload| out.extend_from_slice(payload));
    match scan {
        Ok(Scan::Done(_)) => out,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::dechunk;

    #[test]
    fn dechunking_keeps_only_the_data() {
        assert_eq!(
            dechunk(b"3;ext=1\r\nabc\r\n0a\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n"),
            b"abc0123456789"
        );
        assert_eq!(dechunk(b"0\r\n\r\n"), b"");
    }
}
