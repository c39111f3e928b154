//! The adapter over real loopback sockets: records, close_notify and
//! EOF, cancellation, pending input, split halves.
use std::sync::Arc;
use std::time::Duration;

use monoio::io::{AsyncReadRentExt, AsyncWriteRentExt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConnection, ServerConnection};

use super::*;

type Pair = (TlsStream<ClientConnection>, TlsStream<ServerConnection>);

/// A handshaken client/server pair over loopback.
async fn pair() -> Pair {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["s.test".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let der: CertificateDer<'static> = cert.der().clone();
    let pkcs8 = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server_cfg = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], pkcs8)
            .unwrap(),
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client_cfg = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let name = rustls::pki_types::ServerName::try_from("s.test").unwrap();
    let client = async {
        let tcp = TcpStream::connect_addr(addr).await.unwrap();
        let conn = ClientConnection::new(client_cfg, name).unwrap();
        let mut s = TlsStream::new(tcp, conn, Vec::new());
        s.handshake().await.unwrap();
        s
    };
    let server = async {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = TlsStream::new(tcp, ServerConnection::new(server_cfg).unwrap(), Vec::new());
        s.handshake().await.unwrap();
        s
    };
    monoio::join!(client, server)
}

#[monoio::test_all(timer_enabled = true)]
async fn large_writes_arrive_whole_across_many_records() {
    let (mut c, mut s) = pair().await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let expect = data.clone();
    // Both ends live until both futures are done: closing a socket with
    // unread bytes (session tickets) would reset the connection.
    let send = async {
        let (res, _) = c.write_all(data).await;
        res.unwrap();
        c.shutdown().await.unwrap();
    };
    let recv = async {
        let mut got = Vec::new();
        loop {
            let (res, buf) = s.read(Vec::with_capacity(64 * 1024)).await;
            match res.unwrap() {
                0 => break,
                _ => got.extend_from_slice(&buf),
            }
        }
        got
    };
    let ((), got) = monoio::join!(send, recv);
    assert_eq!(got, expect, "close_notify ends the stream with Ok(0)");
}

#[monoio::test_all(timer_enabled = true)]
async fn eof_without_close_notify_is_an_error_not_an_end() {
    let (c, mut s) = pair().await;
    let (tcp, _) = c.into_split();
    drop(tcp);
    let (res, _) = s.read(Vec::with_capacity(1024)).await;
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
}

#[monoio::test_all(timer_enabled = true)]
async fn a_write_after_a_cancelled_write_fails_at_once() {
    let (mut c, _s) = pair().await;
    // The server never reads: writes back up until one is cancelled.
    let mut cancelled = false;
    for _ in 0..1000 {
        let w = c.write_all(vec![0u8; 256 * 1024]);
        if monoio::time::timeout(Duration::from_millis(50), w)
            .await
            .is_err()
        {
            cancelled = true;
            break;
        }
    }
    assert!(cancelled, "the socket never filled");
    let later = monoio::time::timeout(Duration::from_secs(2), c.write_all(b"x".to_vec())).await;
    let (res, _) = later.expect("no spin: the write returns");
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::NotConnected);
    assert!(c.has_pending_input(), "a broken stream is never pooled");
}

#[monoio::test_all(timer_enabled = true)]
async fn unread_plaintext_is_pending_input() {
    let (mut c, mut s) = pair().await;
    let (res, _) = s.write_all(b"first".to_vec()).await;
    res.unwrap();
    let (res, _) = s.write_all(b"second".to_vec()).await;
    res.unwrap();
    let (res, first) = c.read_exact(vec![0u8; 5]).await;
    res.unwrap();
    assert_eq!(first, b"first");
    // "second" came in the same read or is about to: wait for it.
    let (res, rest) = c.read_exact(vec![0u8; 3]).await;
    res.unwrap();
    assert_eq!(rest, b"sec");
    assert!(c.has_pending_input(), "\"ond\" is still inside rustls");
    let (res, _) = c.read_exact(vec![0u8; 3]).await;
    res.unwrap();
    assert!(!c.has_pending_input());
}

#[monoio::test_all(timer_enabled = true)]
async fn split_halves_carry_both_directions_at_once() {
    let (c, s) = pair().await;
    let (mut cr, mut cw) = c.into_split();
    let (mut sr, mut sw) = s.into_split();
    let echo = async move {
        loop {
            let (res, buf) = sr.read(Vec::with_capacity(4096)).await;
            if res.unwrap() == 0 {
                break;
            }
            let (res, _) = sw.write_all(buf).await;
            res.unwrap();
        }
        // The client may be gone already: a failed shutdown is fine.
        let _ = sw.shutdown().await;
    };
    let talk = async move {
        let mut got = Vec::new();
        for round in 0..50u8 {
            let (res, _) = cw.write_all(vec![round; 1000]).await;
            res.unwrap();
            while got.len() < (usize::from(round) + 1) * 1000 {
                let (res, buf) = cr.read(Vec::with_capacity(4096)).await;
                assert!(res.unwrap() > 0);
                got.extend_from_slice(&buf);
            }
        }
        cw.shutdown().await.unwrap();
        // Until the echo side has seen the close_notify and closed.
        let (res, _) = cr.read(Vec::with_capacity(16)).await;
        assert_eq!(res.unwrap(), 0);
        got
    };
    let ((), got) = monoio::join!(echo, talk);
    assert_eq!(got.len(), 50_000);
    assert!(
        got.chunks(1000)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| usize::from(b) == i))
    );
}
