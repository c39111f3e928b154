//! App signature verification (app-signing.md): a typical signed GET and a
//! 4 KiB POST, each from a parsed request head to the constant-time MAC
//! check (the body is hashed in 1 KiB pieces, as it streams); and the same
//! two through `app::authenticate`, the work a worker does per
//! app-authenticated request once the body is buffered (app lookup, date
//! window, payload line, canonical request, MAC, grant).
//!
//! Token verification (behaviour.md §11.6): an HS256, an RS256 and an ES256
//! token with typical claims, from the compact string to the caller, and
//! the same tokens through `jsonwebtoken::decode` (the crate not chosen
//! for the request path) for comparison.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench code

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_main};
use tollgate::http::{HeadLimits, RequestHead, parse_request};
use tollgate::policy::auth::app::{self, App, AppAuth, Apps, Scene};
use tollgate::policy::auth::signature::{
    BodyHash, HeaderValue, MacKey, RequestParts, canonical_request, matches, parse_authorization,
    parse_sdk_date, signature_hex,
};

const SECRET: &[u8] = b"9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a";
const DATE: &[u8] = b"20240315T083000Z";
const LIMITS: HeadLimits = HeadLimits {
    max_uri_bytes: 32 * 1024,
    max_header_bytes: 32 * 1024,
    max_headers_total_bytes: 128 * 1024,
    max_body_bytes: 12 * 1024 * 1024,
};
const SIGNED: &str = "content-type;host;user-agent;x-sdk-date;x-stage";

/// A request head as an SDK client sends it, with `signature`.
fn head(method: &str, len: usize, signature: &str) -> RequestHead {
    let raw = format!(
        "{method} /v1/orders/42/items?limit=20&offset=40&sort=desc HTTP/1.1\r\n\
         Host: api.example.com\r\nX-Sdk-Date: 20240315T083000Z\r\nx-stage: RELEASE\r\n\
         Content-Type: application/json\r\nUser-Agent: huaweicloud-usdk-python/3.0\r\n\
         Accept: */*\r\nContent-Length: {len}\r\n\
         Authorization: SDK-HMAC-SHA256 Access=4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e, SignedHeaders={SIGNED}, Signature={signature}\r\n\r\n"
    );
    let mut buf = BytesMut::from(raw.as_bytes());
    parse_request(&mut buf, &LIMITS).unwrap().unwrap()
}

/// The canonical request of `head` and `body` into `cr`; the claimed
/// signature.
fn canonical<'h>(head: &'h RequestHead, body: &[u8], cr: &mut BytesMut) -> &'h [u8] {
    let value = head.values(b"authorization").next().unwrap();
    let auth = parse_authorization(value).unwrap();
    let mut hash = BodyHash::default();
    for piece in body.chunks(1024) {
        hash.update(piece);
    }
    let req = RequestParts {
        method: head.slice(head.method_span),
        path: head.slice(head.path),
        query: head.query.map(|q| head.slice(q)),
        headers: |name: &[u8]| HeaderValue::of(head.values(name)),
    };
    cr.clear();
    canonical_request(cr, &req, &auth, &hash.finish()).unwrap();
    auth.signature
}

/// A head whose signature is right for `body`.
fn signed(method: &str, body: &[u8]) -> RequestHead {
    let mut cr = BytesMut::new();
    let unsigned = head(method, body.len(), &"0".repeat(64));
    canonical(&unsigned, body, &mut cr);
    let sig = signature_hex(SECRET, DATE, &cr).unwrap();
    head(method, body.len(), std::str::from_utf8(&sig).unwrap())
}

/// Verifies with the app's HMAC keyed once, as `App` holds it.
fn verify(key: &MacKey, head: &RequestHead, body: &[u8], cr: &mut BytesMut) -> bool {
    let claimed = canonical(head, body, cr);
    key.matches(DATE, cr, claimed)
}

fn bench_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("app_signature");
    group.throughput(Throughput::Elements(1));
    let mut cr = BytesMut::with_capacity(1024);
    let key = MacKey::try_new(SECRET).unwrap();
    let get = signed("GET", b"");
    assert!(verify(&key, &get, b"", &mut cr));
    let claimed = canonical(&get, b"", &mut cr);
    assert!(matches(SECRET, DATE, &cr, claimed), "keyed on the spot too");
    group.bench_function("verify_get", |b| {
        b.iter(|| black_box(verify(&key, black_box(&get), b"", &mut cr)))
    });
    let body = vec![b'x'; 4096];
    let post = signed("POST", &body);
    assert!(verify(&key, &post, &body, &mut cr));
    assert!(
        !verify(&key, &post, &body[1..], &mut cr),
        "a changed body fails"
    );
    group.bench_function("verify_post_4k", |b| {
        b.iter(|| black_box(verify(&key, &post, black_box(&body), &mut cr)))
    });
    group.finish();
}

/// `head` (with `body`) through app authentication: the app's index.
fn authenticate(
    apps: &Apps,
    auth: &AppAuth,
    head: &RequestHead,
    body: &[u8],
    cr: &mut BytesMut,
) -> Option<u32> {
    let hash = (!body.is_empty()).then(|| {
        let mut hash = BodyHash::default();
        hash.update(body);
        hash.finish()
    });
    let mut scene = Scene {
        tls: false,
        stage: 0,
        now_unix: parse_sdk_date(DATE).unwrap(),
        body_sha256: hash.as_ref(),
        scratch: cr,
    };
    app::authenticate(auth, apps, head, &mut scene)
        .ok()
        .map(|(id, _)| id)
}

