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
        raw.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        raw.push_str(std::str::from_utf8(&self.body).unwrap());
        raw
    }

    fn raw(&self) -> String {
        self.raw_with(KEY, SECRET, unix_now())
    }
}

const AUTH_FAIL: &str = "Incorrect app authentication information: verify signature fail";

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
            request(gw.addr, raw).assert_apig(401, "APIG.0303", AUTH_FAIL);
        }
        assert_eq!(request(gw.addr, &good).status, 200);
        // An unknown key, and no credentials at all.
        let stranger = Signed::new("GET", "/demo").raw_with("nobody", SECRET, unix_now());
        request(gw.addr, &stranger).assert_apig(
            401,
            "APIG.0303",
            "Incorrect app authentication information: app not found",
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
            request(gw.addr, &req.raw_with(KEY, SECRET, now + offset)).assert_apig(
                401,
                "APIG.0303",
                "Incorrect app authentication information: signature expired",
            );
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
