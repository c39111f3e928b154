//! Benchmark upstream: a small, fast HTTP/1.1 origin used by `benches/load.sh`.
//!
//! Every request gets the same answer, `200 OK` with `Content-Type: text/plain`
//! and a 100-byte body, so that the load benchmark measures the proxy in front
//! of it (Tollgate or nginx) and not the origin.
//!
//! What it does:
//! * thread-per-core: `--workers N` threads (default 1), each with its own
//!   monoio runtime and its own `SO_REUSEPORT` listener on the same address;
//! * io_uring when the kernel allows it (`monoio::utils::detect_uring`), else
//!   the legacy epoll driver; `--driver uring|epoll` forces one;
//! * parses heads with httparse, answers pipelined requests in order, keeps
//!   connections alive, honours `Connection: close` (and HTTP/1.0 defaults);
//! * reads and discards request bodies framed by `Content-Length` or
//!   `Transfer-Encoding: chunked`;
//! * one write per batch of ready responses, built into a per-connection
//!   buffer that is reused, so a request allocates nothing.
//!
//! What it does not do: routing, TLS, timeouts on idle clients, or anything a
//! real origin needs. It is a load generator's counterpart, not a server.
//!
//! ```text
//! cargo run --release --example upstream -- [ADDR] [--addr ADDR] [--workers N] [--driver auto|uring|epoll]
//! ```

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{ListenerOpts, TcpListener, TcpStream};

/// Address the upstream listens on when none is given.
const DEFAULT_ADDR: &str = "127.0.0.1:18080";
/// Bytes of read buffer per connection; also the largest request head accepted.
const READ_BUF_BYTES: usize = 16 * 1024;
/// Bytes reserved up front for responses queued by one read (pipelining).
const WRITE_BUF_BYTES: usize = 4 * 1024;
/// Most headers parsed per request head; more is answered with 400.
const MAX_HEADERS: usize = 64;
/// Listen backlog (connections), large enough for wrk connection bursts.
const LISTEN_BACKLOG: i32 = 4096;
/// Pause after a failed `accept` (e.g. out of file descriptors), in milliseconds.
const ACCEPT_BACKOFF_MS: u64 = 10;

/// The 100-byte response body, as a literal so it can be `concat!`ed.
macro_rules! body {
    () => {
        "tollgate-bench-upstream-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789...\n"
    };
}

/// Status line and the headers shared by every `200` response.
macro_rules! head_200 {
    () => {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n"
    };
}

const _: () = assert!(body!().len() == 100, "the body must be exactly 100 bytes");

/// Response to an HTTP/1.1 request on a connection that stays open.
const RESPONSE_KEEP_ALIVE: &[u8] = concat!(head_200!(), "\r\n", body!()).as_bytes();
/// Response to an HTTP/1.0 request that asked for `Connection: keep-alive`.
const RESPONSE_KEEP_ALIVE_HTTP10: &[u8] =
    concat!(head_200!(), "Connection: keep-alive\r\n\r\n", body!()).as_bytes();
/// Response after which the connection is closed.
const RESPONSE_CLOSE: &[u8] = concat!(head_200!(), "Connection: close\r\n\r\n", body!()).as_bytes();
/// Response to a request that cannot be parsed or framed; the connection then closes.
const RESPONSE_BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Which I/O driver the workers run on.
#[derive(Clone, Copy, Debug)]
enum DriverChoice {
    /// io_uring when the kernel supports it, else epoll.
    Auto,
    /// io_uring; startup fails when the kernel does not allow it.
    Uring,
    /// The legacy (epoll) driver.
    Epoll,
}

