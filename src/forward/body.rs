//! Body streaming in both directions with bounded memory.
//!
//! A [`Decoder`] walks a body's framing over whatever is buffered and hands
//! out pieces that are passed on unchanged: Content-Length bodies by count,
//! chunked bodies validated by the `ChunkedScanner` and relayed raw (their
//! trailer section held, at most 32 KiB, and passed on filtered), and
//! until-close bodies until EOF. Memory per direction is one read buffer,
//! whatever the body size.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use monoio::io::AsyncReadRent;

use crate::clock::Clock;
use crate::error::GatewayError;
use crate::http::framing::{ChunkedScanner, Scan, filter_trailer};
use crate::http::{BodyFraming, ParseError, ResponseFraming};
use crate::io;

/// Read size while streaming a body.
pub const STREAM_READ_BYTES: usize = 64 * 1024;

/// Where a body stands.
#[derive(Debug, Clone)]
pub enum Decoder {
    /// Nothing (more) to read.
    Done,
    /// This many bytes still to come.
    Length(u64),
    /// A chunked body being validated; its trailer section is held until
    /// it is complete, then passed on filtered ([`filter_trailer`]).
    Chunked(ChunkedScanner, BytesMut),
    /// Ends at EOF (responses only).
    UntilClose,
}

impl Decoder {
    /// The decoder for a request body.
    pub fn for_request(framing: BodyFraming) -> Self {
        match framing {
            BodyFraming::None => Decoder::Done,
            BodyFraming::Length(n) => Decoder::Length(n),
            BodyFraming::Chunked => Decoder::Chunked(ChunkedScanner::new(), BytesMut::new()),
        }
    }

    /// The decoder for a response body.
    pub fn for_response(framing: ResponseFraming) -> Self {
        match framing {
            ResponseFraming::Empty => Decoder::Done,
            ResponseFraming::Length(n) => Decoder::Length(n),
            ResponseFraming::Chunked => Decoder::Chunked(ChunkedScanner::new(), BytesMut::new()),
            ResponseFraming::UntilClose => Decoder::UntilClose,
        }
    }

    /// Whether the whole body has been taken.
    pub fn is_done(&self) -> bool {
        matches!(self, Decoder::Done)
    }

    /// Splits the next piece of the body off the front of `buf` (possibly
    /// empty when nothing is buffered). Bytes after the body stay in `buf`.
    /// A chunked body whose announced payload exceeds `max_payload` is
    /// refused (§3 → 413) before the offending chunk is passed on;
    /// Content-Length bodies were checked with their head.
    pub fn take(&mut self, buf: &mut BytesMut, max_payload: u64) -> Result<BytesMut, GatewayError> {
        let before = buf.len();
        let piece = match self {
            Decoder::Done => BytesMut::new(),
            Decoder::Length(rest) => {
                let n = (*rest).min(buf.len() as u64) as usize;
                *rest -= n as u64;
                if *rest == 0 {
                    *self = Decoder::Done;
                }
                buf.split_to(n)
            }
            Decoder::Chunked(scanner, trailer) => {
                let trailer_before = scanner.trailer_bytes();
                let scan = scanner.scan(buf).map_err(GatewayError::from)?;
                if scanner.declared_bytes() > max_payload {
                    return Err(ParseError::BodyTooLarge.into());
                }
                let taken = match scan {
                    Scan::NeedMore => buf.len(),
                    Scan::Done(n) => n,
                };
                // The trailer bytes scanned now are the last of those taken.
                let in_trailer = scanner.trailer_bytes() - trailer_before;
                debug_assert!(in_trailer <= taken, "trailer inside the scanned bytes");
                let mut piece = buf.split_to(taken);
                trailer.extend_from_slice(&piece.split_off(taken - in_trailer));
                if let Scan::Done(_) = scan {
                    filter_trailer(trailer, &mut piece);
                    *self = Decoder::Done;
                }
                return Ok(piece);
            }
            Decoder::UntilClose => buf.split_to(buf.len()),
        };
        debug_assert_eq!(
            before,
            piece.len() + buf.len(),
            "bytes lost while taking a piece"
        );
        Ok(piece)
    }

    /// The stream ended: fine for an until-close body, an error otherwise.
    pub fn on_eof(&mut self) -> bool {
        match self {
            Decoder::UntilClose | Decoder::Done => {
                *self = Decoder::Done;
                true
            }
            _ => false,
        }
    }
}

/// Why reading more of a body failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// No bytes within the timeout.
    TimedOut,
    /// EOF before the body ended, or a socket error.
    Broken,
}

/// Reads more bytes into `buf`; `Ok(0)` is EOF.
pub async fn fill<S: AsyncReadRent>(
    stream: &mut S,
    buf: &mut BytesMut,
    timeout: Duration,
) -> Result<usize, ReadFailure> {
    match monoio::time::timeout(timeout, io::read_into(stream, buf, STREAM_READ_BYTES)).await {
        Err(_) => Err(ReadFailure::TimedOut),
        Ok(Err(_)) => Err(ReadFailure::Broken),
        Ok(Ok(n)) => Ok(n),
    }
}

