//! App authentication over real sockets (behaviour.md §11.2–§11.5,
//! app-signing.md): signed requests pass and reach the backend with their
//! body, every tampered part fails with 401 APIG.0303, the clock window has
//! 15-minute edges, grants are per stage, AppCodes need HTTPS unless the
//! switch allows plain HTTP, frozen apps get 405.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::net::SocketAddr;

use bytes::BytesMut;
use common::*;
use tollgate::policy::auth::signature::{
    self, HeaderValue, RequestParts, canonical_request, parse_authorization, signature_hex,
};

const KEY: &str = "4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e";
const SECRET: &str = "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a";
const CODE: &str = "TgrMzOoTpbPORwg4a2BlUgd0ziCaHzVW6bcoScNgISsTS5z1i1Mgsvb9fz2h6Ihd";

fn config(upstream: SocketAddr, extra_auth: &str) -> String {
    format!(
        "[[stage]]\nname = \"TEST\"\n\n\
         [[app]]\nname = \"demo\"\nid = \"demo-id\"\nkey = \"{KEY}\"\nsecret = \"{SECRET}\"\napp_codes = [\"{CODE}\"]\n\n\
         [[app]]\nname = \"other\"\nkey = \"otherkey\"\nsecret = \"othersecret\"\n\n\
         [[app]]\nname = \"frozen\"\nkey = \"frozenkey\"\nsecret = \"frozensecret\"\nenabled = false\n\n\
         [[group]]\nname = \"DEFAULT\"\n\n\
         [[group.api]]\nname = \"demo\"\nmethod = \"ANY\"\npath = \"/demo\"\nmatch = \"prefix\"\nstages = [\"RELEASE\", \"TEST\"]\n\
         [group.api.auth]\ntype = \"app\"\nsimple = true\n{extra_auth}\n\
         grants = {{ RELEASE = [\"demo\", \"frozen\"], TEST = [\"other\"] }}\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{upstream}\"\ntimeout_ms = 2000\n\
         [[group.api.backend.system]]\nname = \"x-app-id\"\nlocation = \"HEADER\"\nfrom = \"appId\"\n"
    )
}

/// A request signed like the official SDK: `headers` are sent and signed
/// (plus Host and X-Sdk-Date), `body` hashed unless `unsigned`.
struct Signed {
    method: &'static str,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Signed {
    fn new(method: &'static str, target: &str) -> Signed {
        Signed {
            method,
            target: target.to_string(),
            headers: vec![("Host".into(), "api.example.com".into())],
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Signed {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn body(mut self, body: &[u8]) -> Signed {
        self.body = body.to_vec();
        self
    }

    /// The raw request, signed at `date` with `key`/`secret`.
    fn raw_with(&self, key: &str, secret: &str, date: i64) -> String {
        let mut raw = self.head_with(key, secret, date);
        raw.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        raw.push_str(std::str::from_utf8(&self.body).unwrap());
        raw
    }

    /// The raw request signed now, its body sent chunked in chunks of
    /// `size` bytes (with a trailer field); `extra` head lines go unsigned.
    fn chunked(&self, size: usize, extra: &str) -> String {
        let mut raw = self.head_with(KEY, SECRET, unix_now());
        raw.push_str(extra);
        raw.push_str("Transfer-Encoding: chunked\r\n\r\n");
        raw.push_str(&chunks(&self.body, size));
        raw
    }

    /// Request line, headers and `Authorization`, signed at `date`; no
    /// framing header, no blank line.
    fn head_with(&self, key: &str, secret: &str, date: i64) -> String {
        let date = signature::format_sdk_date(date);
        let mut headers = self.headers.clone();
        headers.push(("X-Sdk-Date".into(), date.clone()));
        let mut names: Vec<String> = headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        let signed = names.join(";");
        let probe = format!("SDK-HMAC-SHA256 Access={key}, SignedHeaders={signed}, Signature=00");
        let auth = parse_authorization(probe.as_bytes()).unwrap();
        let (path, query) = match self.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.target.as_str(), None),
        };
        let lookup = |name: &[u8]| {
            HeaderValue::of(
                headers
                    .iter()
                    .filter(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_bytes()),
            )
        };
        let parts = RequestParts {
            method: self.method.as_bytes(),
            path: path.as_bytes(),
            query: query.map(str::as_bytes),
            headers: lookup,
        };
        let unsigned = headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("x-sdk-content-sha256") && v == "UNSIGNED-PAYLOAD"
        });
        let payload = if unsigned {
            b"UNSIGNED-PAYLOAD".to_vec()
        } else {
            signature::sha256_hex(&self.body).to_vec()
        };
        let mut cr = BytesMut::new();
        canonical_request(&mut cr, &parts, &auth, &payload).unwrap();
        let sig = signature_hex(secret.as_bytes(), date.as_bytes(), &cr).unwrap();
        let mut raw = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        for (n, v) in &headers {
            raw.push_str(&format!("{n}: {v}\r\n"));
        }
        raw.push_str(&format!(
            "Authorization: SDK-HMAC-SHA256 Access={key}, SignedHeaders={signed}, Signature={}\r\n",
            std::str::from_utf8(&sig).unwrap()
        ));
        raw
    }

    fn raw(&self) -> String {
        self.raw_with(KEY, SECRET, unix_now())
    }
}

