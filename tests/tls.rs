//! TLS termination (behaviour.md §4.3–§4.5): SNI picks the domain's
//! certificate, the listener's default answers the rest, per-domain
//! minimum versions and client certificates fail the handshake, and a
//! broken handshake disturbs no other connection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::io::Write;
use std::net::TcpStream;

use common::pki::{
    ClientOpts, Issued, Pki, certificate_toml, presented, tls_connect, try_exchange,
};
use common::*;

/// Two domains with their own certificates, b requiring client
/// certificates from `clients`, a default certificate, one TLS listener.
struct Setup {
    gw: TestGateway,
    a: Issued,
    b: Issued,
    fallback: Issued,
    clients: Pki,
}

/// `default_certificate`: the listener's default ("fallback", "a") or none.
fn setup(driver: &str, default_certificate: Option<&str>) -> Setup {
    let pki = Pki::new("tls-server");
    let clients = Pki::new("tls-clients");
    let a = pki.server("a", &["a.example.test"]);
    let b = pki.server("b", &["b.example.test"]);
    // RSA here, ECDSA for the domains: both key types are served.
    let fallback = pki.rsa_server("fallback", &["fallback.example.test", "127.0.0.1"]);
    let default = default_certificate.map_or(String::new(), |name| {
        format!("default_certificate = \"{name}\"\n")
    });
    let toml = format!(
        "[server]\nworkers = 1\ndriver = \"{driver}\"\n\n{}{}{}\
         [settings]\nheader_timeout_ms = 500\n\n\
         [[listener]]\naddress = \"127.0.0.1:0\"\ntls = true\n{default}\n\
         [[listener]]\naddress = \"127.0.0.1:0\"\n\n\
         [[group]]\nname = \"a\"\n[[group.domain]]\nname = \"a.example.test\"\ncertificate = \"a\"\n\
         [[group.api]]\nname = \"hello\"\nmethod = \"GET\"\npath = \"/hello\"\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"a\"\n\n\
         [[group]]\nname = \"b\"\n[[group.domain]]\nname = \"b.example.test\"\ncertificate = \"b\"\n\
         min_tls_version = \"1.3\"\nclient_auth = true\n\
         [[group.api]]\nname = \"hello\"\nmethod = \"GET\"\npath = \"/hello\"\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"b\"\n\n\
         [[group]]\nname = \"DEFAULT\"\n\
         [[group.api]]\nname = \"hello\"\nmethod = \"GET\"\npath = \"/hello\"\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"default\"\n",
        certificate_toml("a", &a, None),
        certificate_toml("b", &b, Some(&clients.ca_path())),
        certificate_toml("fallback", &fallback, None),
    );
    Setup {
        gw: TestGateway::from_toml(&toml),
        a,
        b,
        fallback,
        clients,
    }
}

fn hello(host: &str) -> String {
    format!("GET /hello HTTP/1.1\r\nHost: {host}\r\n\r\n")
}

