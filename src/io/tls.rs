//! A rustls session over a monoio `TcpStream`, as an owned-buffer stream.
//!
//! Written here rather than taken from `monoio-rustls` for two reasons: the
//! termination stage must read the ClientHello before it picks a domain's
//! `ServerConfig` (rustls's `Acceptor`, which that crate does not expose),
//! and a read cut short by a timeout must leave the stream failed, not
//! poisoned into a panic on the next call.
//!
//! Data flow. Reads: socket → `rbuf` (ciphertext) → rustls (decrypts into
//! its plaintext buffer) → the caller's buffer. Writes: caller → rustls
//! (encrypts) → `wbuf` → socket. Both buffers live as long as the
//! connection and are reused.
//!
//! Cancellation. monoio owns a buffer while its operation is in flight; if
//! the future is dropped (a timeout fired), the buffer goes with it and the
//! TLS record stream is broken. The slot is left `None` and every later
//! call answers `ErrorKind::NotConnected` (not `Interrupted`, which
//! monoio's `write_all` and `read_exact` retry: they would spin without
//! ever yielding); callers close the connection then (they already do
//! after a timeout).

use std::cell::RefCell;
use std::io::{self, BufRead, Write};
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use monoio::BufResult;
use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut, RawBuf};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, OwnedReadHalf, OwnedWriteHalf, Splitable,
};
use monoio::net::TcpStream;
use rustls::{ConnectionCommon, SideData};

/// Ciphertext read from the socket at once: one full TLS record plus
/// header (16 KiB + 2 KiB), so a record never needs two reads.
const CIPHERTEXT_READ_BYTES: usize = 18 * 1024;

/// Ciphertext gathered before one socket write.
const CIPHERTEXT_WRITE_BYTES: usize = 64 * 1024;

/// A TLS connection (server or client side, by `C`).
#[derive(Debug)]
pub struct TlsStream<C> {
    io: TcpStream,
    conn: C,
    rx: Ciphertext,
    tx: Option<Vec<u8>>,
}

/// Received ciphertext not yet handed to rustls.
#[derive(Debug)]
struct Ciphertext {
    /// `None` after a cancelled read.
    buf: Option<Vec<u8>>,
    /// Bytes of `buf` already handed over.
    pos: usize,
}

impl Ciphertext {
    fn new(carry: Vec<u8>) -> Self {
        Ciphertext {
            buf: Some(carry),
            pos: 0,
        }
    }
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "TLS stream broken by an earlier cancelled operation",
    )
}

impl<C, SD> TlsStream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    /// Wraps a session whose peer bytes in `carry` (read while choosing the
    /// configuration) are still to be processed.
    pub fn new(io: TcpStream, conn: C, carry: Vec<u8>) -> Self {
        TlsStream {
            io,
            conn,
            rx: Ciphertext::new(carry),
            tx: Some(Vec::with_capacity(4 * 1024)),
        }
    }

    /// The rustls session.
    pub fn session(&self) -> &C {
        &self.conn
    }

    /// The socket under the session.
    pub fn tcp(&self) -> &TcpStream {
        &self.io
    }

    /// Whether anything from the peer waits here unread: ciphertext not yet
    /// handed to rustls, plaintext rustls holds, a close_notify, or a
    /// stream broken by a cancelled read. Such a connection must not be
    /// reused: the bytes would answer the next request.
    pub fn has_pending_input(&mut self) -> bool {
        let (Some(buf), Some(_)) = (&self.rx.buf, &self.tx) else {
            return true;
        };
        if self.rx.pos < buf.len() {
            return true;
        }
        match self.conn.reader().fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            // Plaintext, a clean close, or an error.
            Ok(_) | Err(_) => true,
        }
    }

    /// Completes the handshake: exchanges flights until rustls is done, then
    /// sends whatever it still has queued (TLS 1.3 session tickets).
    pub async fn handshake(&mut self) -> io::Result<()> {
        while self.conn.is_handshaking() {
            if self.conn.wants_write() {
                self.flush_tls().await?;
                continue;
            }
            if !self.fill().await? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed the connection during the TLS handshake",
                ));
            }
        }
        self.flush_tls().await
    }

    /// Sends every TLS byte rustls has queued.
    async fn flush_tls(&mut self) -> io::Result<()> {
        send_queued(&mut self.conn, &mut self.io, &mut self.tx).await
    }

    /// Reads ciphertext (unless some is pending) and hands it to rustls.
    /// `Ok(false)`: the socket reached end of stream.
    async fn fill(&mut self) -> io::Result<bool> {
        let open = read_socket(&mut self.io, &mut self.rx).await?;
        if let Err(e) = feed(&mut self.conn, &mut self.rx, open) {
            // Tell the peer why (a queued alert), then fail.
            let _ = self.flush_tls().await;
            return Err(e);
        }
        Ok(open)
    }

    /// Splits into halves that read and write concurrently (the WebSocket
    /// relay). The session is shared through an `Rc<RefCell>` that neither
    /// half borrows across an await.
    pub fn into_split(self) -> (TlsReadHalf<C>, TlsWriteHalf<C>) {
        let (r, w) = self.io.into_split();
        let conn = Rc::new(RefCell::new(self.conn));
        (
            TlsReadHalf {
                io: r,
                conn: conn.clone(),
                rx: self.rx,
            },
            TlsWriteHalf {
                io: w,
                conn,
                tx: self.tx,
            },
        )
    }
}

