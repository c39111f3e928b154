//! Token authentication on arbitrary bytes (behaviour.md §11.6). The first
//! byte picks what the rest is:
//!
//! * `0`: a compact token, verified as received (forms, base64url, JSON,
//!   algorithm and key selection; signatures almost never match);
//! * `1`: `header-json \n claims-json`, signed here with the issuer's HS256
//!   secret so the claims are read past the signature check (`exp`, `nbf`,
//!   `iss`, `aud`, identity claims);
//! * `2`: an `Authorization` value, then `bearer` and `verify`.
//!
//! Nothing may panic; an error is always a token error; a caller's
//! identity values are never empty and hold no control characters.
#![no_main]

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::pki_types::pem::PemObject;
use tollgate::error::GatewayError;
use tollgate::policy::auth::signature::HeaderValue;
use tollgate::policy::auth::token::{
    Alg, Caller, ClaimNames, TokenIssuer, TokenKey, bearer, verify,
};

const NOW: i64 = 1_710_491_400;
const SECRET: &[u8] = b"fuzz-secret-0123456789abcdef-0123";
/// The P-256 base point: a valid public key nobody uses.
const P256_G: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

fn issuer() -> &'static TokenIssuer {
    static ISSUER: OnceLock<TokenIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let rsa = SubjectPublicKeyInfoDer::from_pem_slice(include_bytes!(
            "../../tests/data/token/rs256.pub.pem"
        ))
        .expect("test RSA key");
        TokenIssuer {
            name: "fuzz".into(),
            issuer: Some("https://id.example.com".into()),
            audience: vec!["tollgate".into()],
            leeway_s: 60,
            claims: ClaimNames::default(),
            keys: vec![
                TokenKey::hs256(Some("hs"), SECRET),
                TokenKey::public(Some("rs"), Alg::Rs256, &rsa).expect("RSA key"),
                TokenKey::public(Some("ec"), Alg::Es256, &P256_G).expect("P-256 point"),
            ],
        }
    })
}

/// `header.claims.signature`, signed with the HS256 secret.
fn signed(header: &[u8], claims: &[u8]) -> Vec<u8> {
    let mut token = format!("{}.{}", B64.encode(header), B64.encode(claims)).into_bytes();
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), &token);
    token.push(b'.');
    token.extend_from_slice(B64.encode(tag.as_ref()).as_bytes());
    token
}

fn check(token: &[u8], scratch: &mut BytesMut) {
    match verify(issuer(), token, NOW, scratch) {
        Ok(Caller {
            tenant_id,
            user_id,
            account_name,
        }) => {
            for v in [&tenant_id, &user_id, &account_name].into_iter().flatten() {
                assert!(!v.is_empty() && !v.bytes().any(|b| b < 0x20 || b == 0x7f));
            }
            assert!(account_name.is_some() || tenant_id.is_none());
        }
        Err(e) => assert!(matches!(
            e,
            GatewayError::TokenAuth(_) | GatewayError::TokenExpired
        )),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut scratch = BytesMut::new();
    match mode % 3 {
        0 => check(rest, &mut scratch),
        1 => {
            let at = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let (header, claims) = rest.split_at(at);
            check(
                &signed(header, claims.get(1..).unwrap_or_default()),
                &mut scratch,
            );
        }
        _ => {
            let headers = |name: &[u8]| match name {
                b"authorization" => HeaderValue::One(rest),
                _ => HeaderValue::Missing,
            };
            if let Ok(token) = bearer(headers) {
                check(token, &mut scratch);
            }
        }
    }
});
