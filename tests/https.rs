//! The HTTPS side of the request path: the §4.6 redirect, the §6.2
//! protocol check (APIG.0607), https backends (§7.2) and WebSocket
//! tunnels over ws and wss (§7.3).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pki::{ClientOpts, Issued, Pki, certificate_toml, tls_connect, try_exchange};
use common::*;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

/// A gateway with a TLS listener (second) and a plain one (first) for
/// `a.example.test`, whose GET /secure is HTTPS-only and redirects, and
/// whose /plain is HTTP-only; `extra` adds APIs to the group.
fn gateway(driver: &str, extra: &str) -> (TestGateway, Issued) {
    let pki = Pki::new("https");
    let cert = pki.server("a", &["a.example.test"]);
    let toml = format!(
        "[server]\nworkers = 1\ndriver = \"{driver}\"\n\n{}\
         [[listener]]\naddress = \"127.0.0.1:0\"\n\
         [[listener]]\naddress = \"127.0.0.1:0\"\ntls = true\ndefault_certificate = \"a\"\n\n\
         [[group]]\nname = \"DEFAULT\"\n\
         [[group.domain]]\nname = \"a.example.test\"\ncertificate = \"a\"\nhttps_redirect = true\nhttps_port = 8443\n\
         [[group.api]]\nname = \"secure\"\nmethod = \"ANY\"\npath = \"/secure\"\nprotocol = \"HTTPS\"\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"secure\"\n\
         [[group.api]]\nname = \"plain\"\nmethod = \"ANY\"\npath = \"/plain\"\nprotocol = \"HTTP\"\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"plain\"\n{extra}",
        certificate_toml("a", &cert, None)
    );
    (TestGateway::from_toml(&toml), cert)
}

fn over_tls(addr: SocketAddr, raw: &str) -> (u16, String, Vec<u8>) {
    let opts = ClientOpts {
        sni: Some("a.example.test"),
        ..ClientOpts::default()
    };
    let mut c = tls_connect(addr, &opts).expect("handshake");
    try_exchange(&mut c, raw).expect("exchange")
}

/// A one-connection-at-a-time HTTPS upstream answering every request with
/// `sni=<name> proto=<X-Forwarded-Proto>`.
fn https_upstream(cert: &Issued) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let chain = vec![cert.der()];
    let key = PrivateKeyDer::from_pem_file(&cert.key).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(sock) = sock else { return };
            let config = config.clone();
            std::thread::spawn(move || serve_tls(sock, config));
        }
    });
    addr
}