/// `body` as chunks of `size` bytes (extensions on every other one), the
/// last chunk, a trailer field.
fn chunks(body: &[u8], size: usize) -> String {
    let mut out = String::new();
    for (i, piece) in body.chunks(size).enumerate() {
        let ext = if i % 2 == 1 { ";n=\"odd\"" } else { "" };
        out.push_str(&format!("{:x}{ext}\r\n", piece.len()));
        out.push_str(std::str::from_utf8(piece).unwrap());
        out.push_str("\r\n");
    }
    out.push_str("0\r\nX-Trailer: t\r\n\r\n");
    out
}

/// A body of `n` bytes that shows where a piece went missing or moved.
fn patterned(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| b"0123456789abcdefghijklmnopqrstuvwxyz"[i % 36])
        .collect()
}

/// `config` with a signature key bound, so the backend request is signed
/// (behaviour.md §12).
fn signing_config(upstream: SocketAddr) -> String {
    config(upstream, "").replacen(
        "[[group]]",
        "[[signature_key]]\nname = \"gk\"\nkey = \"gateway-key\"\nsecret = \"gateway-secret\"\n\n[[group]]",
        1,
    )
    .replacen("stages = [", "signature_key = { RELEASE = \"gk\" }\nstages = [", 1)
}

const AUTH_FAIL: &str = "Incorrect app authentication information: verify signature fail";

/// The `error_msg` of a 401 APIG.0303 body (checked to be JSON).
fn auth_message(r: &Response) -> String {
    assert_eq!(r.status, 401, "{}", r.text());
    let json: serde_json::Value = serde_json::from_slice(&r.body).expect("a JSON body");
    assert_eq!(json["error_code"], "APIG.0303");
    json["error_msg"].as_str().expect("error_msg").to_string()
}

/// A payload hash as the messages show it (app-signing.md §6).
fn masked_hash(body: &[u8]) -> String {
    let hash = signature::sha256_hex(body);
    let hash = std::str::from_utf8(&hash).unwrap();
    format!("{}***{}", &hash[..5], &hash[58..])
}

