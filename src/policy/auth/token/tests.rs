//! Token verification on hand-built tokens: every check and its edge, and
//! the parsing corners of the compact form and the two JSON objects.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_710_491_400;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.claims.signature` with `sign` over the first two parts.
fn jwt(header: &str, claims: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let signed = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = sign(signed.as_bytes());
    format!("{signed}.{}", b64(&sig))
}

fn hmac_sign(secret: &[u8]) -> impl Fn(&[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    move |m| hmac::sign(&key, m).as_ref().to_vec()
}

fn hs(claims: &str) -> String {
    jwt(r#"{"alg":"HS256","typ":"JWT"}"#, claims, hmac_sign(SECRET))
}

fn issuer(keys: Vec<TokenKey>) -> TokenIssuer {
    TokenIssuer {
        name: "corp".into(),
        issuer: None,
        audience: Vec::new(),
        leeway_s: 60,
        claims: ClaimNames::default(),
        keys,
    }
}

fn hs_issuer() -> TokenIssuer {
    issuer(vec![TokenKey::hs256(None, SECRET)])
}

fn check(issuer: &TokenIssuer, token: &str) -> Result<Caller, GatewayError> {
    verify(issuer, token.as_bytes(), NOW, &mut BytesMut::new())
}

fn fault(issuer: &TokenIssuer, token: &str) -> TokenFault {
    match check(issuer, token) {
        Err(GatewayError::TokenAuth(f)) => f,
        other => panic!("expected a token fault for {token}, got {other:?}"),
    }
}

fn exp_in(secs: i64) -> String {
    format!(r#"{{"exp":{}}}"#, NOW + secs)
}

#[test]
fn a_valid_token_names_the_caller() {
    let claims = format!(
        r#"{{"sub":"alice","tenant_id":"t-1","account_name":"acme","exp":{},"extra":{{"a":[1,2,{{}}]}}}}"#,
        NOW + 300
    );
    let caller = check(&hs_issuer(), &hs(&claims)).unwrap();
    assert_eq!(caller.user_id.as_deref(), Some("alice"));
    assert_eq!(caller.tenant_id.as_deref(), Some("t-1"));
    assert_eq!(caller.account_name.as_deref(), Some("acme"));
}

#[test]
fn the_account_falls_back_to_the_tenant_and_integers_are_text() {
    let claims = format!(r#"{{"tenant_id":42,"sub":"","exp":{}}}"#, NOW + 5);
    let caller = check(&hs_issuer(), &hs(&claims)).unwrap();
    assert_eq!(caller.tenant_id.as_deref(), Some("42"));
    assert_eq!(caller.account_name.as_deref(), Some("42"));
    assert_eq!(caller.user_id, None, "an empty claim is absent");
    // Other JSON types are absent; escapes are decoded.
    let claims = format!(
        r#"{{"tenant_id":{{"id":1}},"sub":"b\u006fb","account_name":null,"exp":{}}}"#,
        NOW + 5
    );
    let caller = check(&hs_issuer(), &hs(&claims)).unwrap();
    assert_eq!(
        caller,
        Caller {
            tenant_id: None,
            user_id: Some("bob".into()),
            account_name: None,
        }
    );
}

#[test]
fn configured_claim_names_are_read_and_may_share_a_claim() {
    let mut iss = hs_issuer();
    iss.claims = ClaimNames {
        tenant: "org".into(),
        user: "uid".into(),
        account: "org".into(),
    };
    let claims = format!(
        r#"{{"org":"acme","uid":"u7","sub":"ignored","exp":{}}}"#,
        NOW + 5
    );
    let caller = check(&iss, &hs(&claims)).unwrap();
    assert_eq!(caller.tenant_id.as_deref(), Some("acme"));
    assert_eq!(caller.account_name.as_deref(), Some("acme"));
    assert_eq!(caller.user_id.as_deref(), Some("u7"));
}

#[test]
fn identity_claims_that_could_break_a_backend_request_refuse_the_token() {
    for sub in [r#""a\r\nX-Evil: 1""#, r#""tab\there""#, r#"".""#, r#""..""#] {
        let claims = format!(r#"{{"sub":{sub},"exp":{}}}"#, NOW + 5);
        assert_eq!(
            fault(&hs_issuer(), &hs(&claims)),
            TokenFault::Malformed,
            "{sub}"
        );
    }
}

#[test]
fn a_changed_part_breaks_the_signature() {
    let token = hs(&exp_in(60));
    let (signed, sig) = token.rsplit_once('.').unwrap();
    let mut sig = sig.to_string();
    let last = if sig.ends_with('A') { "Q" } else { "A" };
    sig.replace_range(sig.len() - 1.., last);
    let iss = hs_issuer();
    assert!(matches!(
        fault(&iss, &format!("{signed}.{sig}")),
        TokenFault::BadSignature | TokenFault::Malformed
    ));
    let other = jwt(
        r#"{"alg":"HS256"}"#,
        &exp_in(60),
        hmac_sign(b"another secret of thirty-two b.."),
    );
    assert_eq!(fault(&iss, &other), TokenFault::BadSignature);
    // The claims of one token under the signature of another.
    let forged = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256"}"#),
        b64(exp_in(99_999).as_bytes()),
        token.rsplit('.').next().unwrap()
    );
    assert_eq!(fault(&iss, &forged), TokenFault::BadSignature);
}

#[test]
fn only_the_keys_algorithm_is_accepted() {
    let iss = hs_issuer();
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(exp_in(60).as_bytes())
    );
    assert_eq!(fault(&iss, &none), TokenFault::Malformed, "empty signature");
    let none = jwt(r#"{"alg":"none"}"#, &exp_in(60), |_| b"x".to_vec());
    assert_eq!(fault(&iss, &none), TokenFault::Algorithm);
    for alg in ["hs256", "HS512", "RS256", "ES256", "PS256", "EdDSA", ""] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let token = jwt(&header, &exp_in(60), hmac_sign(SECRET));
        assert_eq!(fault(&iss, &token), TokenFault::Algorithm, "{alg}");
    }
    // Algorithm confusion: an ES256 header is checked against the EC key
    // only, never against the HMAC secret that signed it.
    let es = es_key();
    let mixed = issuer(vec![TokenKey::hs256(None, SECRET), es.0]);
    let token = jwt(r#"{"alg":"ES256"}"#, &exp_in(60), hmac_sign(SECRET));
    assert_eq!(fault(&mixed, &token), TokenFault::BadSignature);
}

/// A fresh P-256 key: the verifying key and a signer.
fn es_key() -> (TokenKey, impl Fn(&[u8]) -> Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let key = TokenKey::public(Some("ec"), Alg::Es256, pair.public_key().as_ref()).unwrap();
    let sign = move |m: &[u8]| {
        pair.sign(&SystemRandom::new(), m)
            .unwrap()
            .as_ref()
            .to_vec()
    };
    (key, sign)
}

#[test]
fn es256_tokens_verify_with_the_public_key() {
    let (key, sign) = es_key();
    let iss = issuer(vec![key]);
    let token = jwt(r#"{"alg":"ES256","kid":"ec"}"#, &exp_in(60), &sign);
    assert!(check(&iss, &token).is_ok());
    let unsigned = jwt(r#"{"alg":"ES256"}"#, &exp_in(60), |m| {
        sign(m)[..63].to_vec()
    });
    assert_eq!(
        fault(&iss, &unsigned),
        TokenFault::BadSignature,
        "short signature"
    );
    assert!(
        TokenKey::public(None, Alg::Hs256, b"").is_err()
            && TokenKey::public(None, Alg::Rs256, &[4; 65]).is_err()
    );
}

#[test]
fn the_kid_picks_the_key() {
    let iss = issuer(vec![
        TokenKey::hs256(Some("old"), b"an old secret of at least 32 bytes"),
        TokenKey::hs256(Some("new"), SECRET),
    ]);
    let with = |kid: &str| {
        jwt(
            &format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#),
            &exp_in(60),
            hmac_sign(SECRET),
        )
    };
    assert!(check(&iss, &with("new")).is_ok());
    assert_eq!(fault(&iss, &with("old")), TokenFault::BadSignature);
    assert_eq!(fault(&iss, &with("gone")), TokenFault::UnknownKey);
    // Without a kid every key of the algorithm is tried.
    assert!(check(&iss, &hs(&exp_in(60))).is_ok());
}

#[test]
fn exp_is_required_and_ends_validity_after_the_leeway() {
    let iss = hs_issuer();
    assert_eq!(fault(&iss, &hs(r#"{"sub":"a"}"#)), TokenFault::NoExpiry);
    // Valid while now < exp + leeway (60 s).
    assert!(check(&iss, &hs(&exp_in(-59))).is_ok());
    for past in [-60, -61, -100_000] {
        assert_eq!(
            check(&iss, &hs(&exp_in(past))),
            Err(GatewayError::TokenExpired),
            "{past}"
        );
    }
    let fractional = format!(r#"{{"exp":{}.5}}"#, NOW - 60);
    assert!(check(&iss, &hs(&fractional)).is_ok());
    let mut strict = hs_issuer();
    strict.leeway_s = 0;
    assert_eq!(
        check(&strict, &hs(&exp_in(0))),
        Err(GatewayError::TokenExpired)
    );
    assert!(check(&strict, &hs(&exp_in(1))).is_ok());
    for bad in [r#"{"exp":"1e10"}"#, r#"{"exp":null}"#, r#"{"exp":true}"#] {
        assert_eq!(fault(&iss, &hs(bad)), TokenFault::Malformed, "{bad}");
    }
}

#[test]
fn nbf_in_the_future_is_refused_beyond_the_leeway() {
    let iss = hs_issuer();
    let nbf = |secs: i64| hs(&format!(r#"{{"nbf":{},"exp":{}}}"#, NOW + secs, NOW + 600));
    assert!(check(&iss, &nbf(60)).is_ok());
    assert!(check(&iss, &nbf(-5)).is_ok());
    assert_eq!(fault(&iss, &nbf(61)), TokenFault::NotYetValid);
}

#[test]
fn iss_and_aud_are_checked_when_configured() {
    let mut iss = hs_issuer();
    iss.issuer = Some("https://id.example.com".into());
    iss.audience = vec!["tollgate".into(), "other".into()];
    let token = |extra: &str| hs(&format!(r#"{{"exp":{}{extra}}}"#, NOW + 60));
    let good_iss = r#","iss":"https://id.example.com""#;
    assert!(check(&iss, &token(&format!(r#"{good_iss},"aud":"tollgate""#))).is_ok());
    assert!(check(&iss, &token(&format!(r#"{good_iss},"aud":["x","other"]"#))).is_ok());
    for aud in [r#","aud":"x""#, r#","aud":[]"#, r#","aud":["x","y"]"#, ""] {
        let t = token(&format!("{good_iss}{aud}"));
        assert_eq!(fault(&iss, &t), TokenFault::WrongAudience, "{aud}");
    }
    for bad in [
        r#","iss":"https://id.example.com/""#,
        r#","iss":"evil""#,
        "",
    ] {
        let t = token(&format!(r#"{bad},"aud":"tollgate""#));
        assert_eq!(fault(&iss, &t), TokenFault::WrongIssuer, "{bad}");
    }
    assert_eq!(fault(&iss, &token(r#","aud":7"#)), TokenFault::Malformed);
    // Unconfigured: any iss and aud pass.
    assert!(check(&hs_issuer(), &token(r#","iss":"anyone","aud":["x"]"#)).is_ok());
}

#[test]
fn malformed_compact_forms_are_refused() {
    let iss = hs_issuer();
    let good = hs(&exp_in(60));
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        String::new(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}+.{s}"),
        format!("{h} .{p}.{s}"),
        good.replace('-', "+").replace('_', "/") + "*",
    ];
    for token in &cases {
        assert_eq!(fault(&iss, token), TokenFault::Malformed, "{token}");
    }
}

#[test]
fn headers_and_claims_must_be_plain_json_objects() {
    let iss = hs_issuer();
    let sign = hmac_sign(SECRET);
    let exp = exp_in(60);
    let headers = [
        r#"["HS256"]"#,
        r#""HS256""#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"alg":"HS256"} x"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":256}"#,
        "{\"alg\":\"HS256\"",
    ];
    for header in headers {
        assert_eq!(
            fault(&iss, &jwt(header, &exp, &sign)),
            TokenFault::Malformed,
            "{header}"
        );
    }
    let dup_exp = format!(r#"{{"exp":{0},"exp":{0}}}"#, NOW + 60);
    let claims = [
        "[]".to_string(),
        "null".to_string(),
        dup_exp,
        format!(r#"{{"exp":{},"sub":"a","sub":"b"}}"#, NOW + 60),
        format!(r#"{{"exp":{},"aud":"a","aud":"a"}}"#, NOW + 60),
        format!(r#"{{"exp":{}}} trailing"#, NOW + 60),
    ];
    for c in &claims {
        assert_eq!(
            fault(&iss, &jwt(r#"{"alg":"HS256"}"#, c, &sign)),
            TokenFault::Malformed,
            "{c}"
        );
    }
    // Unknown header members and whitespace are fine.
    let spaced = jwt(
        " {\"typ\" : \"JWT\",\n\"alg\":\"HS256\",\"x5t\":{\"a\":[1]}} ",
        &exp,
        &sign,
    );
    assert!(check(&iss, &spaced).is_ok());
}

#[test]
fn bearer_finds_the_token_in_either_header_but_not_both() {
    let find = |headers: &[(&'static str, &'static str)]| {
        let headers = headers.to_vec();
        bearer(move |name| {
            HeaderValue::of(
                headers
                    .iter()
                    .filter(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_bytes()),
            )
        })
    };
    let t = |v: &'static [u8]| Ok(v);
    assert_eq!(find(&[("Authorization", "Bearer abc")]), t(b"abc"));
    assert_eq!(find(&[("authorization", "bearer \t abc ")]), t(b"abc"));
    assert_eq!(find(&[("X-Auth-Token", " abc")]), t(b"abc"));
    assert_eq!(
        find(&[("Authorization", "Basic dTpw"), ("x-auth-token", "abc")]),
        t(b"abc")
    );
    let missing = Err(GatewayError::TokenAuth(TokenFault::Missing));
    assert_eq!(find(&[]), missing);
    assert_eq!(find(&[("Authorization", "Bearerabc")]), missing);
    assert_eq!(find(&[("Authorization", "Basic dTpw")]), missing);
    let malformed = Err(GatewayError::TokenAuth(TokenFault::Malformed));
    assert_eq!(
        find(&[("Authorization", "Bearer a"), ("X-Auth-Token", "a")]),
        malformed
    );
    assert_eq!(
        find(&[("X-Auth-Token", "a"), ("X-Auth-Token", "b")]),
        malformed
    );
    assert_eq!(
        find(&[("Authorization", "Bearer a"), ("Authorization", "Bearer a")]),
        malformed
    );
}

#[test]
fn keys_print_no_material() {
    let key = TokenKey::hs256(Some("k1"), SECRET);
    let shown = format!("{key:?}");
    assert!(shown.contains("k1") && shown.contains("Hs256"), "{shown}");
    assert!(!shown.contains("0123"), "{shown}");
}