/// Moves queued ciphertext out of rustls into `buf` (at most
/// [`CIPHERTEXT_WRITE_BYTES`] at once).
fn drain_tls<SD>(conn: &mut ConnectionCommon<SD>, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    while conn.wants_write() && buf.len() < CIPHERTEXT_WRITE_BYTES {
        conn.write_tls(buf)?;
    }
    Ok(())
}

/// Writes `tx`'s ciphertext to the socket; the buffer comes back to `tx`
/// unless the write is cancelled.
async fn write_socket<S: AsyncWriteRent>(
    io: &mut S,
    tx: &mut Option<Vec<u8>>,
    buf: Vec<u8>,
) -> io::Result<()> {
    let (res, buf) = io.write_all(buf).await;
    *tx = Some(buf);
    res.map(|_| ())
}

/// Sends every TLS byte `conn` has queued.
async fn send_queued<S, SD>(
    conn: &mut ConnectionCommon<SD>,
    io: &mut S,
    tx: &mut Option<Vec<u8>>,
) -> io::Result<()>
where
    S: AsyncWriteRent,
{
    while conn.wants_write() {
        let mut buf = tx.take().ok_or_else(broken)?;
        if let Err(e) = drain_tls(conn, &mut buf) {
            *tx = Some(buf);
            return Err(e);
        }
        write_socket(io, tx, buf).await?;
    }
    Ok(())
}

/// Makes ciphertext available in `rx`: what is pending, else one socket
/// read. `Ok(false)` at end of stream.
async fn read_socket<S: AsyncReadRent>(io: &mut S, rx: &mut Ciphertext) -> io::Result<bool> {
    let mut buf = rx.buf.take().ok_or_else(broken)?;
    if rx.pos < buf.len() {
        rx.buf = Some(buf);
        return Ok(true);
    }
    buf.clear();
    buf.reserve(CIPHERTEXT_READ_BYTES);
    rx.pos = 0;
    let (res, back) = io.read(buf).await;
    rx.buf = Some(back);
    res.map(|n| n > 0)
}

/// rustls takes the pending ciphertext of `rx` (or learns of end of
/// stream) and processes it. Stops as soon as plaintext is available, so
/// rustls's plaintext buffer never overflows.
fn feed<SD>(conn: &mut ConnectionCommon<SD>, rx: &mut Ciphertext, open: bool) -> io::Result<()> {
    if !open {
        conn.read_tls(&mut &[][..])?;
        process(conn)?;
        return Ok(());
    }
    let Some(buf) = &rx.buf else {
        return Err(broken());
    };
    while rx.pos < buf.len() {
        let mut rest = buf.get(rx.pos..).unwrap_or_default();
        let n = conn.read_tls(&mut rest)?;
        rx.pos += n;
        let state = process(conn)?;
        if n == 0 || state.plaintext_bytes_to_read() > 0 {
            break;
        }
    }
    Ok(())
}

