//! A raw HTTP/1.1 client over std sockets, with read deadlines.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use super::DEADLINE;

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// First header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the default gateway error body (behaviour.md §18.1).
    pub fn assert_apig(&self, status: u16, code: &str, msg: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        let rid = self.header("x-request-id").expect("X-Request-Id on error");
        let expected = format!(
            "{{\"error_code\": \"{code}\", \"error_msg\": \"{msg}\", \"request_id\": \"{rid}\"}}"
        );
        assert_eq!(self.text(), expected);
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("server"), Some("api-gateway"));
    }
}

/// A client connection over a plain socket, or any other byte stream (a
/// TLS session).
pub struct Conn<S = TcpStream> {
    /// The socket.
    pub stream: S,
    buf: Vec<u8>,
}

impl<S: Read + Write> Conn<S> {
    /// Wraps an already connected stream (its deadlines set).
    pub fn wrap(stream: S) -> Conn<S> {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }
}

impl Conn<TcpStream> {
    /// Connects with read/write deadlines.
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect to gateway");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.set_write_timeout(Some(DEADLINE)).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: Vec::new(),
        }
    }
}

impl<S: Read + Write> Conn<S> {
    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    /// Reads one response (to a non-HEAD request).
    pub fn read(&mut self) -> Response {
        self.read_for(false)
    }

    /// Reads one response; `head` = it answers a HEAD request (no body).
    pub fn read_for(&mut self, head: bool) -> Response {
        let end = self.fill_until(|b| find(b, b"\r\n\r\n").map(|i| i + 4));
        let head_bytes: Vec<u8> = self.buf.drain(..end).collect();
        let text = String::from_utf8_lossy(&head_bytes).into_owned();
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let body = if head || status < 200 || status == 204 || status == 304 {
            Vec::new()
        } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            self.read_chunked()
        } else if let Some(n) = get("content-length") {
            let n: usize = n.parse().expect("numeric content-length");
            self.fill_until(|b| (b.len() >= n).then_some(n));
            self.buf.drain(..n).collect()
        } else {
            self.read_to_end()
        };
        Response {
            status,
            headers,
            body,
        }
    }

    fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line_end = self.fill_until(|b| find(b, b"\r\n").map(|i| i + 2));
            let line: Vec<u8> = self.buf.drain(..line_end).collect();
            let size_text = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                .expect("chunk size");
            if size == 0 {
                let end = self.fill_until(|b| find(b, b"\r\n").map(|i| i + 2));
                self.buf.drain(..end);
                return body;
            }
            self.fill_until(|b| (b.len() >= size + 2).then_some(size + 2));
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    /// Reads a Content-Length response, counting the body instead of
    /// keeping it; returns (status, body length).
    pub fn read_counting(&mut self) -> (u16, usize) {
        let end = self.fill_until(|b| find(b, b"\r\n\r\n").map(|i| i + 4));
        let head: Vec<u8> = self.buf.drain(..end).collect();
        let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let len: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("content-length");
        let mut got = self.buf.len().min(len);
        self.buf.drain(..got);
        let mut chunk = vec![0u8; 64 * 1024];
        while got < len {
            match self.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("read failed: {e}"),
            }
        }
        (status, got)
    }

    /// Reads until EOF.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.buf);
        let _ = self.stream.read_to_end(&mut rest);
        rest
    }

    /// True when the peer closed the connection within the deadline: EOF
    /// or a reset. A connection still open when the deadline passes, or
    /// one that sends more bytes, is not closed.
    pub fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut b = [0u8; 1];
        loop {
            match self.stream.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => return false,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                    );
                }
            }
        }
    }

    fn fill_until(&mut self, done: impl Fn(&[u8]) -> Option<usize>) -> usize {
        loop {
            if let Some(n) = done(&self.buf) {
                return n;
            }
            let mut chunk = [0u8; 64 * 1024];
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!(
                    "read failed ({e}); got so far: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            };
            assert!(
                n > 0,
                "connection closed early; got: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends one request on a new connection and reads the response.
pub fn request(addr: SocketAddr, raw: &str) -> Response {
    let mut c = Conn::open(addr);
    c.send(raw.as_bytes());
    c.read()
}

/// `GET path` with `Host: host`.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, &format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"))
}