driver_tests! {
    fn sni_picks_each_domains_certificate(driver) {
        let s = setup(driver, Some("fallback"));
        let client = s.clients.client("ok");
        let mut a = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() },
        )
        .expect("handshake for a");
        assert_eq!(presented(&a), s.a.der());
        assert_eq!(a.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        let (status, _, body) = try_exchange(&mut a, &hello("a.example.test")).unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"a"[..]));
        // Upper-case SNI picks the same domain.
        let upper = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("A.EXAMPLE.TEST"), ..ClientOpts::default() },
        )
        .expect("handshake for A");
        assert_eq!(presented(&upper), s.a.der());
        let mut b = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("b.example.test"), identity: Some(&client), ..ClientOpts::default() },
        )
        .expect("handshake for b");
        assert_eq!(presented(&b), s.b.der());
        let (status, _, body) = try_exchange(&mut b, &hello("b.example.test")).unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"b"[..]));
    }

    fn default_certificate_answers_no_sni_and_unknown_names(driver) {
        let s = setup(driver, Some("fallback"));
        let mut bare = tls_connect(s.gw.addr, &ClientOpts::default()).expect("no-SNI handshake");
        assert_eq!(presented(&bare), s.fallback.der());
        let (status, _, body) = try_exchange(&mut bare, &hello("127.0.0.1")).unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"default"[..]));
        let unknown = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("zzz.example.test"), ..ClientOpts::default() },
        )
        .expect("unknown name handshake");
        assert_eq!(presented(&unknown), s.fallback.der());
    }

    fn without_a_default_unknown_names_fail_the_handshake(driver) {
        let s = setup(driver, None);
        let err = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("zzz.example.test"), ..ClientOpts::default() },
        )
        .expect_err("no certificate for zzz");
        assert!(err.contains("UnrecognisedName") || err.contains("unrecognized"), "{err}");
        assert!(tls_connect(s.gw.addr, &ClientOpts::default()).is_err(), "no SNI, no default");
        // Known names still work on the same listener.
        tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() },
        )
        .expect("a still served");
    }

    fn a_client_below_the_domains_minimum_version_is_refused(driver) {
        // §4.4: b's minimum is 1.3; a (default 1.2) still takes 1.2.
        let s = setup(driver, Some("fallback"));
        let client = s.clients.client("ok");
        let tls12 = &[&rustls::version::TLS12];
        let err = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("b.example.test"), versions: tls12, identity: Some(&client) },
        )
        .expect_err("TLS 1.2 refused by b");
        assert!(err.contains("ProtocolVersion") || err.contains("protocol"), "{err}");
        let mut a12 = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), versions: tls12, identity: None },
        )
        .expect("TLS 1.2 accepted by a");
        assert_eq!(a12.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_2));
        let (status, _, _) = try_exchange(&mut a12, &hello("a.example.test")).unwrap();
        assert_eq!(status, 200);
    }

    fn mutual_tls_accepts_only_certificates_of_the_domains_ca(driver) {
        // §4.5: b requires a client certificate signed by its CA; a does not.
        let s = setup(driver, Some("fallback"));
        let good = s.clients.client("good");
        let stranger = Pki::new("tls-stranger").client("stranger");
        let b = |identity: Option<&Issued>| {
            let opts = ClientOpts { sni: Some("b.example.test"), identity, ..ClientOpts::default() };
            tls_connect(s.gw.addr, &opts).and_then(|mut c| try_exchange(&mut c, &hello("b.example.test")))
        };
        let (status, _, body) = b(Some(&good)).expect("signed by the CA");
        assert_eq!((status, body.as_slice()), (200, &b"b"[..]));
        let missing = b(None).expect_err("no client certificate");
        assert!(missing.contains("CertificateRequired") || missing.contains("alert"), "{missing}");
        let foreign = b(Some(&stranger)).expect_err("certificate of another CA");
        assert!(foreign.contains("alert") || foreign.contains("UnknownCA"), "{foreign}");
        // Nor can plain HTTP reach b's APIs (review I2a): 0607, HTTPS only.
        let plain = request(s.gw.addrs[1], &hello("b.example.test"));
        plain.assert_apig(400, "APIG.0607", "The following protocol is supported: HTTPS");
        // The other domain on the same listener asks for none.
        let mut a = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() },
        )
        .unwrap();
        assert_eq!(try_exchange(&mut a, &hello("a.example.test")).unwrap().0, 200);
    }

    fn host_cannot_reach_another_tls_domain_than_sni(driver) {
        // b requires a client certificate: a handshake for a (or with the
        // default certificate) must not carry requests for b.
        let s = setup(driver, Some("fallback"));
        let mut a = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() },
        )
        .unwrap();
        let (status, _, body) = try_exchange(&mut a, &hello("B.example.test:443")).unwrap();
        assert_eq!(status, 421, "{}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("Misdirected request."));
        // The connection stays usable for its own domain.
        assert_eq!(try_exchange(&mut a, &hello("a.example.test")).unwrap().0, 200);
        let mut bare = tls_connect(s.gw.addr, &ClientOpts::default()).unwrap();
        assert_eq!(try_exchange(&mut bare, &hello("b.example.test")).unwrap().0, 421);
        // A host that is no TLS domain is served by DEFAULT as usual.
        assert_eq!(try_exchange(&mut bare, &hello("127.0.0.1")).unwrap().0, 200);
    }

    fn the_default_certificates_own_domain_is_not_misdirected(driver) {
        // Review I3: without SNI the default certificate "a" is used, whose
        // settings equal a.example.test's: a Host of a is not misdirected.
        let s = setup(driver, Some("a"));
        let mut bare = tls_connect(s.gw.addr, &ClientOpts::default()).unwrap();
        assert_eq!(presented(&bare), s.a.der());
        assert_eq!(try_exchange(&mut bare, &hello("a.example.test")).unwrap().0, 200);
        assert_eq!(try_exchange(&mut bare, &hello("b.example.test")).unwrap().0, 421);
    }

    fn a_silent_or_partial_client_hello_is_closed_after_the_header_timeout(driver) {
        let s = setup(driver, Some("fallback"));
        let started = std::time::Instant::now();
        let mut silent = Conn::open(s.gw.addr);
        let mut partial = Conn::open(s.gw.addr);
        partial.send(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
        assert!(silent.is_closed());
        assert!(partial.read_to_end().is_empty());
        let waited = started.elapsed();
        assert!(waited >= std::time::Duration::from_millis(400), "{waited:?}");
        assert!(waited < DEADLINE, "{waited:?}");
    }

    fn handshake_garbage_disturbs_no_other_connection(driver) {
        let s = setup(driver, Some("fallback"));
        let mut good = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() },
        )
        .unwrap();
        assert_eq!(try_exchange(&mut good, &hello("a.example.test")).unwrap().0, 200);
        // Plain HTTP, random bytes and a truncated ClientHello to the TLS port.
        let mut plain = Conn::open(s.gw.addr);
        plain.send(b"GET /hello HTTP/1.1\r\nHost: a.example.test\r\n\r\n");
        let asked = std::time::Instant::now();
        let answer = plain.read_to_end();
        assert!(asked.elapsed() < DEADLINE, "plain HTTP on a TLS port is dropped");
        // At most a TLS alert record (content type 21), never an HTTP answer.
        assert!(answer.is_empty() || answer[0] == 0x15, "{answer:?}");
        let mut noise = Conn::open(s.gw.addr);
        noise.send(&[0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0x00, 0x10, 0xde, 0xad]);
        let mut junk = TcpStream::connect(s.gw.addr).unwrap();
        junk.write_all(&[0x42; 4096]).unwrap();
        drop(junk);
        // The established connection keeps working meanwhile.
        for _ in 0..3 {
            assert_eq!(try_exchange(&mut good, &hello("a.example.test")).unwrap().0, 200);
        }
        let mut fresh = tls_connect(
            s.gw.addr,
            &ClientOpts { sni: Some("a.example.test"), ..ClientOpts::default() },
        )
        .unwrap();
        assert_eq!(try_exchange(&mut fresh, &hello("a.example.test")).unwrap().0, 200);
        drop(noise);
        let totals = s.gw.shutdown();
        assert!(totals.tls_handshake_failures >= 2, "{totals:?}");
    }
}
