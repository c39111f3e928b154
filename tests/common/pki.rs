//! Certificates made at test time (rcgen) and a blocking rustls client.
//!
//! A [`Pki`] is a CA plus a private temporary directory; it issues server
//! and client certificates as PEM files there, for configs to point at.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tollgate::control::certs::NoVerification;

use super::DEADLINE;

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh private directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tollgate-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A test certificate authority writing PEM files into its directory.
pub struct Pki {
    /// Where the files go.
    pub dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// Paths of an issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    /// PEM certificate.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

impl Issued {
    /// The certificate's DER.
    pub fn der(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(&self.cert).expect("issued cert parses")
    }
}

impl Pki {
    /// A new CA named `name` in a fresh directory.
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let ca = CertifiedIssuer::self_signed(params, key).unwrap();
        let dir = temp_dir(name);
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca }
    }

    /// The CA certificate's PEM file.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A root store trusting this CA.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        roots
    }

    /// A server certificate for `names` (DNS names or IP literals).
    pub fn server(&self, stem: &str, names: &[&str]) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(stem, params)
    }

    /// A server certificate with an RSA-2048 key.
    pub fn rsa_server(&self, stem: &str, names: &[&str]) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        self.issue_with(stem, params, key)
    }

    /// A server certificate whose validity ended yesterday.
    pub fn expired_server(&self, stem: &str, names: &[&str]) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(30);
        params.not_after = now - time::Duration::days(1);
        self.issue(stem, params)
    }

    /// A client certificate (clientAuth).
    pub fn client(&self, stem: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("client {stem}"));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(stem, params)
    }

    fn issue(&self, stem: &str, params: CertificateParams) -> Issued {
        self.issue_with(stem, params, KeyPair::generate().unwrap())
    }

    fn issue_with(&self, stem: &str, params: CertificateParams, key: KeyPair) -> Issued {
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let issued = Issued {
            cert: self.dir.join(format!("{stem}.pem")),
            key: self.dir.join(format!("{stem}.key")),
        };
        std::fs::write(&issued.cert, cert.pem()).unwrap();
        std::fs::write(&issued.key, key.serialize_pem()).unwrap();
        issued
    }
}

/// TOML for a `[[certificate]]`.
pub fn certificate_toml(name: &str, issued: &Issued, ca: Option<&Path>) -> String {
    let ca = ca.map_or(String::new(), |p| format!("ca = \"{}\"\n", p.display()));
    format!(
        "[[certificate]]\nname = \"{name}\"\ncert = \"{}\"\nkey = \"{}\"\n{ca}\n",
        issued.cert.display(),
        issued.key.display()
    )
}

/// What a test client offers.
pub struct ClientOpts<'a> {
    /// SNI (a DNS name) or `None`: no SNI (connect by IP).
    pub sni: Option<&'a str>,
    /// Versions offered.
    pub versions: &'a [&'static rustls::SupportedProtocolVersion],
    /// A client certificate to present.
    pub identity: Option<&'a Issued>,
}

impl Default for ClientOpts<'_> {
    fn default() -> Self {
        ClientOpts {
            sni: None,
            versions: rustls::ALL_VERSIONS,
            identity: None,
        }
    }
}

/// A TLS connection to the gateway.
pub type TlsConn = StreamOwned<ClientConnection, TcpStream>;

/// Connects and completes the handshake; any certificate is accepted (the
/// test compares the one presented), as with a backend's `tls_verify = false`. `Err`: the handshake failed.
pub fn tls_connect(addr: SocketAddr, opts: &ClientOpts<'_>) -> Result<TlsConn, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(opts.versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerification(provider)));
    let mut config = match opts.identity {
        Some(id) => {
            let chain = vec![id.der()];
            let key = PrivateKeyDer::from_pem_file(&id.key).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = match opts.sni {
        Some(n) => ServerName::try_from(n.to_string()).unwrap(),
        None => ServerName::IpAddress(addr.ip().into()),
    };
    let mut conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    sock.set_write_timeout(Some(DEADLINE)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok(StreamOwned::new(conn, sock))
}

/// The leaf certificate the server presented.
pub fn presented(conn: &TlsConn) -> CertificateDer<'static> {
    conn.conn
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("server certificate")
        .clone()
        .into_owned()
}

/// Sends `raw` and reads one response with a Content-Length body;
/// `Err` when the connection fails first (a refused client certificate
/// shows up here under TLS 1.3).
pub fn try_exchange(conn: &mut TlsConn, raw: &str) -> Result<(u16, String, Vec<u8>), String> {
    conn.write_all(raw.as_bytes()).map_err(|e| e.to_string())?;
    conn.flush().map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = super::find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or("bad status line")?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let body_start = end + 4;
            while buf.len() < body_start + len {
                let n = conn.read(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("closed mid-body".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[body_start..body_start + len].to_vec();
            return Ok((status, head, body));
        }
        let n = conn.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before a response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
