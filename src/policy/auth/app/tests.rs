//! App authentication's rules below the signature algorithm: which payload
//! lines a signature may use (app-signing.md §2.6, §10), AppCodes (§9,
//! behaviour.md §11.5) and the body-free checks run before a body is read.

use super::*;
use crate::http::parse::head_for_tests;

const KEY: &str = "demokey";
const CODE: &str = "TgrMzOoTpbPORwg4a2BlUgd0ziCaHzVW6bcoScNgISsTS5z1i1Mgsvb9fz2h6Ihd";
const NOW: i64 = 1_790_000_000;

fn apps() -> Apps {
    let mut apps = Apps::default();
    apps.insert(
        App::new("demo-id", KEY.as_bytes(), b"secret", true),
        &[CODE.into()],
    );
    apps.insert(App::new("frozen", b"frozenkey", b"secret", false), &[]);
    apps
}

fn auth(simple: bool, code_over_http: bool) -> AppAuth {
    AppAuth {
        simple,
        code_over_http,
        require_signed_host: true,
        grants: vec![vec![0, 1]],
    }
}

fn authorization(names: &str) -> Authorization<'static> {
    let value = format!("SDK-HMAC-SHA256 Access={KEY}, SignedHeaders={names}, Signature=00");
    let leaked: &'static str = Box::leak(value.into_boxed_str());
    signature::parse_authorization(leaked.as_bytes()).unwrap()
}

#[test]
fn an_empty_body_offers_both_signers_payload_lines() {
    let head = head_for_tests(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Sdk-Content-Sha256: UNSIGNED-PAYLOAD\r\n\r\n",
    );
    let a = authorization("host;x-sdk-content-sha256;x-sdk-date");
    let got = payload_candidates(&head, &a, None).unwrap();
    assert_eq!(
        got,
        [Some(&b"UNSIGNED-PAYLOAD"[..]), Some(&EMPTY_BODY_SHA256[..])]
    );
    // The header unsigned: only the body's own hash.
    let a = authorization("host;x-sdk-date");
    let got = payload_candidates(&head, &a, None).unwrap();
    assert_eq!(got, [Some(&EMPTY_BODY_SHA256[..]), None]);
}

#[test]
fn a_declared_payload_must_be_unsigned_or_the_bodys_hash() {
    let a = authorization("host;x-sdk-content-sha256;x-sdk-date");
    let bogus = head_for_tests("GET / HTTP/1.1\r\nHost: h\r\nX-Sdk-Content-Sha256: bogus\r\n\r\n");
    assert_eq!(
        payload_candidates(&bogus, &a, None),
        Err(GatewayError::AppAuth(AuthFault::PayloadMismatch))
    );
    let post = head_for_tests(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX-Sdk-Content-Sha256: UNSIGNED-PAYLOAD\r\n\r\n",
    );
    assert_eq!(
        payload_candidates(&post, &a, None).unwrap(),
        [Some(&b"UNSIGNED-PAYLOAD"[..]), None],
        "an unsigned payload needs no body"
    );
    let unread = head_for_tests("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(
        payload_candidates(&unread, &authorization("host;x-sdk-date"), None),
        Err(GatewayError::AppAuth(AuthFault::BodyNotRead))
    );
}

#[test]
fn app_codes_need_simple_authentication_and_https_unless_allowed() {
    let apps = apps();
    let head = head_for_tests(&format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Apig-AppCode: {CODE}\r\n\r\n"
    ));
    let code = |auth: &AppAuth, tls| app_code(auth, &apps, &head, tls).map(|(id, _)| id);
    assert_eq!(code(&auth(true, false), true), Ok(0));
    assert_eq!(
        code(&auth(true, false), false),
        Err(GatewayError::AppAuth(AuthFault::AppCodeNeedsHttps))
    );
    assert_eq!(code(&auth(true, true), false), Ok(0));
    assert_eq!(
        code(&auth(false, true), true),
        Err(GatewayError::AppAuth(AuthFault::NoCredentials))
    );
    let twice = head_for_tests(&format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Apig-AppCode: {CODE}\r\nX-Apig-AppCode: {CODE}\r\n\r\n"
    ));
    assert_eq!(
        app_code(&auth(true, true), &apps, &twice, true).map(|(id, _)| id),
        Err(GatewayError::AppAuth(AuthFault::BadAppCode))
    );
}

#[test]
fn the_precheck_refuses_without_the_body() {
    let apps = apps();
    let head = |key: &str, date: i64| {
        head_for_tests(&format!(
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\nX-Sdk-Date: {}\r\n\
             Authorization: SDK-HMAC-SHA256 Access={key}, SignedHeaders=host;x-sdk-date, Signature=00\r\n\r\n",
            signature::format_sdk_date(date)
        ))
    };
    let check = |h: &RequestHead, stage| precheck(&auth(false, false), &apps, h, stage, NOW);
    assert!(
        check(&head(KEY, NOW), 0).is_ok(),
        "a known, granted app in its window"
    );
    let fault = |h: &RequestHead, stage| check(h, stage).map_err(|r| r.error);
    assert_eq!(
        fault(&head("nobody", NOW), 0),
        Err(GatewayError::AppAuth(AuthFault::AppNotFound))
    );
    assert_eq!(
        fault(&head(KEY, NOW - 901), 0),
        Err(GatewayError::AppAuth(AuthFault::Expired))
    );
    assert_eq!(
        fault(&head("frozenkey", NOW), 0),
        Err(GatewayError::AppFrozen)
    );
    assert_eq!(
        fault(&head(KEY, NOW), 1),
        Err(GatewayError::AppNotAuthorized)
    );
    // An AppCode request has nothing to check before a body.
    let coded = head_for_tests(&format!(
        "POST / HTTP/1.1\r\nHost: h\r\nX-Apig-AppCode: {CODE}\r\n\r\n"
    ));
    assert!(check(&coded, 0).is_ok());
}