/// A span no body waits out (a century).
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// How long a client may take to send a request body (issue 13 item 4):
/// each pause at most `pause` (`body_timeout_ms`), and the whole body at
/// least `min_rate` bytes per second on average after a grace of `pause`
/// (Apache `mod_reqtimeout`'s MinRate). A body trickled at one byte per
/// second is cut after about `pause`, however long it is.
#[derive(Debug, Clone, Copy)]
pub struct BodyPace {
    /// The body's first read, plus the grace.
    grace_end: Instant,
    pause: Duration,
    min_rate: u64,
    received: u64,
}

impl BodyPace {
    /// A pace starting `now`; `min_rate` 0 bounds only each pause.
    pub fn new(now: Instant, pause: Duration, min_rate: u64) -> Self {
        BodyPace {
            // A pause too long for the clock (ms settings up to u64::MAX)
            // is as good as none.
            grace_end: now
                .checked_add(pause)
                .or_else(|| now.checked_add(FAR_FUTURE))
                .unwrap_or(now),
            pause,
            min_rate,
            received: 0,
        }
    }

    /// How long the next read may wait; `None` when the body is already
    /// slower than the minimum rate allows.
    pub fn read_limit(&self, now: Instant) -> Option<Duration> {
        if self.min_rate == 0 {
            return Some(self.pause);
        }
        let earned = Duration::try_from_secs_f64(self.received as f64 / self.min_rate as f64)
            .unwrap_or(FAR_FUTURE);
        let Some(deadline) = self.grace_end.checked_add(earned) else {
            // Beyond what the clock can hold: only the pause applies.
            return Some(self.pause);
        };
        let left = deadline
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())?;
        Some(left.min(self.pause))
    }

    /// `n` more body bytes arrived.
    pub fn received(&mut self, n: usize) {
        self.received = self.received.saturating_add(n as u64);
    }
}

/// Takes the next piece of a request body from the client, reading when
/// nothing is buffered, within `pace`. Enforces `max_body` on chunked
/// bodies (§3 → 413).
pub async fn next_request_piece<S: AsyncReadRent>(
    dec: &mut Decoder,
    stream: &mut S,
    buf: &mut BytesMut,
    pace: &mut BodyPace,
    clock: &dyn Clock,
    max_body: u64,
) -> Result<BytesMut, BodyFailure> {
    if buf.is_empty() && !dec.is_done() {
        let limit = pace.read_limit(clock.now()).ok_or(BodyFailure::TooSlow)?;
        match fill(stream, buf, limit).await {
            Ok(0) | Err(ReadFailure::Broken) => return Err(BodyFailure::ClientGone),
            Err(ReadFailure::TimedOut) if limit < pace.pause => return Err(BodyFailure::TooSlow),
            Err(ReadFailure::TimedOut) => return Err(BodyFailure::ClientGone),
            Ok(n) => pace.received(n),
        }
    }
    dec.take(buf, max_body).map_err(BodyFailure::Client)
}

/// Why a request body could not be passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFailure {
    /// The client went away or stalled; nothing can be answered.
    ClientGone,
    /// The body arrived slower than the minimum rate ([`BodyPace`]); the
    /// connection closes, nothing is answered.
    TooSlow,
    /// The client's body is invalid (→ 400 / 413, then close).
    Client(GatewayError),
    /// The upstream stopped accepting it.
    Upstream(GatewayError),
}

/// Reads and drops the rest of a request body, so the connection can carry
/// the next request. Returns false when the connection must close instead.
pub async fn discard<S: AsyncReadRent>(
    dec: &mut Decoder,
    stream: &mut S,
    buf: &mut BytesMut,
    mut pace: BodyPace,
    clock: &dyn Clock,
    max_body: u64,
) -> bool {
    while !dec.is_done() {
        let piece = next_request_piece(dec, stream, buf, &mut pace, clock, max_body);
        if piece.await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    #[test]
    fn a_body_must_keep_the_minimum_rate_after_the_grace() {
        let clock = ManualClock::new();
        let pause = Duration::from_secs(3);
        let mut pace = BodyPace::new(clock.now(), pause, 1000);
        assert_eq!(pace.read_limit(clock.now()), Some(pause));
        clock.advance(Duration::from_secs(2));
        pace.received(500);
        // 3 s of grace plus 0.5 s earned: 1.5 s left.
        assert_eq!(
            pace.read_limit(clock.now()),
            Some(Duration::from_millis(1500))
        );
        clock.advance(Duration::from_millis(1500));
        assert_eq!(pace.read_limit(clock.now()), None, "too slow");
        // No minimum rate: only the pause.
        let none = BodyPace::new(clock.now(), pause, 0);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(none.read_limit(clock.now()), Some(pause));
        // Settings beyond the clock never panic.
        let huge = BodyPace::new(clock.now(), Duration::from_secs(u64::MAX / 2), 1);
        assert!(huge.read_limit(clock.now()).is_some());
    }
}