/// An HTTPS upstream that answers its first request with a response plus,
/// in its own TLS record, a second response nobody asked for: in the same
/// write, or `stray_after` later; later requests get "fresh".
fn sloppy_https_upstream(cert: &Issued, stray_after: Option<Duration>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let key = PrivateKeyDer::from_pem_file(&cert.key).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der()], key)
            .unwrap(),
    );
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(mut sock) = sock else { return };
            let (config, answered) = (config.clone(), answered.clone());
            std::thread::spawn(move || {
                sock.set_read_timeout(Some(DEADLINE)).unwrap();
                let mut conn = rustls::ServerConnection::new(config).unwrap();
                while conn.is_handshaking() {
                    if conn.complete_io(&mut sock).is_err() {
                        return;
                    }
                }
                let mut tls = rustls::StreamOwned::new(conn, sock);
                loop {
                    if read_head_or_eof(&mut tls).is_none() {
                        return;
                    }
                    let first = answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
                    let records: &[&[u8]] = if first {
                        &[
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
                        ]
                    } else {
                        &[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"]
                    };
                    for (i, r) in records.iter().enumerate() {
                        if let (1, Some(pause)) = (i, stray_after) {
                            if tls.flush().is_err() {
                                return;
                            }
                            std::thread::sleep(pause);
                        }
                        tls.conn.writer().write_all(r).unwrap();
                    }
                    if tls.flush().is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A request head, or `None` at end of stream.
fn read_head_or_eof<S: Read>(s: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn serve_tls(mut sock: TcpStream, config: Arc<rustls::ServerConfig>) {
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut conn = rustls::ServerConnection::new(config).unwrap();
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            return;
        }
    }
    let sni = conn.server_name().unwrap_or("-").to_string();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut reader = BufReader::new(&mut tls);
    loop {
        let mut proto = String::from("-");
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.strip_prefix("X-Forwarded-Proto: ") {
                proto = v.trim().to_string();
            }
        }
        let body = format!("sni={sni} proto={proto}");
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if reader.get_mut().write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// How the WebSocket test upstream answers a handshake.
#[derive(Clone, Copy)]
enum WsReply {
    /// 101, then `greeting` in the same write, then an echo of every read
    /// after `delay`.
    Echo {
        greeting: &'static [u8],
        delay: Duration,
    },
    /// This head instead of a proper 101.
    Head(&'static str),
}

/// A WebSocket upstream, plain (`ws`) or TLS (`wss`, with `cert`). It
/// insists on the handshake headers of RFC 6455 §4.1 arriving.
fn ws_upstream(cert: Option<&Issued>, reply: WsReply) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = cert.map(|cert| {
        let key = PrivateKeyDer::from_pem_file(&cert.key).unwrap();
        Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![cert.der()], key)
                .unwrap(),
        )
    });
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(mut sock) = sock else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                sock.set_read_timeout(Some(DEADLINE)).unwrap();
                match config {
                    None => serve_ws(sock, reply),
                    Some(config) => {
                        let mut conn = rustls::ServerConnection::new(config).unwrap();
                        while conn.is_handshaking() {
                            if conn.complete_io(&mut sock).is_err() {
                                return;
                            }
                        }
                        serve_ws(rustls::StreamOwned::new(conn, sock), reply);
                    }
                }
            });
        }
    });
    addr
}

