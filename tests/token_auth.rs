//! Token authentication (behaviour.md §11.6) and account access control
//! (§15) over real sockets: HS256, RS256 (PEM public key) and ES256
//! (certificate PEM) tokens signed by an independent JWT library pass and
//! their claims reach the backend as system parameters; every broken
//! token is 401 APIG.0301, an expired one 401 APIG.0307 at the leeway's
//! edge on a manual clock; a JWKS file's keys are chosen by `kid`; account
//! policies allow and deny with 403 APIG.0302. Keys: tests/data/token
//! (gen.sh).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use tollgate::clock::ManualClock;

/// The gateway's wall clock in these tests.
const NOW: i64 = 1_710_491_400;
const SECRET: &str = "tollgate-test-secret-0123456789abcdef";
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/token");
const BAD: &str = "Incorrect IAM authentication information.";
const EXPIRED: &str = "The token must be updated.";
const DENIED: &str = "The IAM user is not authorized to access the API.";

fn config(upstream: SocketAddr) -> String {
    format!(
        r#"
[[stage]]
name = "TEST"

[[token_issuer]]
name = "corp"
issuer = "https://id.example.com"
audience = ["tollgate", "other"]
leeway_s = 60
[[token_issuer.key]]
id = "hs-1"
alg = "HS256"
secret = "{SECRET}"
[[token_issuer.key]]
alg = "RS256"
pem = "{DATA}/rs256.pub.pem"
[[token_issuer.key]]
alg = "ES256"
pem = "{DATA}/es256.cert.pem"

[[token_issuer]]
name = "jwks"
jwks = "{DATA}/jwks.json"

[[acl]]
name = "acme-only"
type = "account"
effect = "allow"
values = ["acme"]

[[acl]]
name = "no-evil"
type = "account"
effect = "deny"
values = ["evil", "worse"]

[[group]]
name = "DEFAULT"

[[group.api]]
name = "corp"
method = "ANY"
path = "/corp"
match = "prefix"
stages = ["RELEASE", "TEST"]
acl = {{ TEST = "acme-only" }}
[group.api.auth]
type = "token"
token_issuer = "corp"
[group.api.backend]
type = "http"
address = "{upstream}"
timeout_ms = 2000
[[group.api.backend.system]]
name = "x-tenant"
location = "HEADER"
from = "tenantId"
[[group.api.backend.system]]
name = "x-user"
location = "HEADER"
from = "userId"
[[group.api.backend.system]]
name = "account"
location = "QUERY"
from = "accountName"

[[group.api]]
name = "jwks"
method = "GET"
path = "/jwks"
acl = {{ RELEASE = "no-evil" }}
[group.api.auth]
type = "token"
token_issuer = "jwks"
[group.api.backend]
type = "mock"
body = "ok"
"#
    )
}

/// A gateway on `config` whose clock stands at [`NOW`].
fn gateway(driver: &str, upstream: SocketAddr) -> (TestGateway, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_unix(NOW));
    (
        TestGateway::one_clocked(driver, &config(upstream), clock.clone()),
        clock,
    )
}

