//! A hostile backend must never make one client's response reach another
//! client (issue 13, item 1): unsolicited bytes on an idle pooled
//! connection, bytes past a response's declared end, and ambiguous framing
//! all end the upstream connection instead of shifting every later
//! response on it by one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;

/// The unsolicited response a hostile backend writes.
const POISON: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON";

/// How long after its answer the backend of `/extra` writes [`POISON`].
const POISON_DELAY: Duration = Duration::from_millis(150);

fn raw(parts: &[&[u8]]) -> Reply {
    Reply::Raw(parts.concat())
}

/// `HTTP/1.1 200 OK` with `Content-Length: 5` and `hello`.
const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// Every shape of hostile answer, by path; anything else under `/tag/`
/// echoes the tag (`tag:<tag>`). `poisons` counts the unsolicited responses
/// written after an answer.
fn hostile(seen: &Seen, poisons: &AtomicUsize) -> Reply {
    match seen.target.as_str() {
        // A correct answer, then 150 ms later an unsolicited response.
        "/extra" => {
            poisons.fetch_add(1, Ordering::SeqCst);
            Reply::Seq(vec![
                Reply::Raw(HELLO.to_vec()),
                Reply::Delay(POISON_DELAY, Box::new(Reply::Raw(POISON.to_vec()))),
            ])
        }
        // More bytes than Content-Length says, in one write…
        "/overlong" => {
            poisons.fetch_add(1, Ordering::SeqCst);
            raw(&[HELLO, b"WORLD-", POISON])
        }
        // …and in a second write a moment later (after the relay ended).
        "/overlong-split" => {
            poisons.fetch_add(1, Ordering::SeqCst);
            Reply::Seq(vec![
                Reply::Raw(HELLO.to_vec()),
                Reply::Delay(
                    Duration::from_millis(2),
                    Box::new(raw(&[b"WORLD-", POISON])),
                ),
            ])
        }
        // Content-Length beside Transfer-Encoding: refused (502).
        "/cl-te" => raw(&[
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"0\r\n\r\n",
            POISON,
        ]),
        // Two different Content-Lengths: refused (502).
        "/dup-cl" => raw(&[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 45\r\n\r\nhello",
            POISON,
        ]),
        // 204 has no body whatever follows.
        "/no-content" => {
            poisons.fetch_add(1, Ordering::SeqCst);
            raw(&[b"HTTP/1.1 204 No Content\r\n\r\n", POISON])
        }
        // A HEAD answered with a body.
        "/head-body" => {
            poisons.fetch_add(1, Ordering::SeqCst);
            raw(&[b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", b"POISON"])
        }
        // Endless interim responses: refused (502) after a few.
        "/interim-flood" => {
            let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(50);
            bytes.extend_from_slice(HELLO);
            Reply::Raw(bytes)
        }
        target => match target.strip_prefix("/tag/") {
            // A slow answer: the displaced one lands well after the stray.
            Some(tag) if tag.starts_with("slow-") => Reply::Delay(
                Duration::from_millis(20),
                Box::new(Reply::Ok(format!("tag:{tag}"))),
            ),
            Some(tag) => Reply::Ok(format!("tag:{tag}")),
            None => Reply::Ok("untagged".into()),
        },
    }
}

/// Hostile requests: (method, path, expected status).
const HOSTILE: &[(&str, &str, u16)] = &[
    ("GET", "/extra", 200),
    ("GET", "/overlong", 200),
    ("GET", "/overlong-split", 200),
    ("GET", "/cl-te", 502),
    ("GET", "/dup-cl", 502),
    ("GET", "/no-content", 204),
    ("HEAD", "/head-body", 200),
    ("GET", "/interim-flood", 502),
];

/// The whole mix through one worker (one pool), with no default rate limit
/// in the way.
fn gateway(driver: &str, up: &TestUpstream) -> TestGateway {
    let body = format!(
        "[settings]\ndefault_api_rate_limit = 0\n\n{}",
        proxy_all(up.addr)
    );
    TestGateway::one(driver, &body)
}

fn hostile_upstream() -> (TestUpstream, Arc<AtomicUsize>) {
    let poisons = Arc::new(AtomicUsize::new(0));
    let counted = poisons.clone();
    let up = TestUpstream::start(move |seen| hostile(seen, &counted));
    (up, poisons)
}

/// One tagged request on `conn`; its body.
fn tagged(conn: &mut Conn, tag: &str) -> String {
    conn.send(format!("GET /tag/{tag} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
    let resp = conn.read();
    resp.text()
}

/// Tallies of what the tagged clients received.
#[derive(Debug, Default)]
struct Tally {
    own: AtomicUsize,
    foreign: AtomicUsize,
    poisoned: AtomicUsize,
    garbled: AtomicUsize,
    other: AtomicUsize,
}

/// `clients` tagged clients send `per_client` requests each while two
/// hostile clients cycle through [`HOSTILE`].
fn run_mix(
    gw: SocketAddr,
    clients: usize,
    per_client: usize,
    shapes: &'static [(&str, &str, u16)],
    prefix: &'static str,
) -> Tally {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let hostiles: Vec<_> = (0..2)
        .map(|h| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut i = h;
                while !stop.load(Ordering::SeqCst) {
                    let (method, path, _) = shapes[i % shapes.len()];
                    i += 1;
                    let mut c = Conn::open(gw);
                    c.send(format!("{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
                    let resp = c.read_for(method == "HEAD");
                    assert!(
                        !resp.text().contains("tag:"),
                        "a hostile client got a tagged response: {}",
                        resp.text()
                    );
                }
            })
        })
        .collect();
    let tagged_clients: Vec<_> = (0..clients)
        .map(|c| {
            let tally = tally.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::open(gw);
                for n in 0..per_client {
                    let tag = format!("{prefix}c{c}-{n}");
                    let body = tagged(&mut conn, &tag);
                    let counter = if body == format!("tag:{tag}") {
                        &tally.own
                    } else if body.starts_with("tag:") {
                        eprintln!("client c{c} asked for {tag} and got {body}");
                        &tally.foreign
                    } else if body == "POISON" {
                        &tally.poisoned
                    } else if body.contains("\"APIG.0201\"") {
                        // Stray bytes that arrived while this request was
                        // in flight made its answer unparseable: 502.
                        &tally.garbled
                    } else {
                        eprintln!("client c{c} asked for {tag} and got {body:?}");
                        &tally.other
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in tagged_clients {
        t.join().expect("tagged client");
    }
    stop.store(true, Ordering::SeqCst);
    for t in hostiles {
        t.join().expect("hostile client");
    }
    Arc::into_inner(tally).expect("all clients joined")
}

driver_tests! {
    // regression: issue 13 item 1 — 1,025 of 173,982 responses reached the
    // wrong client when a backend wrote past its answers.
    fn no_client_receives_another_clients_response(driver) {
        let (up, poisons) = hostile_upstream();
        let gw = gateway(driver, &up);
        let tally = run_mix(gw.addr, 8, 250, HOSTILE, "");
        let own = tally.own.load(Ordering::SeqCst);
        let poisoned = tally.poisoned.load(Ordering::SeqCst);
        let garbled = tally.garbled.load(Ordering::SeqCst);
        eprintln!("{driver}: {tally:?}, {} poison events", poisons.load(Ordering::SeqCst));
        assert_eq!(tally.foreign.load(Ordering::SeqCst), 0, "foreign responses");
        assert_eq!(tally.other.load(Ordering::SeqCst), 0, "unexpected responses");
        assert_eq!(own + poisoned + garbled, 8 * 250);
        // Stray bytes reach at most a request in flight when the backend
        // wrote them (HTTP/1.1 cannot tell them from its answer), never a
        // request sent after they arrived.
        assert!(poisoned + garbled <= poisons.load(Ordering::SeqCst));
        // The first stray bytes seen get the backend distrusted: its
        // connections then carry one request each, so at most the requests
        // in flight before that can meet what it sends.
        assert!(poisoned + garbled <= 2, "{poisoned} POISON and {garbled} 502 answers");
    }

    // The stray response alone, written while requests are in flight on a
    // backend that answers slowly: nothing distrusts the backend until the
    // displaced answer lands on a resting connection, so this is the rest
    // window's test (without it a client stayed one response behind for
    // hundreds of requests).
    fn a_late_stray_response_displaces_no_answer_onto_another_request(driver) {
        let (up, poisons) = hostile_upstream();
        let gw = gateway(driver, &up);
        let tally = run_mix(gw.addr, 8, 60, &[("GET", "/extra", 200)], "slow-");
        eprintln!("{driver}: {tally:?}, {} poison events", poisons.load(Ordering::SeqCst));
        assert_eq!(tally.foreign.load(Ordering::SeqCst), 0, "foreign responses");
        assert_eq!(tally.other.load(Ordering::SeqCst), 0, "unexpected responses");
        // Strays reach only requests in flight before the first displaced
        // answer is seen on a connection (then the backend is distrusted):
        // a few, never a steady share of the traffic (seen: 1 to 12 of 480
        // with this 20 ms backend).
        assert!(tally.poisoned.load(Ordering::SeqCst) <= 32);
    }

    // Each hostile shape on its own: the answer is the documented one, and
    // the next request, sent after every hostile byte has arrived, goes out
    // on a new connection and gets its own response.
    fn a_tainted_upstream_connection_is_never_reused(driver) {
        let (up, _) = hostile_upstream();
        let gw = gateway(driver, &up);
        for (i, &(method, path, status)) in HOSTILE.iter().enumerate() {
            let mut c = Conn::open(gw.addr);
            c.send(format!("{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
            let resp = c.read_for(method == "HEAD");
            assert_eq!(resp.status, status, "{method} {path}: {}", resp.text());
            match status {
                502 => resp.assert_apig(502, "APIG.0201", "Backend unavailable."),
                204 => assert!(resp.body.is_empty()),
                _ if method == "HEAD" => assert!(resp.body.is_empty()),
                _ => assert_eq!(resp.text(), "hello", "{path}"),
            }
            let tainted = up.next().conn;
            // The backend's scripted writes after its answer take at most
            // POISON_DELAY; give them that time to land on the idle socket.
            std::thread::sleep(POISON_DELAY * 2);
            let tag = format!("after-{i}");
            assert_eq!(tagged(&mut c, &tag), format!("tag:{tag}"), "after {path}");
            assert_ne!(up.next().conn, tainted, "after {path} the tainted connection was reused");
        }
    }

    // A clean backend's connection is still reused (the probe costs a
    // syscall, not the pool).
    fn a_clean_upstream_connection_is_reused(driver) {
        let (up, _) = hostile_upstream();
        let gw = gateway(driver, &up);
        let mut c = Conn::open(gw.addr);
        for n in 0..60 {
            let tag = format!("clean-{n}");
            assert_eq!(tagged(&mut c, &tag), format!("tag:{tag}"));
        }
        // A sequential client whose next request comes sooner than the
        // backend's answers did may find its connection still resting, and
        // take another: a few connections take turns, never one per request.
        assert!(up.connection_count() <= 20, "{} connections", up.connection_count());
        let totals = gw.shutdown();
        assert!(totals.upstream_reuses >= 40, "{} reuses", totals.upstream_reuses);
    }
}