/// Command-line options.
#[derive(Debug)]
struct Args {
    /// Address every worker listens on (shared through `SO_REUSEPORT`).
    addr: SocketAddr,
    /// Number of worker threads, each with its own runtime and listener.
    workers: usize,
    /// I/O driver selection.
    driver: DriverChoice,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: parse_addr(DEFAULT_ADDR)?,
        workers: 1,
        driver: DriverChoice::Auto,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--addr" => args.addr = parse_addr(&value("--addr")?)?,
            "--workers" => {
                let raw = value("--workers")?;
                args.workers = match raw.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--workers: `{raw}` is not a positive integer")),
                };
            }
            "--driver" => {
                args.driver = match value("--driver")?.as_str() {
                    "auto" => DriverChoice::Auto,
                    "uring" | "io_uring" => DriverChoice::Uring,
                    "epoll" | "legacy" => DriverChoice::Epoll,
                    other => return Err(format!("--driver: `{other}` is not auto|uring|epoll")),
                };
            }
            "-h" | "--help" => {
                println!(
                    "usage: upstream [ADDR] [--addr ADDR] [--workers N] [--driver auto|uring|epoll]"
                );
                std::process::exit(0);
            }
            other if !other.starts_with('-') => args.addr = parse_addr(other)?,
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn parse_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.parse()
        .map_err(|e| format!("`{raw}` is not an address like 127.0.0.1:18080: {e}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let use_uring = match args.driver {
        DriverChoice::Auto => monoio::utils::detect_uring(),
        DriverChoice::Uring => true,
        DriverChoice::Epoll => false,
    };
    let driver = if use_uring { "io_uring" } else { "epoll" };
    eprintln!(
        "upstream: listening on {} with {} worker(s), {driver} driver",
        args.addr, args.workers
    );
    let mut handles = Vec::with_capacity(args.workers);
    for id in 0..args.workers {
        let addr = args.addr;
        let handle = std::thread::Builder::new()
            .name(format!("upstream-{id}"))
            .spawn(move || {
                if let Err(e) = run_worker(addr, use_uring) {
                    // One worker down means the benchmark would be skewed: stop all.
                    eprintln!("upstream: worker {id} failed: {e}");
                    std::process::exit(1);
                }
            })?;
        handles.push(handle);
    }
    for handle in handles {
        handle.join().map_err(|_| "a worker thread panicked")?;
    }
    Ok(())
}

/// Builds this thread's runtime and serves `addr` on it until an error.
fn run_worker(addr: SocketAddr, use_uring: bool) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if use_uring {
        let mut rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .enable_timer()
            .build()?;
        return rt.block_on(serve(addr));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = use_uring;
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()?;
    rt.block_on(serve(addr))
}

/// Accept loop of one worker: one task per connection.
async fn serve(addr: SocketAddr) -> io::Result<()> {
    let opts = ListenerOpts::new()
        .reuse_port(true)
        .reuse_addr(true)
        .backlog(LISTEN_BACKLOG);
    let listener = TcpListener::bind_with_config(addr, &opts)?;
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // Latency matters more than packet count here; a failure only costs speed.
                let _ = stream.set_nodelay(true);
                monoio::spawn(async move {
                    // A reset or broken pipe is the client's choice; nothing to report.
                    let _ = serve_conn(stream).await;
                });
            }
            Err(e) => {
                eprintln!("upstream: accept failed: {e}");
                monoio::time::sleep(Duration::from_millis(ACCEPT_BACKOFF_MS)).await;
            }
        }
    }
}

/// Reads requests, writes queued responses, until EOF, error or close.
async fn serve_conn(mut stream: TcpStream) -> io::Result<()> {
    let mut conn = Conn::new();
    loop {
        if conn.process().is_err() {
            conn.out.extend_from_slice(RESPONSE_BAD_REQUEST);
            conn.closing = true;
        }
        if !conn.out.is_empty() {
            let (res, out) = stream.write_all(std::mem::take(&mut conn.out)).await;
            conn.out = out;
            res?;
            conn.out.clear();
        }
        if conn.closing {
            return Ok(());
        }
        if !conn.make_room() {
            // The unparsed head (or trailer line) fills the whole buffer.
            let (res, _) = stream.write_all(RESPONSE_BAD_REQUEST).await;
            return res.map(|_| ());
        }
        let free = conn.buf.len()..;
        let (res, slice) = stream
            .read(std::mem::take(&mut conn.buf).slice_mut(free))
            .await;
        conn.buf = slice.into_inner();
        if res? == 0 {
            return Ok(());
        }
    }
}