/// Claims the `corp` issuer accepts, with `changes` applied (`null`
/// removes a claim).
fn claims(changes: Value) -> Value {
    let mut c = json!({
        "iss": "https://id.example.com",
        "aud": "tollgate",
        "sub": "alice",
        "tenant_id": "t-1",
        "account_name": "acme",
        "iat": NOW,
        "exp": NOW + 300,
    });
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn private_der(file: &str) -> Vec<u8> {
    let key = PrivateKeyDer::from_pem_file(format!("{DATA}/{file}")).unwrap();
    key.secret_der().to_vec()
}

/// A token signed by jsonwebtoken (an independent implementation).
fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::RS256 => EncodingKey::from_rsa_der(&private_der("rs256.key.pem")),
        Algorithm::ES256 => EncodingKey::from_ec_der(&private_der("es256.key.pem")),
        other => panic!("no test key for {other:?}"),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// A token with a hand-written header, signed with HMAC over `secret`.
fn hand_made(header: &str, claims: &Value, secret: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let signed = format!("{}.{}", B64.encode(header), B64.encode(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let sig = aws_lc_rs::hmac::sign(&key, signed.as_bytes());
    format!("{signed}.{}", B64.encode(sig.as_ref()))
}

fn get(addr: SocketAddr, target: &str, headers: &str) -> Response {
    request(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: t\r\n{headers}\r\n"),
    )
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

driver_tests! {
    fn tokens_of_every_algorithm_pass_and_name_the_caller(driver) {
        let up = TestUpstream::ok();
        let (gw, _clock) = gateway(driver, up.addr);
        let c = claims(json!({}));
        for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256] {
            let r = get(gw.addr, "/corp/items?x=1", &bearer(&sign(alg, None, &c)));
            assert_eq!(r.status, 200, "{alg:?}: {}", r.text());
            let seen = up.next();
            assert_eq!(seen.header("x-tenant"), Some("t-1"), "{alg:?}");
            assert_eq!(seen.header("x-user"), Some("alice"));
            assert!(seen.target.ends_with("?x=1&account=acme"), "{}", seen.target);
        }
        // X-Auth-Token works too; the kid names the HS256 key.
        let token = sign(Algorithm::HS256, Some("hs-1"), &claims(json!({"aud": ["x", "other"]})));
        let r = get(gw.addr, "/corp", &format!("X-Auth-Token: {token}\r\n"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(up.next().header("x-user"), Some("alice"));
    }

    fn broken_tokens_are_apig_0301(driver) {
        let up = TestUpstream::ok();
        let (gw, _clock) = gateway(driver, up.addr);
        let refused = |headers: &str, why: &str| {
            let r = get(gw.addr, "/corp", headers);
            assert_eq!(r.status, 401, "{why}: {}", r.text());
            r.assert_apig(401, "APIG.0301", BAD);
        };
        refused("", "no token");
        refused("Authorization: Basic dXNlcjpwYXNz\r\n", "another scheme");
        let good = sign(Algorithm::ES256, None, &claims(json!({})));
        // Claims of another token under this one's signature.
        let other = sign(Algorithm::ES256, None, &claims(json!({"sub": "mallory"})));
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap();
        refused(&bearer(&parts.join(".")), "bad signature");
        refused(&bearer(&format!("{good}x")), "trailing garbage");
        refused(&bearer(&good[..good.len() - 4]), "truncated");
        refused(&format!("{}X-Auth-Token: {good}\r\n", bearer(&good)), "both headers");
        // alg none, unsupported algorithms, and the RS256 public key used
        // as an HMAC secret (algorithm confusion).
        let c = claims(json!({}));
        refused(&bearer(&hand_made(r#"{"alg":"none"}"#, &c, b"")), "alg none");
        refused(&bearer(&hand_made(r#"{"alg":"HS512"}"#, &c, SECRET.as_bytes())), "HS512");
        let public = std::fs::read(format!("{DATA}/rs256.pub.pem")).unwrap();
        refused(&bearer(&hand_made(r#"{"alg":"HS256"}"#, &c, &public)), "confusion");
        refused(&bearer(&hand_made(r#"{"alg":"RS256"}"#, &c, &public)), "RS256 by HMAC");
        refused(&bearer(&sign(Algorithm::HS256, Some("nope"), &c)), "unknown kid");
        for (change, why) in [
            (json!({"iss": "https://evil.example.com"}), "wrong iss"),
            (json!({"iss": null}), "no iss"),
            (json!({"aud": "someone-else"}), "wrong aud"),
            (json!({"aud": null}), "no aud"),
            (json!({"nbf": NOW + 61}), "nbf in the future"),
            (json!({"exp": null}), "no exp"),
            (json!({"exp": "tomorrow"}), "exp not a number"),
        ] {
            refused(&bearer(&sign(Algorithm::HS256, None, &claims(change))), why);
        }
        // nbf within the leeway passes.
        let soon = sign(Algorithm::HS256, None, &claims(json!({"nbf": NOW + 60})));
        assert_eq!(get(gw.addr, "/corp", &bearer(&soon)).status, 200);
    }

    fn expired_tokens_are_apig_0307_past_the_leeway(driver) {
        let up = TestUpstream::ok();
        let (gw, clock) = gateway(driver, up.addr);
        let at = |exp: i64| bearer(&sign(Algorithm::HS256, None, &claims(json!({"exp": exp}))));
        // Valid while now < exp + 60 s.
        assert_eq!(get(gw.addr, "/corp", &at(NOW - 59)).status, 200);
        get(gw.addr, "/corp", &at(NOW - 60)).assert_apig(401, "APIG.0307", EXPIRED);
        get(gw.addr, "/corp", &at(NOW - 86_400)).assert_apig(401, "APIG.0307", EXPIRED);
        // The same token expires as the gateway's clock moves on.
        let token = at(NOW + 10);
        assert_eq!(get(gw.addr, "/corp", &token).status, 200);
        clock.advance(Duration::from_secs(69));
        assert_eq!(get(gw.addr, "/corp", &token).status, 200);
        clock.advance(Duration::from_secs(1));
        get(gw.addr, "/corp", &token).assert_apig(401, "APIG.0307", EXPIRED);
    }

    fn jwks_keys_are_chosen_by_kid(driver) {
        let (gw, _clock) = gateway(driver, dead_addr());
        let c = json!({"sub": "bob", "account_name": "good", "exp": NOW + 60});
        for (alg, kid) in [
            (Algorithm::RS256, Some("rsa-1")),
            (Algorithm::ES256, Some("ec-1")),
            (Algorithm::RS256, None),
            (Algorithm::ES256, None),
        ] {
            let r = get(gw.addr, "/jwks", &bearer(&sign(alg, kid, &c)));
            assert_eq!((r.status, r.text()), (200, "ok".into()), "{alg:?} {kid:?}");
        }
        // The encryption key and unknown ids verify nothing; nor does the
        // HS256 secret of another issuer.
        for (alg, kid) in [
            (Algorithm::RS256, Some("rsa-enc")),
            (Algorithm::RS256, Some("ec-1")),
            (Algorithm::ES256, Some("gone")),
            (Algorithm::HS256, None),
        ] {
            get(gw.addr, "/jwks", &bearer(&sign(alg, kid, &c))).assert_apig(401, "APIG.0301", BAD);
        }
    }

    fn account_policies_allow_and_deny_after_authentication(driver) {
        let up = TestUpstream::ok();
        let (gw, _clock) = gateway(driver, up.addr);
        let test_stage = |account: Value| {
            let token = sign(Algorithm::HS256, None, &claims(json!({"account_name": account})));
            get(gw.addr, "/corp", &format!("X-Stage: TEST\r\n{}", bearer(&token)))
        };
        // TEST allows only acme; the tenant ID stands in for a missing
        // account name.
        assert_eq!(test_stage(json!("acme")).status, 200);
        test_stage(json!("initech")).assert_apig(403, "APIG.0302", DENIED);
        test_stage(json!("ACME")).assert_apig(403, "APIG.0302", DENIED);
        assert_eq!(test_stage(json!(null)).status, 403, "tenant t-1 is not acme");
        let tenant_acme = sign(
            Algorithm::HS256,
            None,
            &claims(json!({"account_name": null, "tenant_id": "acme"})),
        );
        let r = get(gw.addr, "/corp", &format!("X-Stage: TEST\r\n{}", bearer(&tenant_acme)));
        assert_eq!(r.status, 200, "{}", r.text());
        // Authentication comes first: no token is 401, not 403.
        get(gw.addr, "/corp", "X-Stage: TEST\r\n").assert_apig(401, "APIG.0301", BAD);
        // The deny list of /jwks.
        let es = |account: &str| {
            let c = json!({"account_name": account, "exp": NOW + 60});
            get(gw.addr, "/jwks", &bearer(&sign(Algorithm::ES256, Some("ec-1"), &c)))
        };
        assert_eq!(es("good").status, 200);
        es("evil").assert_apig(403, "APIG.0302", DENIED);
        es("worse").assert_apig(403, "APIG.0302", DENIED);
        let anonymous = json!({"sub": "x", "exp": NOW + 60});
        get(gw.addr, "/jwks", &bearer(&sign(Algorithm::ES256, None, &anonymous)))
            .assert_apig(403, "APIG.0302", DENIED);
    }
}

#[test]
fn token_mistakes_are_check_errors() {
    let toml = format!(
        r#"[[listener]]
address = "127.0.0.1:0"

[[token_issuer]]
name = "a"
leeway_s = 601
tenant_claim = "exp"
[[token_issuer.key]]
alg = "HS256"
[[token_issuer.key]]
alg = "HS256"
secret = "short"
[[token_issuer.key]]
alg = "RS256"
secret = "0123456789abcdef0123456789abcdef"
[[token_issuer.key]]
alg = "ES384"
[[token_issuer.key]]
alg = "ES256"

[[token_issuer]]
name = "a"

[[token_issuer]]
name = "files"
jwks = "{DATA}/rs256.pub.pem"
[[token_issuer.key]]
id = "k"
alg = "RS256"
pem = "{DATA}/missing.pem"
[[token_issuer.key]]
id = "k"
alg = "RS256"
pem = "{DATA}/es256.cert.pem"
[[token_issuer.key]]
alg = "ES256"
pem = "{DATA}/jwks.json"
[[token_issuer.key]]
alg = "ES256"
pem = "{DATA}/es256.key.pem"

[[acl]]
name = "accounts"
type = "account"
effect = "allow"
values = ["aaa,bbb", " c"]

[[group]]
name = "DEFAULT"
[[group.api]]
name = "no-issuer"
method = "GET"
path = "/a"
[group.api.auth]
type = "token"
[group.api.backend]
type = "mock"
[[group.api]]
name = "ghost"
method = "GET"
path = "/b"
[group.api.auth]
type = "token"
token_issuer = "ghost"
[group.api.backend]
type = "mock"
[[group.api]]
name = "app-with-issuer"
method = "GET"
path = "/c"
acl = {{ RELEASE = "accounts" }}
[group.api.auth]
type = "app"
token_issuer = "a"
[group.api.backend]
type = "mock"
"#
    );
    assert_config_errors(
        &toml,
        &[
            "token_issuer[0].leeway_s",
            "token_issuer[0].tenant_claim",
            "token_issuer[0].key[0].secret",
            "token_issuer[0].key[1].secret",
            "token_issuer[0].key[2].secret",
            "token_issuer[0].key[3].alg",
            "token_issuer[0].key[4].pem",
            "token_issuer[1].name",
            "token_issuer[1]",
            "token_issuer[2].jwks",
            "token_issuer[2].key[0].pem",
            "token_issuer[2].key[1].id",
            "token_issuer[2].key[1].pem",
            "token_issuer[2].key[2].pem",
            "token_issuer[2].key[3].pem",
            "acl[0].values[0]",
            "acl[0].values[1]",
            "group[0].api[0].auth.token_issuer",
            "group[0].api[1].auth.token_issuer",
            "group[0].api[2].auth.token_issuer",
            "group[0].api[2].acl.RELEASE",
        ],
    );
    let errs = tollgate::control::load(&toml).err().unwrap();
    let message = |path: &str| {
        let e = errs.iter().find(|e| e.path == path).unwrap();
        format!("{}: {}", e.message, e.fix)
    };
    assert!(message("token_issuer[2].key[3].pem").contains("private key"));
    assert!(message("token_issuer[2].key[1].pem").contains("RS256"));
    assert!(message("group[0].api[2].acl.RELEASE").contains("token"));
}

#[test]
fn a_jwks_without_usable_keys_is_a_check_error() {
    let dir = pki::temp_dir("jwks");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let cases = [
        ("empty.json", r#"{"keys": []}"#, "no RS256"),
        (
            "enc.json",
            r#"{"keys": [{"kty": "oct", "use": "enc", "k": "AAAA"}]}"#,
            "no RS256",
        ),
        (
            "short.json",
            r#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#,
            "at least 32",
        ),
        (
            "mixed.json",
            r#"{"keys": [{"kty": "EC", "crv": "P-256", "alg": "RS256", "x": "", "y": ""}]}"#,
            "does not fit",
        ),
        (
            "point.json",
            r#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}"#,
            "32 bytes",
        ),
        ("nokeys.json", r#"{"k": 1}"#, "not a JSON Web Key Set"),
    ];
    for (name, text, why) in cases {
        let toml = format!(
            "[[listener]]\naddress = \"127.0.0.1:0\"\n[[token_issuer]]\nname = \"x\"\njwks = \"{}\"\n",
            write(name, text)
        );
        let errs = tollgate::control::load(&toml).err().unwrap_or_default();
        assert!(
            errs.iter()
                .any(|e| e.path == "token_issuer[0].jwks" && e.message.contains(why)),
            "{name}: {errs:#?}"
        );
    }
}

#[test]
fn an_issuer_with_too_many_keys_is_a_check_error() {
    // A token without `kid` is tried against every key: the count is capped.
    let keys: String = (0..33)
        .map(|k| {
            format!("[[token_issuer.key]]\nid = \"k{k}\"\nalg = \"HS256\"\nsecret = \"{SECRET}\"\n")
        })
        .collect();
    let toml = format!(
        "[[token_issuer]]\nname = \"many\"\n{keys}\n[[group]]\nname = \"DEFAULT\"\n\
         [[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n\
         [group.api.auth]\ntype = \"token\"\ntoken_issuer = \"many\"\n\
         [group.api.backend]\ntype = \"mock\"\n"
    );
    assert_config_errors(&toml, &["token_issuer[0].jwks"]);
}
