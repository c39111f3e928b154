//! Buffered reads and writes over monoio's owned-buffer streams.
//!
//! monoio reads into the start of a buffer it owns for the duration of the
//! operation; these helpers append to a `BytesMut` instead and hand it back,
//! so one per-connection buffer serves every read. If a read is cancelled
//! (a timeout fired) the buffer stays with the cancelled operation and the
//! caller's buffer is left empty; callers close the connection then.

pub mod tls;

use std::io;

use bytes::BytesMut;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt};

/// Reads once, appending to `buf`; makes room for at least `room` bytes
/// first when less is free. Returns the bytes read (0 = end of stream).
pub async fn read_into<S: AsyncReadRent>(
    stream: &mut S,
    buf: &mut BytesMut,
    room: usize,
) -> io::Result<usize> {
    if buf.capacity() - buf.len() < room / 2 {
        buf.reserve(room);
    }
    let owned = std::mem::take(buf);
    let len = owned.len();
    debug_assert!(owned.capacity() > len, "no room to read into");
    let (res, slice) = stream.read(owned.slice_mut(len..)).await;
    *buf = slice.into_inner();
    debug_assert!(buf.len() >= len, "read shrank the buffer");
    res
}

/// Writes all of `buf` and hands it back unchanged (a caller may replay it).
pub async fn write_all<S: AsyncWriteRent>(
    stream: &mut S,
    buf: BytesMut,
) -> (io::Result<()>, BytesMut) {
    let (res, buf) = stream.write_all(buf).await;
    (res.map(|_| ()), buf)
}

/// [`write_all`] within `limit`; a timeout is an `ErrorKind::TimedOut`
/// error (the buffer stays with the cancelled write; the caller closes).
pub async fn write_all_within<S: AsyncWriteRent>(
    stream: &mut S,
    buf: BytesMut,
    limit: std::time::Duration,
) -> (io::Result<()>, BytesMut) {
    match monoio::time::timeout(limit, write_all(stream, buf)).await {
        Ok(done) => done,
        Err(_) => (Err(io::ErrorKind::TimedOut.into()), BytesMut::new()),
    }
}

/// [`write_owned`] within `limit`.
pub async fn write_owned_within<S: AsyncWriteRent, B: monoio::buf::IoBuf>(
    stream: &mut S,
    buf: B,
    limit: std::time::Duration,
) -> io::Result<()> {
    match monoio::time::timeout(limit, write_owned(stream, buf)).await {
        Ok(done) => done,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// A client connection: the socket, its read buffer (unconsumed request
/// bytes, possibly the start of the next pipelined request) and a reused
/// output buffer for heads.
#[derive(Debug)]
pub struct ClientConn {
    /// The socket, plain or TLS.
    pub stream: Stream<rustls::ServerConnection>,
    /// Bytes read but not yet consumed.
    pub rbuf: BytesMut,
    /// Scratch for serialising heads.
    pub out: BytesMut,
    /// The peer address.
    pub peer: std::net::SocketAddr,
    /// The peer's IP as text, formatted once per connection for
    /// `X-Forwarded-For` and the `sourceIp` parameter (shared, not copied, per request).
    pub peer_ip: std::rc::Rc<[u8]>,
    /// Longest a write to this client may wait for it to read.
    pub send_timeout: std::time::Duration,
    /// Index of the listener that accepted it.
    pub listener: usize,
    /// The TLS configuration the handshake used (SNI's domain), for TLS
    /// connections.
    pub tls_config: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Set when a WebSocket handshake succeeded: the connection leaves the
    /// HTTP loop and is relayed to this upstream (behaviour.md §7.3).
    pub tunnel: Option<Tunnel>,
}

/// The upstream side of an upgraded connection.
#[derive(Debug)]
pub struct Tunnel {
    /// The upstream connection (never returned to the pool).
    pub upstream: Stream<rustls::ClientConnection>,
    /// Upstream bytes read past the `101` head.
    pub early: BytesMut,
    /// Idle timeout: the API's backend timeout (§7.3).
    pub idle: std::time::Duration,
}

impl ClientConn {
    /// Whether the client connected over TLS (behaviour.md §6.2 protocols).
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}

/// A connection, plain or TLS (`C`: rustls's server or client session).
#[derive(Debug)]
pub enum Stream<C> {
    /// Cleartext.
    Plain(monoio::net::TcpStream),
    /// TLS over TCP.
    Tls(Box<tls::TlsStream<C>>),
}

impl<C, SD> Stream<C>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SD>>,
    SD: rustls::SideData,
{
    /// The TCP socket underneath.
    pub fn tcp(&self) -> &monoio::net::TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.tcp(),
        }
    }

    /// Whether this is a TLS stream.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Whether peer bytes wait inside the TLS layer, unread (always false
    /// for plain streams: their unread bytes are in the caller's buffer).
    pub fn has_pending_input(&mut self) -> bool {
        match self {
            Stream::Plain(_) => false,
            Stream::Tls(s) => s.has_pending_input(),
        }
    }
}