fn bench_authenticate(c: &mut Criterion) {
    let mut group = c.benchmark_group("app_authenticate");
    group.throughput(Throughput::Elements(1));
    let mut apps = Apps::default();
    let key = b"4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e";
    let id = apps.insert(App::new("demo", key, SECRET, true), &[]);
    let auth = AppAuth {
        require_signed_host: true,
        grants: vec![vec![id]],
        ..AppAuth::default()
    };
    let mut cr = BytesMut::with_capacity(1024);
    let get = signed("GET", b"");
    assert_eq!(authenticate(&apps, &auth, &get, b"", &mut cr), Some(id));
    group.bench_function("get", |b| {
        b.iter(|| black_box(authenticate(&apps, &auth, black_box(&get), b"", &mut cr)))
    });
    let body = vec![b'x'; 4096];
    let post = signed("POST", &body);
    assert_eq!(authenticate(&apps, &auth, &post, &body, &mut cr), Some(id));
    assert_eq!(authenticate(&apps, &auth, &post, &body[1..], &mut cr), None);
    group.bench_function("post_4k", |b| {
        b.iter(|| black_box(authenticate(&apps, &auth, &post, black_box(&body), &mut cr)))
    });
    group.finish();
}

mod token {
    use std::hint::black_box;

    use aws_lc_rs::hmac;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256,
    };
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use bytes::BytesMut;
    use criterion::{Criterion, Throughput};
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use tollgate::policy::auth::token::{Alg, ClaimNames, TokenIssuer, TokenKey, verify};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// The claims jsonwebtoken deserializes (what the gateway extracts).
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Claims {
        sub: String,
        tenant_id: String,
        account_name: String,
        exp: u64,
    }

    fn token(alg: &str, sign: impl Fn(&[u8]) -> Vec<u8>, exp: i64) -> String {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"k1"}}"#);
        let claims = format!(
            r#"{{"iss":"https://id.example.com","sub":"5f2b3c9e-user","tenant_id":"0a1b2c3d4e5f","account_name":"acme","iat":{},"exp":{exp},"scope":"read write"}}"#,
            exp - 3600
        );
        let signed = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let sig = sign(signed.as_bytes());
        format!("{signed}.{}", B64.encode(sig))
    }

    fn issuer(key: TokenKey) -> TokenIssuer {
        TokenIssuer {
            name: "bench".into(),
            issuer: Some("https://id.example.com".into()),
            audience: Vec::new(),
            leeway_s: 60,
            claims: ClaimNames::default(),
            keys: vec![key],
        }
    }

    pub fn bench(c: &mut Criterion) {
        // jsonwebtoken reads the system clock: the tokens must be valid now.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let rng = SystemRandom::new();
        let hs = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let ec =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let rsa_public = rsa.public_key().as_ref().to_vec();
        let ec_public = ec.public_key().as_ref().to_vec();
        let cases = [
            (
                "hs256",
                token(
                    "HS256",
                    |m| hmac::sign(&hs, m).as_ref().to_vec(),
                    now + 3600,
                ),
                TokenKey::hs256(Some("k1"), SECRET),
                DecodingKey::from_secret(SECRET),
                Algorithm::HS256,
            ),
            (
                "rs256",
                token(
                    "RS256",
                    |m| {
                        let mut sig = vec![0; rsa.public_modulus_len()];
                        rsa.sign(&RSA_PKCS1_SHA256, &rng, m, &mut sig).unwrap();
                        sig
                    },
                    now + 3600,
                ),
                TokenKey::public(Some("k1"), Alg::Rs256, &rsa_public).unwrap(),
                DecodingKey::from_rsa_der(&rsa_public),
                Algorithm::RS256,
            ),
            (
                "es256",
                token(
                    "ES256",
                    |m| ec.sign(&rng, m).unwrap().as_ref().to_vec(),
                    now + 3600,
                ),
                TokenKey::public(Some("k1"), Alg::Es256, &ec_public).unwrap(),
                DecodingKey::from_ec_der(&ec_public),
                Algorithm::ES256,
            ),
        ];
        let mut group = c.benchmark_group("token");
        group.throughput(Throughput::Elements(1));
        let mut scratch = BytesMut::with_capacity(1024);
        for (name, jwt, key, jwt_key, alg) in cases {
            let iss = issuer(key);
            let caller = verify(&iss, jwt.as_bytes(), now, &mut scratch).unwrap();
            assert_eq!(caller.account_name.as_deref(), Some("acme"));
            let mut tampered = jwt.clone().into_bytes();
            let at = tampered.len() / 2;
            tampered[at] ^= 1;
            assert!(verify(&iss, &tampered, now, &mut scratch).is_err());
            group.bench_function(format!("verify_{name}"), |b| {
                b.iter(|| black_box(verify(&iss, black_box(jwt.as_bytes()), now, &mut scratch)))
            });
            let mut validation = Validation::new(alg);
            validation.set_issuer(&["https://id.example.com"]);
            validation.validate_aud = false;
            assert!(jsonwebtoken::decode::<Claims>(&jwt, &jwt_key, &validation).is_ok());
            group.bench_function(format!("jsonwebtoken_{name}"), |b| {
                b.iter(|| {
                    black_box(jsonwebtoken::decode::<Claims>(
                        black_box(&jwt),
                        &jwt_key,
                        &validation,
                    ))
                })
            });
        }
        group.finish();
    }
}

/// Private, so the `pub fn` the macro writes needs no doc comment.
mod group {
    criterion::criterion_group!(
        benches,
        super::bench_verify,
        super::bench_authenticate,
        super::token::bench
    );
}
criterion_main!(group::benches);