driver_tests! {
    fn signed_requests_pass_and_carry_the_app_id(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, "app_code_over_http = true"));
        let get = Signed::new("GET", "/demo/items?b=2&a=1").header("x-stage", "RELEASE");
        let r = request(gw.addr, &get.raw());
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.header("x-app-id"), Some("demo-id"));
        // A signed 4 KiB POST arrives whole.
        let body = vec![b'x'; 4096];
        let post = Signed::new("POST", "/demo/upload").header("Content-Type", "application/json").body(&body);
        let r = request(gw.addr, &post.raw());
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(up.next().body, body);
    }

    // regression: issue 13 — the gateway routes and forwards the normal
    // form of the path, but the signature covers what the client sent.
    fn a_signature_over_a_path_not_in_normal_form_still_verifies(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let get = Signed::new("GET", "/demo//%69tems%2a?q=1");
        let r = request(gw.addr, &get.raw());
        assert_eq!(r.status, 200, "{}", r.text());
        // The prefix API forwards the remainder of the normal form.
        assert_eq!(up.next().target, "/items%2A?q=1");
    }

    fn every_tampered_part_fails(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let good = Signed::new("POST", "/demo/a?q=1")
            .header("X-Custom", "v")
            .header("Content-Type", "application/json")
            .body(b"{\"n\":1}")
            .raw();
        let tampered = [
            good.replacen("POST /demo/a", "PUT /demo/a", 1),
            good.replacen("/demo/a?", "/demo/b?", 1),
            good.replacen("?q=1", "?q=2", 1),
            good.replacen("X-Custom: v", "X-Custom: w", 1),
            good.replacen("{\"n\":1}", "{\"n\":2}", 1),
        ];
        for raw in &tampered {
            let message = auth_message(&request(gw.addr, raw));
            assert!(message.starts_with(&format!("{AUTH_FAIL}, canonicalRequest:")), "{message}");
        }
        assert_eq!(request(gw.addr, &good).status, 200);
        // An unknown key, and no credentials at all.
        let stranger = Signed::new("GET", "/demo").raw_with("nobody", SECRET, unix_now());
        request(gw.addr, &stranger).assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: app not found, appkey ***",
        );
        request(gw.addr, "GET /demo HTTP/1.1\r\nHost: a\r\n\r\n").assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information.",
        );
    }

    fn the_clock_window_is_fifteen_minutes_each_way(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let req = Signed::new("GET", "/demo");
        let now = unix_now();
        for offset in [-890, 890] {
            let r = request(gw.addr, &req.raw_with(KEY, SECRET, now + offset));
            assert_eq!(r.status, 200, "offset {offset}: {}", r.text());
        }
        for offset in [-910, 910] {
            let message = auth_message(&request(gw.addr, &req.raw_with(KEY, SECRET, now + offset)));
            assert!(message.starts_with("Incorrect app authentication information: signature expired, "), "{message}");
        }
    }

    fn unsigned_payload_leaves_the_body_free(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let signed = Signed::new("POST", "/demo/up")
            .header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
            .body(b"first")
            .raw();
        assert_eq!(request(gw.addr, &signed).status, 200);
        assert_eq!(request(gw.addr, &signed.replace("first", "other")).status, 200);
        // Empty body: either official signer's payload line verifies.
        let empty = Signed::new("GET", "/demo").header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD");
        assert_eq!(request(gw.addr, &empty.raw()).status, 200);
        // A chunked unsigned payload streams through unread.
        let chunked = Signed::new("POST", "/demo/up")
            .header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
            .body(b"streamed");
        assert_eq!(request(gw.addr, &chunked.chunked(3, "")).status, 200);
        assert_eq!(up.next().body, b"first");
        assert_eq!(up.next().body, b"other");
        up.next();
        assert_eq!(up.next().body, b"streamed");
        // The header counts only when signed (§2.6): added after signing,
        // it is ignored and the body's hash is what verifies.
        let late = "X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD\r\nContent-Length";
        let signed = Signed::new("POST", "/demo/up").body(b"hashed").raw();
        let late = signed.replacen("Content-Length", late, 1);
        assert_eq!(request(gw.addr, &late).status, 200);
        assert_eq!(up.next().body, b"hashed");
        let tampered = late.replace("hashed", "HASHED");
        assert_eq!(request(gw.addr, &tampered).status, 401);
    }

    fn grants_are_per_stage_and_frozen_apps_are_refused(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let release = Signed::new("GET", "/demo");
        let other = release.raw_with("otherkey", "othersecret", unix_now());
        request(gw.addr, &other).assert_apig(403, "APIG.0304", "The app is not authorized to access the API.");
        let in_test = Signed::new("GET", "/demo").header("X-Stage", "TEST");
        assert_eq!(request(gw.addr, &in_test.raw_with("otherkey", "othersecret", unix_now())).status, 200);
        request(gw.addr, &in_test.raw()).assert_apig(403, "APIG.0304", "The app is not authorized to access the API.");
        let frozen = release.raw_with("frozenkey", "frozensecret", unix_now());
        request(gw.addr, &frozen).assert_apig(405, "APIG.0502", "The app has been frozen.");
    }

    fn failure_messages_carry_apig_details(driver) {
        // app-signing.md §6: APIG's three detailed messages, exact.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let now = unix_now();
        let get = Signed::new("GET", "/demo");
        let long_key = get.raw_with("0117ab8c9d0e1f2a3b4c5d6e7f80e5e1", SECRET, now);
        request(gw.addr, &long_key).assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: app not found, appkey 0117***e5e1",
        );
        // Expired: the signed time and the gateway's, to the second.
        let signed_at = now - 3600;
        let before = unix_now();
        let r = request(gw.addr, &get.raw_with(KEY, SECRET, signed_at));
        let after = unix_now();
        let message = auth_message(&r);
        let expected = |server| {
            format!(
                "Incorrect app authentication information: signature expired, signature time:{},server time:{}",
                signature::format_sdk_date(signed_at),
                signature::format_sdk_date(server)
            )
        };
        assert!((before..=after).any(|t| message == expected(t)), "{message}");
        // Verify signature fail: the canonical request of what arrived,
        // `\n` → `|`, host and payload hash masked as APIG does, credential
        // headers hidden, quotes and backslashes JSON-escaped.
        let mut req = Signed::new("GET", "/demo/a?b=2&a=1")
            .header("X-Quote", "say \"hi\" \\o/")
            .header("Cookie", "sid=1");
        req.headers[0].1 = "d7dae4b1c1b84b8e8d5f8b7e0a9c3df7.example.com".into();
        let date = unix_now();
        let raw = req.raw_with(KEY, SECRET, date).replacen("X-Quote: say", "X-Quote: SAY", 1);
        let r = request(gw.addr, &raw);
        let expected = format!(
            "{AUTH_FAIL}, canonicalRequest:GET|/demo/a/|a=1&b=2|cookie:***|\
             host:d7da***3df7.example.com|x-quote:SAY \"hi\" \\o/|x-sdk-date:{}||\
             cookie;host;x-quote;x-sdk-date|e3b0c***52b855",
            signature::format_sdk_date(date)
        );
        assert_eq!(auth_message(&r), expected);
        // The body byte for byte: the message JSON-escaped in place.
        let escaped = expected.replace('\\', "\\\\").replace('"', "\\\"");
        assert!(escaped.contains(r#"x-quote:SAY \"hi\" \\o/"#));
        r.assert_apig(401, "APIG.0303", &escaped);
        // A body's hash is that of the body received; UNSIGNED-PAYLOAD as is.
        let post = Signed::new("POST", "/demo/p").body(b"original");
        let date = unix_now();
        let raw = post.raw_with(KEY, SECRET, date).replacen("original", "0riginal", 1);
        assert_eq!(
            auth_message(&request(gw.addr, &raw)),
            format!(
                "{AUTH_FAIL}, canonicalRequest:POST|/demo/p/||host:***.example.com|x-sdk-date:{}||host;x-sdk-date|{}",
                signature::format_sdk_date(date),
                masked_hash(b"0riginal")
            )
        );
        let unsigned = Signed::new("POST", "/demo/p")
            .header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
            .body(b"free");
        let date = unix_now();
        let raw = unsigned.raw_with(KEY, SECRET, date).replacen("POST /demo/p", "POST /demo/q", 1);
        assert_eq!(
            auth_message(&request(gw.addr, &raw)),
            format!(
                "{AUTH_FAIL}, canonicalRequest:POST|/demo/q/||host:***.example.com|x-sdk-content-sha256:UNSIGNED-PAYLOAD|\
                 x-sdk-date:{}||host;x-sdk-content-sha256;x-sdk-date|UNSIGNED-PAYLOAD",
                signature::format_sdk_date(date)
            )
        );
    }

    fn signed_chunked_bodies_are_verified_and_forwarded_unchanged(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("{} bytes", s.body.len())));
        let gw = TestGateway::one(driver, &signing_config(up.addr));
        let body = patterned(10_000);
        let post = Signed::new("POST", "/demo/up")
            .header("Content-Type", "application/json")
            .body(&body);
        let r = request(gw.addr, &post.chunked(1000, ""));
        assert_eq!((r.status, r.text().as_str()), (200, "10000 bytes"));
        let seen = up.next();
        assert_eq!(seen.body, body);
        assert_eq!(seen.header("transfer-encoding"), Some("chunked"));
        assert_eq!(seen.header("x-app-id"), Some("demo-id"));
        // The backend signature covers the body's hash, taken once.
        assert_eq!(seen.header("x-sdk-content-sha256"), None);
        assert!(backend_signature_verifies(&seen, "gateway-secret"));
        // Two on one connection, pipelined: each body ends where it should.
        let small = Signed::new("PUT", "/demo/x").body(b"second body");
        let mut c = Conn::open(gw.addr);
        c.send(format!("{}{}", post.chunked(333, ""), small.chunked(4, "")).as_bytes());
        assert_eq!(c.read().text(), "10000 bytes");
        assert_eq!(c.read().text(), "11 bytes");
        assert_eq!(up.next().body, body);
        assert_eq!(up.next().body, b"second body");
        // An empty chunked body, signed with the empty hash.
        let empty = Signed::new("POST", "/demo/e");
        assert_eq!(request(gw.addr, &empty.chunked(8, "")).status, 200);
        assert_eq!(up.next().body, b"");
    }

    fn tampered_or_malformed_chunked_bodies_are_refused(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let post = Signed::new("POST", "/demo/up").body(b"hello chunked world");
        let good = post.chunked(5, "");
        let tampered = good.replacen("hello", "jello", 1);
        let r = request(gw.addr, &tampered);
        assert_eq!(r.status, 401, "{}", r.text());
        assert!(r.text().contains(AUTH_FAIL), "{}", r.text());
        // The chunks may be cut differently: the payload is what is signed.
        assert_eq!(request(gw.addr, &post.chunked(7, "")).status, 200);
        // Bad framing is 400 APIG.0602 whatever the signature, then close.
        let mut c = Conn::open(gw.addr);
        c.send(good.replacen("\r\n5\r\nhello", "\r\n5\nhello", 1).as_bytes());
        c.read().assert_apig(400, "APIG.0602", "Bad request.");
        assert!(c.is_closed());
        let mut c = Conn::open(gw.addr);
        c.send(good.replacen("\r\n5\r\nhello", "\r\nz\r\nhello", 1).as_bytes());
        c.read().assert_apig(400, "APIG.0602", "Bad request.");
        assert!(c.is_closed());
        assert_eq!(request(gw.addr, &good).status, 200);
        // A client that stops halfway gets told so.
        let mut c = Conn::open(gw.addr);
        c.send(&good.as_bytes()[..good.len() - 12]);
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
        c.read().assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: the signed body was not received in full",
        );
    }

    fn oversize_chunked_bodies_are_413(driver) {
        let up = TestUpstream::ok();
        let body = format!("[settings]\nmax_body_bytes = 4096\n\n{}", config(up.addr, ""));
        let gw = TestGateway::one(driver, &body);
        let fits = Signed::new("POST", "/demo/up").body(&patterned(4096));
        assert_eq!(request(gw.addr, &fits.chunked(1000, "")).status, 200);
        let over = Signed::new("POST", "/demo/up").body(&patterned(4097));
        let mut c = Conn::open(gw.addr);
        c.send(over.chunked(1000, "").as_bytes());
        c.read().assert_apig(413, "APIG.0201", "Request entity too large.");
        assert!(c.is_closed());
        // An announced chunk over the limit is refused before its data.
        let head = over.chunked(1000, "");
        let head = &head[..head.find("\r\n\r\n").unwrap() + 4];
        let mut c = Conn::open(gw.addr);
        c.send(format!("{head}2000\r\nab").as_bytes());
        c.read().assert_apig(413, "APIG.0201", "Request entity too large.");
        assert!(c.is_closed());
        // Framing cannot fill memory under the payload limit: one-byte
        // chunks with 4 KiB extensions. The buffered body may hold twice
        // the limit plus 64 KiB; one byte more (sent whole, so the refusal
        // comes after the last byte is read) is 413 for an 18-byte payload.
        let max_raw = 2 * 4096 + 64 * 1024;
        let mut framing = format!("1;e={}\r\nx\r\n", "x".repeat(4000)).repeat(18);
        framing.push_str("1;e=");
        framing.push_str(&"x".repeat(max_raw + 1 - framing.len()));
        let mut c = Conn::open(gw.addr);
        c.send(format!("{head}{framing}").as_bytes());
        c.read().assert_apig(413, "APIG.0201", "Request entity too large.");
        assert!(c.is_closed());
    }

    fn chunked_bodies_in_small_writes_are_put_together(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(String::from_utf8_lossy(&s.body).into_owned()));
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let body = patterned(300);
        let raw = Signed::new("POST", "/demo/up").body(&body).chunked(41, "");
        let body_at = raw.find("\r\n\r\n").unwrap() + 4;
        let mut c = Conn::open(gw.addr);
        c.send(&raw.as_bytes()[..body_at]);
        // Three bytes a write: cut inside chunk-size lines, extensions,
        // data, CRLFs and the trailer; a pause lets each arrive alone.
        for piece in raw.as_bytes()[body_at..].chunks(3) {
            c.send(piece);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let r = c.read();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, body);
    }

    fn expect_100_continue_works_for_a_chunked_body(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(String::from_utf8_lossy(&s.body).into_owned()));
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let raw = Signed::new("POST", "/demo/up")
            .body(b"after the interim answer")
            .chunked(10, "Expect: 100-continue\r\n");
        let body_at = raw.find("\r\n\r\n").unwrap() + 4;
        let mut c = Conn::open(gw.addr);
        c.send(&raw.as_bytes()[..body_at]);
        assert_eq!(c.read().status, 100);
        c.send(&raw.as_bytes()[body_at..]);
        let r = c.read();
        assert_eq!((r.status, r.text().as_str()), (200, "after the interim answer"));
        assert!(up.next().header("expect").is_none());
        // A tampered body after 100 Continue is still refused.
        let tampered = raw.replacen("after", "AFTER", 1);
        let mut c = Conn::open(gw.addr);
        c.send(&tampered.as_bytes()[..body_at]);
        assert_eq!(c.read().status, 100);
        c.send(&tampered.as_bytes()[body_at..]);
        assert_eq!(c.read().status, 401);
    }

    fn a_bad_key_date_or_grant_is_refused_before_the_body_is_read(driver) {
        // The client waits for 100 Continue: a refusal comes instead, and
        // the gateway never asked for (or buffered) the body.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let req = Signed::new("POST", "/demo/up").body(&[b'x'; 100_000]);
        let cases = [
            (req.raw_with("unknownkey", SECRET, unix_now()), "app not found"),
            (req.raw_with(KEY, SECRET, unix_now() - 3600), "signature expired"),
            (req.raw_with("otherkey", "othersecret", unix_now()), "not authorized"),
        ];
        for (raw, why) in cases {
            let raw = raw.replacen("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n", 1);
            let body_at = raw.find("\r\n\r\n").unwrap() + 4;
            let mut c = Conn::open(gw.addr);
            c.send(&raw.as_bytes()[..body_at]);
            let r = c.read();
            assert!(matches!(r.status, 401 | 403), "{why}: {}", r.status);
            assert!(r.text().contains(why), "{why}: {}", r.text());
        }
        assert!(up.seen.try_recv().is_err());
    }

    fn the_signed_host_is_the_host_the_request_is_routed_by(driver) {
        // An absolute-form target names the host the request goes to
        // (RFC 9112 §3.2.2): a signature for api.example.com in Host does
        // not carry a request to another host.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let raw = Signed::new("GET", "/demo").raw();
        assert_eq!(request(gw.addr, &raw).status, 200);
        up.next();
        let elsewhere = raw.replacen("GET /demo ", "GET http://other.example/demo ", 1);
        let r = request(gw.addr, &elsewhere);
        assert_eq!(r.status, 401, "{}", r.text());
        assert!(r.text().contains("verify signature fail"), "{}", r.text());
        let same = raw.replacen("GET /demo ", "GET http://api.example.com/demo ", 1);
        assert_eq!(request(gw.addr, &same).status, 200);
    }

    fn an_empty_body_declares_unsigned_payload_or_its_hash_only(driver) {
        // app-signing.md §8: X-Sdk-Content-Sha256 holds UNSIGNED-PAYLOAD or
        // the body's hash; any other value is refused even when the empty
        // body's own hash would verify.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let bogus = Signed::new("GET", "/demo").header("X-Sdk-Content-Sha256", "bogus").raw();
        let r = request(gw.addr, &bogus);
        assert_eq!(r.status, 401, "{}", r.text());
        assert!(r.text().contains("x-sdk-content-sha256 does not match"), "{}", r.text());
        let hash = std::str::from_utf8(&signature::sha256_hex(b"")).unwrap().to_string();
        let declared = Signed::new("GET", "/demo").header("X-Sdk-Content-Sha256", &hash).raw();
        assert_eq!(request(gw.addr, &declared).status, 200);
    }

    fn the_window_edges_are_exactly_fifteen_minutes(driver) {
        // On a manual clock: ±900 s verify, ±901 s do not (app-signing.md §6).
        let now = 1_790_000_000;
        let clock = std::sync::Arc::new(tollgate::clock::ManualClock::at_unix(now));
        let up = TestUpstream::ok();
        let gw = TestGateway::one_clocked(driver, &config(up.addr, ""), clock);
        let req = Signed::new("GET", "/demo");
        for offset in [-900, 900] {
            let r = request(gw.addr, &req.raw_with(KEY, SECRET, now + offset));
            assert_eq!(r.status, 200, "offset {offset}: {}", r.text());
        }
        for offset in [-901, 901] {
            let r = request(gw.addr, &req.raw_with(KEY, SECRET, now + offset));
            assert_eq!(r.status, 401, "offset {offset}");
            assert!(r.text().contains("signature expired"), "{}", r.text());
        }
    }

    fn underscore_headers_signed_by_the_apig_signer_verify(driver) {
        // app-signing.md §10: the APIG SDK signer signs `x_custom`; the
        // gateway must verify it as received (no nginx-style dropping).
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let raw = Signed::new("GET", "/demo").header("x_custom", "v1").raw();
        assert!(raw.contains("SignedHeaders=host;x-sdk-date;x_custom,"), "{raw}");
        assert_eq!(request(gw.addr, &raw).status, 200);
        assert_eq!(up.next().header("x_custom"), Some("v1"));
        let tampered = raw.replacen("x_custom: v1", "x_custom: v2", 1);
        assert_eq!(request(gw.addr, &tampered).status, 401);
        // regression: issue 13 item 6 — an underscore spelling of a header
        // the gateway owns is verified as signed, then not forwarded.
        let raw = Signed::new("GET", "/demo").header("x_real_ip", "10.9.8.7").raw();
        assert_eq!(request(gw.addr, &raw).status, 200);
        assert_eq!(up.next().header("x_real_ip"), None);
    }

    fn a_signature_takes_precedence_over_an_app_code(driver) {
        // With both credentials, the signature is what is checked.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, "app_code_over_http = true"));
        let with_code = |raw: String| raw.replacen("\r\n", &format!("\r\nX-Apig-AppCode: {CODE}\r\n"), 1);
        let good = Signed::new("GET", "/demo").raw();
        assert_eq!(request(gw.addr, &with_code(good)).status, 200);
        let bad = Signed::new("GET", "/demo").raw_with(KEY, "wrong-secret", unix_now());
        assert_eq!(request(gw.addr, &with_code(bad)).status, 401);
        // The AppCode alone passes.
        let code_only = format!("GET /demo HTTP/1.1\r\nHost: h\r\nX-Apig-AppCode: {CODE}\r\n\r\n");
        assert_eq!(request(gw.addr, &code_only).status, 200);
    }

    fn repeated_signed_header_names_are_refused(driver) {
        // A repeated name would repeat the header's value in the canonical
        // request: a small request could build a huge one.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        let names = ["x-a"; 4].join(";");
        let raw = format!(
            "GET /demo HTTP/1.1\r\nHost: h\r\nX-A: {}\r\nX-Sdk-Date: {}\r\n\
             Authorization: SDK-HMAC-SHA256 Access={KEY}, SignedHeaders=host;{names};x-sdk-date, Signature=00\r\n\r\n",
            "v".repeat(1000),
            signature::format_sdk_date(unix_now())
        );
        request(gw.addr, &raw).assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: invalid authorization",
        );
    }

    fn no_credentials_render_as_identity_source_not_found(driver) {
        // §27 C30: AUTH_HEADER_MISSING, not AUTH_FAILURE.
        let up = TestUpstream::ok();
        let responses = "[group.responses.default.AUTH_HEADER_MISSING]\nstatus = 401\nbody = '{\"missing\": \"$context.error.code\"}'\n";
        let config = config(up.addr, "").replacen("[[group.api]]", &format!("{responses}\n[[group.api]]"), 1);
        let gw = TestGateway::one(driver, &config);
        let r = get(gw.addr, "/demo");
        assert_eq!((r.status, r.text().as_str()), (401, "{\"missing\": \"APIG.0303\"}"));
        // A wrong signature is still AUTH_FAILURE (the default body).
        let wrong = Signed::new("GET", "/demo").raw_with(KEY, "not-the-secret", unix_now());
        assert!(request(gw.addr, &wrong).text().contains("error_code"));
    }

    fn app_codes_need_https_unless_allowed(driver) {
        let up = TestUpstream::ok();
        let code = format!("GET /demo HTTP/1.1\r\nHost: a\r\nX-Apig-AppCode: {CODE}\r\n\r\n");
        let strict = TestGateway::one(driver, &config(up.addr, ""));
        request(strict.addr, &code).assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: AppCodes are accepted over HTTPS only",
        );
        let open = TestGateway::one(driver, &config(up.addr, "app_code_over_http = true"));
        let r = request(open.addr, &code);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(up.next().header("x-app-id"), Some("demo-id"));
        let wrong = code.replace(&CODE[..8], "AAAAAAAA");
        request(open.addr, &wrong).assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: app code not found",
        );
    }
}

