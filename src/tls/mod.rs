//! STAGE tls: termination (behaviour.md §4.3–§4.5).
//!
//! [`accept`] reads the ClientHello with rustls's `Acceptor`, lets its SNI
//! pick the domain's configuration ([`sni::SniTable`]), then completes the
//! handshake. A client below the domain's minimum version, without a
//! required client certificate or with one its CA did not sign, fails the
//! handshake (§4.4–§4.5 suggestions); so does an unknown name on a listener
//! without a default certificate. Failures close only that connection.

pub mod sni;

use std::io;
use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use std::sync::Arc;

use rustls::server::{Accepted, Acceptor};
use rustls::{ServerConfig, ServerConnection};

use crate::io::tls::TlsStream;
pub use sni::SniTable;

/// A client connection after a completed handshake.
pub type ServerTls = TlsStream<ServerConnection>;

/// Bytes read per attempt while waiting for a ClientHello.
const HELLO_READ_BYTES: usize = 4 * 1024;

/// TLS alert `unrecognized_name` (RFC 6066 §3), fatal, in a TLS 1.2 record:
/// sent when neither SNI nor a default certificate picks a configuration.
const UNRECOGNIZED_NAME: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70];

/// Runs the server handshake on `tcp` (a connection to listener `listener`)
/// within `limit`; returns the session and the configuration SNI picked
/// (requests on it must stay within that domain's settings, see
/// [`SniTable::misdirected`]).
pub async fn accept(
    tcp: TcpStream,
    table: &SniTable,
    listener: usize,
    limit: Duration,
) -> io::Result<(ServerTls, Arc<ServerConfig>)> {
    match monoio::time::timeout(limit, handshake(tcp, table, listener)).await {
        Ok(done) => done,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Where reading a ClientHello stands.
pub enum Hello {
    /// More bytes are needed.
    More,
    /// A complete ClientHello.
    Ready(Box<Accepted>),
    /// Not a (usable) ClientHello: send `alert`, then close.
    Refused {
        /// TLS alert record(s) to send.
        alert: Vec<u8>,
        /// What was wrong.
        why: io::Error,
    },
}

/// Hands client bytes to the acceptor; the untrusted-bytes entry of the
/// stage (fuzzed by `fuzz_targets/tls_client_hello.rs`).
pub fn offer(acceptor: &mut Acceptor, bytes: &[u8]) -> Hello {
    let mut rest = bytes;
    while !rest.is_empty() {
        match acceptor.read_tls(&mut rest) {
            Ok(0) => break,
            Ok(_) => {}
            Err(why) => {
                return Hello::Refused {
                    alert: Vec::new(),
                    why,
                };
            }
        }
    }
    match acceptor.accept() {
        Ok(Some(accepted)) => Hello::Ready(Box::new(accepted)),
        Ok(None) => Hello::More,
        Err((e, mut alert)) => {
            let mut out = Vec::new();
            let _ = alert.write_all(&mut out);
            Hello::Refused {
                alert: out,
                why: io::Error::new(io::ErrorKind::InvalidData, e),
            }
        }
    }
}

async fn handshake(
    mut tcp: TcpStream,
    table: &SniTable,
    listener: usize,
) -> io::Result<(ServerTls, Arc<ServerConfig>)> {
    let mut acceptor = Acceptor::default();
    let mut buf = Vec::with_capacity(HELLO_READ_BYTES);
    let accepted = loop {
        buf.clear();
        let (res, back) = tcp.read(buf).await;
        buf = back;
        if res? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match offer(&mut acceptor, &buf) {
            Hello::More => {}
            Hello::Ready(accepted) => break accepted,
            Hello::Refused { alert, why } => {
                let _ = tcp.write_all(alert).await;
                return Err(why);
            }
        }
    };
    let Some(config) = table.pick(listener, accepted.client_hello().server_name()) else {
        let _ = tcp.write_all(UNRECOGNIZED_NAME.to_vec()).await;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no certificate for the requested name and no default certificate",
        ));
    };
    let conn = match accepted.into_connection(config.clone()) {
        Ok(conn) => conn,
        Err((e, mut alert)) => {
            let mut out = Vec::new();
            let _ = alert.write_all(&mut out);
            let _ = tcp.write_all(out).await;
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
    };
    buf.clear();
    let mut stream = TlsStream::new(tcp, conn, buf);
    stream.handshake().await?;
    Ok((stream, config))
}