/// The request being read is not valid HTTP/1.x; answered with 400 and close.
#[derive(Debug)]
struct BadRequest;

/// Per-connection state: buffers are allocated once and reused.
struct Conn {
    /// Bytes read; `buf[start..]` is not yet consumed.
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    start: usize,
    /// Responses queued for the next write.
    out: Vec<u8>,
    /// Where we are in the current request, if one is in progress.
    state: ReqState,
    /// The response for the current request (sent once its body is read).
    response: &'static [u8],
    /// Whether the connection stays open after the current request.
    keep_alive: bool,
    /// A close response is queued: stop parsing, flush, then close.
    closing: bool,
}

/// Progress through one request after its head has been parsed.
enum ReqState {
    /// Between requests: the next bytes are a request head.
    Idle,
    /// `Content-Length` body (or none): bytes still to skip.
    Fixed(u64),
    /// Chunked body being decoded.
    Chunked(Chunked),
}

impl Conn {
    fn new() -> Self {
        Self {
            buf: Vec::with_capacity(READ_BUF_BYTES),
            start: 0,
            out: Vec::with_capacity(WRITE_BUF_BYTES),
            state: ReqState::Idle,
            response: RESPONSE_KEEP_ALIVE,
            keep_alive: true,
            closing: false,
        }
    }

    /// Consumes every complete request in the buffer, queueing one response
    /// per request once its body has been skipped.
    fn process(&mut self) -> Result<(), BadRequest> {
        loop {
            debug_assert!(self.start <= self.buf.len());
            if !matches!(self.state, ReqState::Idle) {
                if !self.skip_body()? {
                    return Ok(());
                }
                self.out.extend_from_slice(self.response);
                self.state = ReqState::Idle;
                if !self.keep_alive {
                    self.closing = true;
                    return Ok(());
                }
            }
            if self.start == self.buf.len() || !self.parse_head()? {
                return Ok(());
            }
        }
    }

    /// Parses one head from `buf[start..]`. `Ok(false)` means it is incomplete.
    fn parse_head(&mut self) -> Result<bool, BadRequest> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let head_len = match req.parse(&self.buf[self.start..]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(false),
            Err(_) => return Err(BadRequest),
        };
        let http10 = req.version == Some(0);
        let mut keep_alive = !http10;
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        for h in req.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = parse_content_length(h.value)?;
                if content_length.is_some_and(|prev| prev != n) {
                    return Err(BadRequest);
                }
                content_length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = has_token(h.value, b"chunked");
            } else if h.name.eq_ignore_ascii_case("connection") {
                if has_token(h.value, b"close") {
                    keep_alive = false;
                } else if http10 && has_token(h.value, b"keep-alive") {
                    keep_alive = true;
                }
            }
        }
        self.start += head_len;
        debug_assert!(self.start <= self.buf.len());
        self.state = if chunked {
            ReqState::Chunked(Chunked::Size)
        } else {
            ReqState::Fixed(content_length.unwrap_or(0))
        };
        self.keep_alive = keep_alive;
        self.response = match (keep_alive, http10) {
            (false, _) => RESPONSE_CLOSE,
            (true, true) => RESPONSE_KEEP_ALIVE_HTTP10,
            (true, false) => RESPONSE_KEEP_ALIVE,
        };
        Ok(true)
    }

    /// Skips body bytes of the current request. `Ok(true)` once the body is done.
    fn skip_body(&mut self) -> Result<bool, BadRequest> {
        let avail = &self.buf[self.start..];
        match &mut self.state {
            ReqState::Idle => Ok(true),
            ReqState::Fixed(remaining) => {
                let take = (*remaining).min(avail.len() as u64);
                *remaining -= take;
                // `take` is at most `avail.len()`, so it fits in usize.
                self.start += take as usize;
                Ok(*remaining == 0)
            }
            ReqState::Chunked(decoder) => {
                let (used, done) = decoder.feed(avail)?;
                self.start += used;
                Ok(done)
            }
        }
    }

    /// Moves unconsumed bytes to the front so the next read has room.
    /// Returns `false` when the buffer is full of one unparsed item.
    fn make_room(&mut self) -> bool {
        if self.start == self.buf.len() {
            self.buf.clear();
        } else if self.start > 0 {
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.buf.len() - self.start);
        }
        self.start = 0;
        self.buf.len() < self.buf.capacity()
    }
}