#[test]
fn app_and_auth_mistakes_are_check_errors() {
    let toml = "[[listener]]\naddress = \"127.0.0.1:0\"\n\
        [[app]]\nname = \"a\"\nkey = \"k\"\nsecret = \"\"\napp_codes = [\"short\"]\n\
        [[app]]\nname = \"a\"\nkey = \"k\"\nsecret = \"s\"\n\
        [[group]]\nname = \"DEFAULT\"\n\
        [[group.api]]\nname = \"x\"\nmethod = \"GET\"\npath = \"/\"\n\
        [group.api.auth]\ntype = \"app\"\napp_code_over_http = true\ngrants = { RELEASE = [\"ghost\"], NOPE = [\"a\"] }\n\
        [group.api.backend]\ntype = \"mock\"\n\
        [[group.api]]\nname = \"y\"\nmethod = \"GET\"\npath = \"/y\"\n\
        [group.api.auth]\ntype = \"iam\"\n\
        [group.api.backend]\ntype = \"mock\"\n";
    assert_config_errors(
        toml,
        &[
            "app[0].secret",
            "app[0].app_codes[0]",
            "app[1].name",
            "app[1].key",
            "group[0].api[0].auth.app_code_over_http",
            "group[0].api[0].auth.grants.RELEASE",
            "group[0].api[0].auth.grants.NOPE",
            "group[0].api[1].auth.type",
        ],
    );
}
