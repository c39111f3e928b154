//! The app-signature verify path allocates nothing for a typical signed
//! request (a GET with a query, a 4 KiB POST): the per-app HMAC is keyed at
//! compile time, query pairs sort on the stack, the canonical request goes
//! to the worker's reused buffer. Counted with a per-thread counting
//! allocator around `app::authenticate`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::BytesMut;
use tollgate::http::{HeadLimits, RequestHead, parse_request};
use tollgate::policy::auth::app::{self, App, AppAuth, Apps, Scene};
use tollgate::policy::auth::signature::{
    BodyHash, HeaderValue, RequestParts, canonical_request, parse_authorization, parse_sdk_date,
    signature_hex,
};

/// Counts this thread's allocations (test threads run side by side).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter is a const-initialised thread-local without a destructor, so it
// never allocates itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

const SECRET: &[u8] = b"9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a";
const KEY: &str = "4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e";
const DATE: &str = "20240315T083000Z";
const SIGNED: &str = "content-type;host;user-agent;x-sdk-date;x-stage";

/// A head as an SDK client sends it, signed for `body`.
fn signed(method: &str, body: &[u8]) -> RequestHead {
    let head = |signature: &str| {
        let raw = format!(
            "{method} /v1/orders/42/items?limit=20&offset=40&sort=desc HTTP/1.1\r\n\
             Host: api.example.com\r\nX-Sdk-Date: {DATE}\r\nx-stage: RELEASE\r\n\
             Content-Type: application/json\r\nUser-Agent: huaweicloud-usdk-python/3.0\r\n\
             Content-Length: {}\r\n\
             Authorization: SDK-HMAC-SHA256 Access={KEY}, SignedHeaders={SIGNED}, Signature={signature}\r\n\r\n",
            body.len()
        );
        let limits = HeadLimits {
            max_uri_bytes: 4096,
            max_header_bytes: 4096,
            max_headers_total_bytes: 16384,
            max_body_bytes: 1 << 20,
        };
        parse_request(&mut BytesMut::from(raw.as_bytes()), &limits)
            .unwrap()
            .unwrap()
    };
    let unsigned = head("00");
    let auth = parse_authorization(unsigned.values(b"authorization").next().unwrap()).unwrap();
    let parts = RequestParts {
        method: method.as_bytes(),
        path: unsigned.slice(unsigned.path),
        query: unsigned.query.map(|q| unsigned.slice(q)),
        headers: |name: &[u8]| HeaderValue::of(unsigned.values(name)),
    };
    let mut cr = BytesMut::new();
    let hash = tollgate::policy::auth::signature::sha256_hex(body);
    canonical_request(&mut cr, &parts, &auth, &hash).unwrap();
    let sig = signature_hex(SECRET, DATE.as_bytes(), &cr).unwrap();
    head(std::str::from_utf8(&sig).unwrap())
}

/// Allocations made by one verification of `head` with `body` (after a
/// first, warming run: the scratch buffer has grown to size).
fn verify_allocations(head: &RequestHead, body: &[u8]) -> usize {
    let mut apps = Apps::default();
    let id = apps.insert(App::new("demo", KEY.as_bytes(), SECRET, true), &[]);
    let auth = AppAuth {
        grants: vec![vec![id]],
        ..AppAuth::default()
    };
    let mut scratch = BytesMut::with_capacity(1024);
    let mut run = || {
        let mut hash = BodyHash::default();
        hash.update(body);
        let hash = hash.finish();
        let mut scene = Scene {
            tls: false,
            stage: 0,
            now_unix: parse_sdk_date(DATE.as_bytes()).unwrap(),
            body_sha256: (!body.is_empty()).then_some(&hash),
            scratch: &mut scratch,
        };
        app::authenticate(&auth, &apps, head, &mut scene).map(|(id, _)| id)
    };
    assert_eq!(run(), Ok(id), "the request verifies");
    let before = allocations();
    assert_eq!(run(), Ok(id));
    allocations() - before
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 8]);
    assert_eq!(allocations() - before, 1);
    drop(v);
}

#[test]
fn a_signed_get_verifies_without_allocating() {
    let head = signed("GET", b"");
    assert_eq!(verify_allocations(&head, b""), 0);
}

#[test]
fn a_signed_post_verifies_without_allocating() {
    let body = vec![b'x'; 4096];
    let head = signed("POST", &body);
    assert_eq!(verify_allocations(&head, &body), 0);
}