impl<C, SD> Stream<C>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SD>>,
    SD: rustls::SideData,
{
    /// Splits into halves that read and write concurrently.
    pub fn into_split(self) -> (ReadHalf<C>, WriteHalf<C>) {
        use monoio::io::Splitable;
        match self {
            Stream::Plain(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Plain(r), WriteHalf::Plain(w))
            }
            Stream::Tls(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Tls(r), WriteHalf::Tls(w))
            }
        }
    }
}

/// The reading half of a split [`Stream`].
#[derive(Debug)]
pub enum ReadHalf<C> {
    /// Cleartext.
    Plain(monoio::io::OwnedReadHalf<monoio::net::TcpStream>),
    /// TLS.
    Tls(tls::TlsReadHalf<C>),
}

/// The writing half of a split [`Stream`].
#[derive(Debug)]
pub enum WriteHalf<C> {
    /// Cleartext.
    Plain(monoio::io::OwnedWriteHalf<monoio::net::TcpStream>),
    /// TLS.
    Tls(tls::TlsWriteHalf<C>),
}

impl<C, SD> ReadHalf<C>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SD>>,
    SD: rustls::SideData,
{
    /// Reads into the start of `buf` (up to its capacity).
    pub async fn read(&mut self, buf: Vec<u8>) -> monoio::BufResult<usize, Vec<u8>> {
        match self {
            ReadHalf::Plain(s) => s.read(buf).await,
            ReadHalf::Tls(s) => s.read(buf).await,
        }
    }
}

impl<C, SD> WriteHalf<C>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SD>>,
    SD: rustls::SideData,
{
    /// Writes all of `buf`.
    pub async fn write_all<B: monoio::buf::IoBuf>(&mut self, buf: B) -> monoio::BufResult<(), B> {
        match self {
            WriteHalf::Plain(s) => {
                let (res, buf) = s.write_all(buf).await;
                (res.map(|_| ()), buf)
            }
            WriteHalf::Tls(s) => s.write_all(buf).await,
        }
    }

    /// Closes the write direction (TLS: after close_notify).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            WriteHalf::Plain(s) => s.shutdown().await,
            WriteHalf::Tls(s) => s.shutdown().await,
        }
    }
}

impl<C, SD> AsyncReadRent for Stream<C>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SD>>,
    SD: rustls::SideData,
{
    async fn read<T: monoio::buf::IoBufMut>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
        match self {
            Stream::Plain(s) => s.read(buf).await,
            Stream::Tls(s) => s.read(buf).await,
        }
    }

    async fn readv<T: monoio::buf::IoVecBufMut>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
        match self {
            Stream::Plain(s) => s.readv(buf).await,
            Stream::Tls(s) => s.readv(buf).await,
        }
    }
}

impl<C, SD> AsyncWriteRent for Stream<C>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SD>>,
    SD: rustls::SideData,
{
    async fn write<T: monoio::buf::IoBuf>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
        match self {
            Stream::Plain(s) => s.write(buf).await,
            Stream::Tls(s) => s.write(buf).await,
        }
    }

    async fn writev<T: monoio::buf::IoVecBuf>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
        match self {
            Stream::Plain(s) => s.writev(buf).await,
            Stream::Tls(s) => s.writev(buf).await,
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush().await,
            Stream::Tls(s) => s.flush().await,
        }
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.shutdown().await,
            Stream::Tls(s) => s.shutdown().await,
        }
    }
}

/// Writes all of `buf` (any owned buffer, e.g. a `Bytes` body).
pub async fn write_owned<S: AsyncWriteRent, B: monoio::buf::IoBuf>(
    stream: &mut S,
    buf: B,
) -> io::Result<()> {
    stream.write_all(buf).await.0.map(|_| ())
}