fn serve_ws<S: Read + Write>(mut s: S, reply: WsReply) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let handshake = text.starts_with("get ")
        && text.contains("\r\nupgrade: websocket\r\n")
        && text.contains("\r\nconnection: upgrade\r\n")
        && text.contains("\r\nsec-websocket-key: dghlihnhbxbszsbub25jzq==\r\n")
        && text.contains("\r\nsec-websocket-version: 13\r\n");
    if !handshake {
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let (greeting, delay) = match reply {
        WsReply::Head(head) => {
            let _ = s.write_all(head.as_bytes());
            return;
        }
        WsReply::Echo { greeting, delay } => (greeting, delay),
    };
    let mut first = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec();
    first.extend_from_slice(greeting);
    if s.write_all(&first).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                std::thread::sleep(delay);
                if s.write_all(&buf[..n]).and_then(|()| s.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

const ECHO: WsReply = WsReply::Echo {
    greeting: b"",
    delay: Duration::ZERO,
};

const WS_HANDSHAKE: &str = "GET /ws HTTP/1.1\r\nHost: ws.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn ws_api(upstream: SocketAddr, timeout_ms: u64) -> String {
    format!(
        "[[group.api]]\nname = \"ws\"\nmethod = \"GET\"\npath = \"/ws\"\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{upstream}\"\ntimeout_ms = {timeout_ms}\n"
    )
}

/// A second WebSocket API, `/wss`, whose backend speaks TLS.
fn wss_api(upstream: SocketAddr, ca: &std::path::Path) -> String {
    format!(
        "[[group.api]]\nname = \"wss\"\nmethod = \"GET\"\npath = \"/wss\"\n\
         [group.api.backend]\ntype = \"http\"\nscheme = \"https\"\naddress = \"{upstream}\"\n\
         path = \"/ws\"\ntls_ca = \"{}\"\ntls_server_name = \"ws.internal\"\ntimeout_ms = 5000\n",
        ca.display()
    )
}

/// Reads a head (up to the blank line) byte by byte.
fn read_head<S: Read>(s: &mut S) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "head so far: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Reads a 101 head from `s`, then checks an echo round trip.
fn check_tunnel<S: Read + Write>(s: &mut S) {
    let text = read_head(s);
    assert!(text.starts_with("HTTP/1.1 101 "), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("upgrade: websocket"), "{text}");
    assert!(lower.contains("connection: upgrade"), "{text}");
    assert!(
        text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{text}"
    );
    for round in 0..3 {
        let frame = format!("frame {round} \u{1F680}");
        s.write_all(frame.as_bytes()).unwrap();
        let mut back = vec![0u8; frame.len()];
        s.read_exact(&mut back).unwrap();
        assert_eq!(back, frame.as_bytes());
    }
}

driver_tests! {
    fn plain_get_and_head_are_redirected_other_methods_are_not(driver) {
        // §4.6: 301 to the same host, path and query over HTTPS.
        let (gw, _) = gateway(driver, "");
        let plain = gw.addrs[0];
        let r = request(plain, "GET /secure?x=1&y=%20 HTTP/1.1\r\nHost: A.example.test:8080\r\n\r\n");
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), Some("https://A.example.test:8443/secure?x=1&y=%20"));
        let mut c = Conn::open(plain);
        c.send(b"HEAD /secure HTTP/1.1\r\nHost: a.example.test\r\n\r\n");
        let head = c.read_for(true);
        assert_eq!(head.status, 301);
        assert_eq!(head.header("location"), Some("https://a.example.test:8443/secure"));
        // POST is not redirected (§4.6 suggestion): the HTTPS-only API says so.
        let r = request(plain, "POST /secure HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: 2\r\n\r\nhi");
        r.assert_apig(400, "APIG.0607", "The following protocol is supported: HTTPS");
        // Another host (no redirect switch) gets the error for GET too.
        let r = request(plain, "GET /secure HTTP/1.1\r\nHost: other.test\r\n\r\n");
        r.assert_apig(400, "APIG.0607", "The following protocol is supported: HTTPS");
        // Over HTTPS the same API answers.
        let (status, _, body) = over_tls(gw.addrs[1], "GET /secure HTTP/1.1\r\nHost: a.example.test\r\n\r\n");
        assert_eq!((status, body.as_slice()), (200, &b"secure"[..]));
    }

    fn app_codes_are_accepted_over_https_and_refused_over_http(driver) {
        // §11.5: simple authentication is HTTPS-only by default.
        let code = "TgrMzOoTpbPORwg4a2BlUgd0ziCaHzVW6bcoScNgISsTS5z1i1Mgsvb9fz2h6Ihd";
        let extra = format!(
            "[[app]]\nname = \"demo\"\nkey = \"demokey\"\nsecret = \"demosecret\"\napp_codes = [\"{code}\"]\n\
             [[group.api]]\nname = \"coded\"\nmethod = \"GET\"\npath = \"/coded\"\n\
             [group.api.auth]\ntype = \"app\"\nsimple = true\ngrants = {{ RELEASE = [\"demo\"] }}\n\
             [group.api.backend]\ntype = \"mock\"\nbody = \"coded\"\n"
        );
        let (gw, _) = gateway(driver, &extra);
        let raw = format!("GET /coded HTTP/1.1\r\nHost: a.example.test\r\nX-Apig-AppCode: {code}\r\n\r\n");
        let (status, _, body) = over_tls(gw.addrs[1], &raw);
        assert_eq!((status, body.as_slice()), (200, &b"coded"[..]));
        // Plain HTTP (to a host without the redirect): not accepted.
        let plain = request(gw.addrs[0], &raw.replace("a.example.test", "127.0.0.1"));
        assert_eq!(plain.status, 401);
        assert!(plain.text().contains("APIG.0303"), "{}", plain.text());
    }

    fn an_http_only_api_refuses_https(driver) {
        // §6.2: APIG.0607 names the protocol the API accepts.
        let (gw, _) = gateway(driver, "");
        let (status, _, body) = over_tls(gw.addrs[1], "GET /plain HTTP/1.1\r\nHost: a.example.test\r\n\r\n");
        assert_eq!(status, 400);
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains("\"error_code\": \"APIG.0607\""), "{body}");
        assert!(body.contains("The following protocol is supported: HTTP\""), "{body}");
        assert_eq!(get(gw.addrs[0], "/plain").status, 200);
    }

    fn https_backends_are_verified_against_their_ca(driver) {
        let backend_pki = Pki::new("backend");
        let cert = backend_pki.server("backend", &["backend.internal"]);
        let up = https_upstream(&cert);
        let ca = backend_pki.ca_path();
        let api = |name: &str, path: &str, extra: &str| {
            format!(
                "[[group.api]]\nname = \"{name}\"\nmethod = \"GET\"\npath = \"{path}\"\n\
                 [group.api.backend]\ntype = \"http\"\nscheme = \"https\"\naddress = \"{up}\"\ntimeout_ms = 2000\n{extra}\n"
            )
        };
        let extra = [
            api("verified", "/verified", &format!("tls_ca = \"{}\"\ntls_server_name = \"backend.internal\"", ca.display())),
            api("wrong-name", "/wrong-name", &format!("tls_ca = \"{}\"\ntls_server_name = \"other.internal\"", ca.display())),
            api("unverified", "/unverified", "tls_verify = false"),
            api("system-roots", "/system-roots", "tls_server_name = \"backend.internal\""),
        ]
        .concat();
        let (gw, _) = gateway(driver, &extra);
        let plain = gw.addrs[0];
        let r = get(plain, "/verified");
        assert_eq!((r.status, r.text().as_str()), (200, "sni=backend.internal proto=http"));
        // Pooled: a second request, once the connection has rested after
        // the first answer (issue 13), reuses the TLS connection.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(get(plain, "/verified").status, 200);
        let (status, _, body) = over_tls(gw.addrs[1], "GET /verified HTTP/1.1\r\nHost: a.example.test\r\n\r\n");
        assert_eq!((status, String::from_utf8(body).unwrap()), (200, "sni=backend.internal proto=https".into()));
        // A certificate for another name, or from a CA the system does not
        // trust, is a failed connection: 502 (§7.6).
        get(plain, "/wrong-name").assert_apig(502, "APIG.0201", "Backend unavailable.");
        get(plain, "/system-roots").assert_apig(502, "APIG.0201", "Backend unavailable.");
        // Verification off: the IP literal is the SNI-less name, anything goes.
        let r = get(plain, "/unverified");
        assert_eq!((r.status, r.text().as_str()), (200, "sni=- proto=http"));
        let totals = gw.shutdown();
        assert!(totals.upstream_reuses >= 1, "{totals:?}");
    }

    fn unread_bytes_inside_tls_keep_a_backend_connection_out_of_the_pool(driver) {
        // Review C2: an unsolicited response on a TLS backend connection
        // (in the read buffer, in rustls, or in ciphertext not yet handed
        // to it) must keep the connection out of the pool, never answer the
        // next client.
        let backend_pki = Pki::new("sloppy");
        let cert = backend_pki.server("backend", &["backend.internal"]);
        for stray_after in [None, Some(Duration::from_millis(100))] {
        let up = sloppy_https_upstream(&cert, stray_after);
        let extra = format!(
            "[[group.api]]\nname = \"x\"\nmethod = \"GET\"\npath = \"/x\"\n\
             [group.api.backend]\ntype = \"http\"\nscheme = \"https\"\naddress = \"{up}\"\n\
             tls_ca = \"{}\"\ntls_server_name = \"backend.internal\"\ntimeout_ms = 2000\n",
            backend_pki.ca_path().display()
        );
        let (gw, _) = gateway(driver, &extra);
        assert_eq!(get(gw.addrs[0], "/x").text(), "ok");
        if let Some(pause) = stray_after {
            // regression: issue 13 — the stray record arrives while the
            // connection idles in the pool; the checkout probe closes it.
            std::thread::sleep(pause * 3);
        }
        assert_eq!(get(gw.addrs[0], "/x").text(), "fresh");
        }
    }

    fn websocket_echoes_over_ws_and_wss(driver) {
        // §7.3: the handshake is forwarded, 101 comes back, bytes flow.
        let up = ws_upstream(None, ECHO);
        let (gw, _) = gateway(driver, &ws_api(up, 5000));
        let mut ws = Conn::open(gw.addrs[0]);
        ws.send(WS_HANDSHAKE.as_bytes());
        check_tunnel(&mut ws.stream);
        let opts = ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() };
        let mut wss = tls_connect(gw.addrs[1], &opts).unwrap();
        wss.write_all(WS_HANDSHAKE.as_bytes()).unwrap();
        check_tunnel(&mut wss);
        // A plain GET to the same API is an ordinary request (400 from the
        // upstream: not an upgrade).
        assert_eq!(get(gw.addrs[0], "/ws").status, 400);
    }

    fn websocket_to_a_tls_backend_and_early_bytes_both_ways(driver) {
        // wss towards the backend; the backend greets in the same write as
        // its 101, and the client sends a frame with its handshake.
        let pki = Pki::new("wss-backend");
        let cert = pki.server("ws", &["ws.internal"]);
        let greet = WsReply::Echo { greeting: b"HELLO", delay: Duration::ZERO };
        let up = ws_upstream(Some(&cert), greet);
        let (gw, _) = gateway(driver, &wss_api(up, &pki.ca_path()));
        let mut c = Conn::open(gw.addrs[0]);
        c.send(format!("{}EARLY", WS_HANDSHAKE.replace("GET /ws ", "GET /wss ")).as_bytes());
        let head = read_head(&mut c.stream);
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        let mut got = [0u8; 10];
        c.stream.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"HELLOEARLY");
    }

    fn a_half_closed_websocket_still_gets_its_reply(driver) {
        // Review m2: the client sends its last frame and half-closes; the
        // backend's reply, still in flight, must arrive before the close.
        let slow = WsReply::Echo { greeting: b"", delay: Duration::from_millis(200) };
        let (gw, _) = gateway(driver, &ws_api(ws_upstream(None, slow), 5000));
        let mut c = Conn::open(gw.addrs[0]);
        c.send(WS_HANDSHAKE.as_bytes());
        assert!(read_head(&mut c.stream).starts_with("HTTP/1.1 101 "));
        c.send(b"bye");
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(c.read_to_end(), b"bye");
    }

    fn a_backend_refusing_the_upgrade_is_relayed_and_a_bare_101_is_an_error(driver) {
        let refuse = WsReply::Head("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
        let (gw, _) = gateway(driver, &ws_api(ws_upstream(None, refuse), 5000));
        let r = request(gw.addrs[0], WS_HANDSHAKE);
        assert_eq!((r.status, r.text().as_str()), (403, "no"));
        // A 101 that does not name websocket is not the protocol asked for.
        let bare = WsReply::Head("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n");
        let (gw, _) = gateway(driver, &ws_api(ws_upstream(None, bare), 5000));
        request(gw.addrs[0], WS_HANDSHAKE).assert_apig(502, "APIG.0201", "Backend unavailable.");
    }

    fn an_idle_websocket_closes_after_the_backend_timeout(driver) {
        let up = ws_upstream(None, ECHO);
        let (gw, _) = gateway(driver, &ws_api(up, 300));
        let mut ws = Conn::open(gw.addrs[0]);
        ws.send(WS_HANDSHAKE.as_bytes());
        check_tunnel(&mut ws.stream);
        // Traffic keeps it open past the timeout...
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(150));
            ws.stream.write_all(b"ping").unwrap();
            let mut back = [0u8; 4];
            ws.stream.read_exact(&mut back).unwrap();
        }
        // ...silence closes it.
        let quiet = Instant::now();
        assert!(ws.is_closed(), "idle tunnel closed");
        let waited = quiet.elapsed();
        assert!(waited >= Duration::from_millis(250) && waited < DEADLINE, "{waited:?}");
    }
}