fn process<SD>(conn: &mut ConnectionCommon<SD>) -> io::Result<rustls::IoState> {
    conn.process_new_packets()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Copies as much plaintext as rustls holds (and `buf` takes) into `buf`.
/// `Ok(None)`: none yet; `Ok(Some(0))`: the peer closed cleanly.
fn take_plaintext<SD, T: IoBufMut>(
    conn: &mut ConnectionCommon<SD>,
    buf: &mut T,
) -> io::Result<Option<usize>> {
    let room = buf.bytes_total();
    let mut reader = conn.reader();
    let mut n = 0;
    while n < room {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if n > 0 || e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let k = chunk.len().min(room - n);
        // SAFETY: `write_ptr` is valid for `bytes_total` (= room) bytes
        // while we own `buf` (the IoBufMut contract); `n + k <= room` and
        // `k <= chunk.len()`; rustls's buffer cannot overlap one the caller
        // owns.
        unsafe { std::ptr::copy_nonoverlapping(chunk.as_ptr(), buf.write_ptr().add(n), k) };
        reader.consume(k);
        n += k;
    }
    if n == 0 {
        return match reader.fill_buf() {
            Ok(_) => Ok(Some(0)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        };
    }
    // SAFETY: the first `n` bytes at `write_ptr` were just written.
    unsafe { buf.set_init(n) };
    Ok(Some(n))
}

/// Queues as much of `buf` as rustls accepts as plaintext.
fn put_plaintext<SD, T: IoBuf>(
    conn: &mut ConnectionCommon<SD>,
    buf: &T,
    from: usize,
) -> io::Result<usize> {
    // SAFETY: `read_ptr` is valid for `bytes_init` initialised bytes while
    // we hold `buf` (the IoBuf contract).
    let slice = unsafe { std::slice::from_raw_parts(buf.read_ptr(), buf.bytes_init()) };
    conn.writer().write(slice.get(from..).unwrap_or_default())
}

impl<C, SD> AsyncReadRent for TlsStream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    async fn read<T: IoBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        loop {
            match take_plaintext(&mut self.conn, &mut buf) {
                Ok(Some(n)) => return (Ok(n), buf),
                Ok(None) => {}
                Err(e) => return (Err(e), buf),
            }
            // Handshake replies and key updates go out before we wait.
            if self.conn.wants_write()
                && let Err(e) = self.flush_tls().await
            {
                return (Err(e), buf);
            }
            if let Err(e) = self.fill().await {
                return (Err(e), buf);
            }
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        // SAFETY: the raw buffer points into `buf`, which we hold (and do
        // not touch) until the read finished.
        let raw = unsafe { RawBuf::new_from_iovec_mut(&mut buf) };
        let n = match raw {
            Some(raw) => self.read(raw).await.0,
            None => Ok(0),
        };
        if let Ok(n) = n {
            // SAFETY: the read initialised `n` bytes of the first iovec.
            unsafe { buf.set_init(n) };
        }
        (n, buf)
    }
}

impl<C, SD> AsyncWriteRent for TlsStream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        let n = match put_plaintext(&mut self.conn, &buf, 0) {
            Ok(n) => n,
            Err(e) => return (Err(e), buf),
        };
        (self.flush_tls().await.map(|()| n), buf)
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        // SAFETY: the raw buffer points into `buf`, which we hold until the
        // write finished.
        let raw = unsafe { RawBuf::new_from_iovec(&buf) };
        let n = match raw {
            Some(raw) => self.write(raw).await.0,
            None => Ok(0),
        };
        (n, buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.flush_tls().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush_tls().await?;
        self.io.shutdown().await
    }
}

/// The reading half of a split [`TlsStream`].
#[derive(Debug)]
pub struct TlsReadHalf<C> {
    io: OwnedReadHalf<TcpStream>,
    conn: Rc<RefCell<C>>,
    rx: Ciphertext,
}

/// The writing half of a split [`TlsStream`].
#[derive(Debug)]
pub struct TlsWriteHalf<C> {
    io: OwnedWriteHalf<TcpStream>,
    conn: Rc<RefCell<C>>,
    tx: Option<Vec<u8>>,
}

impl<C, SD> TlsReadHalf<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    /// Reads plaintext. Messages rustls queues meanwhile (a key update
    /// reply, an alert) leave with the write half's next write.
    pub async fn read<T: IoBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        loop {
            let taken = take_plaintext(&mut self.conn.borrow_mut(), &mut buf);
            match taken {
                Ok(Some(n)) => return (Ok(n), buf),
                Ok(None) => {}
                Err(e) => return (Err(e), buf),
            }
            let open = match read_socket(&mut self.io, &mut self.rx).await {
                Ok(open) => open,
                Err(e) => return (Err(e), buf),
            };
            let fed = feed(&mut self.conn.borrow_mut(), &mut self.rx, open);
            if let Err(e) = fed {
                return (Err(e), buf);
            }
        }
    }
}

impl<C, SD> TlsWriteHalf<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    /// Writes all of `buf` as plaintext.
    pub async fn write_all<T: IoBuf>(&mut self, buf: T) -> BufResult<(), T> {
        let mut done = 0;
        while done < buf.bytes_init() {
            let put = put_plaintext(&mut self.conn.borrow_mut(), &buf, done);
            match put {
                Ok(n) => done += n,
                Err(e) => return (Err(e), buf),
            }
            if let Err(e) = self.flush_tls().await {
                return (Err(e), buf);
            }
        }
        (Ok(()), buf)
    }

    /// Sends every TLS byte rustls has queued (the session is borrowed only
    /// while ciphertext is taken out, never across the socket write).
    async fn flush_tls(&mut self) -> io::Result<()> {
        loop {
            let mut out = self.tx.take().ok_or_else(broken)?;
            let drained = drain_tls(&mut self.conn.borrow_mut(), &mut out);
            if let Err(e) = drained {
                self.tx = Some(out);
                return Err(e);
            }
            if out.is_empty() {
                self.tx = Some(out);
                return Ok(());
            }
            write_socket(&mut self.io, &mut self.tx, out).await?;
        }
    }

    /// Sends close_notify and closes the write side.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.conn.borrow_mut().send_close_notify();
        self.flush_tls().await?;
        self.io.shutdown().await
    }
}

#[cfg(test)]
mod tests;
