//! The app-signing parsers on arbitrary bytes: the first line is an
//! `Authorization` value, the second a request-target, the rest header
//! lines (`name: value`). Parsing, canonicalising and verifying must never
//! panic; a canonical request always has its fixed line structure. The
//! same pieces as a request through `app::authenticate` (its AppKey known
//! or not): building a failure's detail (masked key, times, canonical
//! request) must not panic either.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tollgate::http::{HeadLimits, parse_request};
use tollgate::policy::auth::app::{self, App, AppAuth, Apps, Scene};
use tollgate::policy::auth::signature::{
    EMPTY_BODY_SHA256, HeaderValue, RequestParts, canonical_request, check_date, matches,
    parse_authorization,
};

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let (Some(authorization), Some(target)) = (lines.next(), lines.next()) else {
        return;
    };
    let headers: Vec<(&[u8], &[u8])> = lines
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            Some((&l[..colon], &l[colon + 1..]))
        })
        .collect();
    let Ok(auth) = parse_authorization(authorization) else {
        return;
    };
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    let req = RequestParts {
        method: &b"GET"[..],
        path,
        query,
        headers: |name: &[u8]| {
            HeaderValue::of(
                headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| *v),
            )
        },
    };
    let mut cr = BytesMut::new();
    if canonical_request(&mut cr, &req, &auth, EMPTY_BODY_SHA256).is_ok() {
        // method, URI, query, one line per signed header, blank, names, hash
        let lines = cr[..].split(|&b| b == b'\n').count();
        assert_eq!(lines, 3 + auth.header_names().count() + 3);
        assert!(cr.ends_with(EMPTY_BODY_SHA256));
        let _ = matches(b"secret", b"20240315T083000Z", &cr, auth.signature);
    }
    for (_, v) in &headers {
        let _ = check_date(v, 1_710_491_400);
    }
    let mut raw = b"GET ".to_vec();
    raw.extend_from_slice(target);
    raw.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in &headers {
        raw.extend_from_slice(name);
        raw.push(b':');
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"Authorization: ");
    raw.extend_from_slice(authorization);
    raw.extend_from_slice(b"\r\n\r\n");
    let limits = HeadLimits {
        max_uri_bytes: 32 * 1024,
        max_header_bytes: 32 * 1024,
        max_headers_total_bytes: 128 * 1024,
        max_body_bytes: 1024,
    };
    let Ok(Some(head)) = parse_request(&mut BytesMut::from(&raw[..]), &limits) else {
        return;
    };
    let mut known = Apps::default();
    let id = known.insert(App::new("a", auth.access, b"secret", true), &[]);
    let app_auth = AppAuth {
        grants: vec![vec![id]],
        ..AppAuth::default()
    };
    for apps in [&known, &Apps::default()] {
        let mut scratch = BytesMut::new();
        let mut scene = Scene {
            tls: false,
            stage: 0,
            now_unix: 1_710_491_400,
            body_sha256: None,
            scratch: &mut scratch,
        };
        if let Err(r) = app::authenticate(&app_auth, apps, &head, &mut scene) {
            assert!(r.detail.is_none_or(|d| d.starts_with(", ")));
        }
    }
});
