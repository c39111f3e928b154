//! Scripted upstream servers on 127.0.0.1:0 (std threads, blocking I/O).
//! Each request is parsed, reported on a channel, and answered with the
//! [`Reply`] the test's handler picks.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::DEADLINE;

/// Bodies longer than this are counted, not kept.
const KEEP_BODY: usize = 1 << 20;

/// A request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Request-target (path and query).
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: u8,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body length.
    pub body_len: usize,
    /// Body (when at most 1 MiB).
    pub body: Vec<u8>,
    /// Which upstream connection carried it (1-based).
    pub conn: usize,
    /// Trailer field lines of a chunked body, as received.
    pub trailers: Vec<String>,
}

impl Seen {
    /// First header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the upstream answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200 OK` with this body and Content-Length.
    Ok(String),
    /// These exact bytes.
    Raw(Vec<u8>),
    /// These bytes, then close the connection.
    RawThenClose(Vec<u8>),
    /// Close without answering.
    Close,
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// `200 OK` with a body of `n` bytes of `b'x'`, streamed.
    Big(usize),
    /// These bytes in `pieces` parts, `pause` before each part.
    Dribble(Vec<u8>, usize, Duration),
    /// Each of these in turn (an answer, then what a hostile upstream
    /// writes after it).
    Seq(Vec<Reply>),
}

/// A running upstream.
pub struct TestUpstream {
    /// Its address.
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// Connections the upstream has closed so far.
    pub closed: Arc<AtomicUsize>,
    /// Requests seen, in order.
    pub seen: Receiver<Seen>,
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

impl TestUpstream {
    /// Starts an upstream answering with `handler`.
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> TestUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = unbounded();
        let handler: Arc<Handler> = Arc::new(handler);
        let (count, done) = (connections.clone(), closed.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let id = count.fetch_add(1, Ordering::SeqCst) + 1;
                let (tx, handler, done) = (tx.clone(), handler.clone(), done.clone());
                std::thread::spawn(move || {
                    serve(stream, id, tx, handler);
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        TestUpstream {
            addr,
            connections,
            closed,
            seen: rx,
        }
    }

    /// Answers every request `200 OK` with body `ok`.
    pub fn ok() -> TestUpstream {
        TestUpstream::start(|_| Reply::Ok("ok".into()))
    }

    /// The next request seen, within the deadline.
    pub fn next(&self) -> Seen {
        self.seen
            .recv_timeout(DEADLINE)
            .expect("upstream saw a request")
    }

    /// Connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits until the upstream has closed every connection it accepted.
    pub fn wait_all_closed(&self) {
        let deadline = std::time::Instant::now() + DEADLINE;
        while self.closed.load(Ordering::SeqCst) < self.connection_count() {
            assert!(
                std::time::Instant::now() < deadline,
                "upstream connections stay open"
            );
            std::thread::yield_now();
        }
    }
}

/// An address on which nothing listens (bound, then released).
pub fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

fn serve(mut stream: TcpStream, conn: usize, tx: Sender<Seen>, handler: Arc<Handler>) {
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut buf = Vec::new();
    loop {
        let Some(seen) = read_request(&mut stream, &mut buf, conn) else {
            return;
        };
        let reply = handler(&seen);
        let _ = tx.send(seen);
        if !answer(&mut stream, reply) {
            return;
        }
    }
}

fn answer(stream: &mut TcpStream, reply: Reply) -> bool {
    match reply {
        Reply::Ok(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).is_ok() && stream.write_all(body.as_bytes()).is_ok()
        }
        Reply::Raw(bytes) => stream.write_all(&bytes).is_ok(),
        Reply::RawThenClose(bytes) => {
            let _ = stream.write_all(&bytes);
            false
        }
        Reply::Close => false,
        Reply::Seq(replies) => replies.into_iter().all(|r| answer(stream, r)),
        Reply::Delay(d, inner) => {
            std::thread::sleep(d);
            answer(stream, *inner)
        }
        Reply::Dribble(bytes, pieces, pause) => {
            let size = bytes.len().div_ceil(pieces.max(1)).max(1);
            for part in bytes.chunks(size) {
                std::thread::sleep(pause);
                if stream.write_all(part).is_err() {
                    return false;
                }
            }
            true
        }
        Reply::Big(n) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
            if stream.write_all(head.as_bytes()).is_err() {
                return false;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = n;
            while left > 0 {
                let k = left.min(chunk.len());
                if stream.write_all(&chunk[..k]).is_err() {
                    return false;
                }
                left -= k;
            }
            true
        }
    }
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 64 * 1024];
    match stream.read(&mut chunk) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, conn: usize) -> Option<Seen> {
    let (mut seen, head_len, framing) = loop {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let hs: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let cl = hs
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse::<usize>().ok());
                let chunked = hs
                    .iter()
                    .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
                let seen = Seen {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    version: req.version.unwrap_or(1),
                    headers: hs,
                    body_len: 0,
                    body: Vec::new(),
                    conn,
                    trailers: Vec::new(),
                };
                break (seen, n, if chunked { None } else { Some(cl.unwrap_or(0)) });
            }
            Ok(httparse::Status::Partial) => {
                if !fill(stream, buf) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    };
    buf.drain(..head_len);
    match framing {
        Some(len) => read_exact_body(stream, buf, &mut seen, len)?,
        None => loop {
            let line = read_line(stream, buf)?;
            let size_text = String::from_utf8_lossy(&line).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailer section: field lines until the empty one.
                loop {
                    let line = read_line(stream, buf)?;
                    if line.is_empty() {
                        break;
                    }
                    seen.trailers
                        .push(String::from_utf8_lossy(&line).into_owned());
                }
                break;
            }
            read_exact_body(stream, buf, &mut seen, size)?;
            if !read_line(stream, buf)?.is_empty() {
                return None;
            }
        },
    }
    Some(seen)
}

/// Takes the next CRLF-terminated line off `buf` (without the CRLF).
fn read_line(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(i) = super::find(buf, b"\r\n") {
            let line = buf[..i].to_vec();
            buf.drain(..i + 2);
            return Some(line);
        }
        if !fill(stream, buf) {
            return None;
        }
    }
}

/// Reads `len` body bytes into `seen`.
fn read_exact_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    seen: &mut Seen,
    len: usize,
) -> Option<()> {
    let mut left = len;
    while left > 0 {
        if buf.is_empty() && !fill(stream, buf) {
            return None;
        }
        let k = left.min(buf.len());
        take_body(seen, buf, k);
        left -= k;
    }
    Some(())
}

fn take_body(seen: &mut Seen, buf: &mut Vec<u8>, k: usize) {
    if seen.body.len() + k <= KEEP_BODY {
        seen.body.extend_from_slice(&buf[..k]);
    }
    seen.body_len += k;
    buf.drain(..k);
}