/// Incremental decoder for a chunked body whose bytes are discarded.
#[derive(Debug, PartialEq)]
enum Chunked {
    /// Expecting a chunk-size line (with optional extensions).
    Size,
    /// Inside chunk data: bytes still to skip.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty line.
    Trailer,
}

impl Chunked {
    /// Consumes what it can from `input`; returns the bytes used and whether
    /// the body (including trailers) is complete.
    fn feed(&mut self, input: &[u8]) -> Result<(usize, bool), BadRequest> {
        let mut pos = 0;
        loop {
            debug_assert!(pos <= input.len());
            let rest = &input[pos..];
            match *self {
                Chunked::Size => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((n, 0))) => {
                        pos += n;
                        *self = Chunked::Trailer;
                    }
                    Ok(httparse::Status::Complete((n, size))) => {
                        pos += n;
                        *self = Chunked::Data(size);
                    }
                    Ok(httparse::Status::Partial) => return Ok((pos, false)),
                    Err(_) => return Err(BadRequest),
                },
                Chunked::Data(remaining) => {
                    let take = remaining.min(rest.len() as u64);
                    // `take` is at most `rest.len()`, so it fits in usize.
                    pos += take as usize;
                    if take < remaining {
                        *self = Chunked::Data(remaining - take);
                        return Ok((pos, false));
                    }
                    *self = Chunked::DataEnd;
                }
                Chunked::DataEnd => {
                    if rest.len() < 2 {
                        return Ok((pos, false));
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(BadRequest);
                    }
                    pos += 2;
                    *self = Chunked::Size;
                }
                Chunked::Trailer => match rest.windows(2).position(|w| w == b"\r\n") {
                    None => return Ok((pos, false)),
                    Some(0) => return Ok((pos + 2, true)),
                    Some(line) => pos += line + 2,
                },
            }
        }
    }
}

fn parse_content_length(value: &[u8]) -> Result<u64, BadRequest> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(BadRequest);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(BadRequest)
}

/// Whether a comma-separated header value contains `token` (ASCII case-insensitive).
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<u8>, bool) {
        let mut conn = Conn::new();
        conn.buf.extend_from_slice(input);
        let ok = conn.process().is_ok();
        (conn.out, ok)
    }

    #[test]
    fn pipelined_requests_get_one_response_each() {
        let (out, ok) = run(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok);
        assert_eq!(out, [RESPONSE_KEEP_ALIVE, RESPONSE_KEEP_ALIVE].concat());
    }

    #[test]
    fn connection_close_stops_after_response() {
        let (out, ok) = run(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert!(ok);
        assert_eq!(out, RESPONSE_CLOSE);
    }

    #[test]
    fn chunked_body_is_skipped_across_reads() {
        let mut conn = Conn::new();
        let req: &[u8] =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nRust\r\n0\r\nT: v\r\n\r\n";
        for &b in req {
            conn.buf.push(b);
            assert!(conn.process().is_ok());
        }
        assert_eq!(conn.out, RESPONSE_KEEP_ALIVE);
        assert_eq!(conn.start, conn.buf.len());
    }

    #[test]
    fn content_length_body_is_skipped() {
        let (out, ok) =
            run(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n");
        assert!(ok);
        assert_eq!(out, [RESPONSE_KEEP_ALIVE, RESPONSE_CLOSE].concat());
    }

    #[test]
    fn conflicting_content_length_is_rejected() {
        let (_, ok) = run(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert!(!ok);
    }
}
