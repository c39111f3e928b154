//! Certificates and TLS configurations, built at load (behaviour.md
//! §4.3–§4.5, §7.2): the only code that reads PEM files.
//!
//! Every `[[certificate]]` is read, parsed and checked once: the key must
//! match the leaf, the leaf must be within its validity period, and each
//! domain it is bound to must be one of its names (§4.3: "the domain name
//! of the SSL certificate is different" is an error). Each failure is a
//! `ConfigError` naming the TOML key, the file and the domain.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use super::error::ConfigError;
use super::spec::{CertificateSpec, DomainSpec};
pub use crate::upstream::tls::UpstreamTls;

/// ALPN protocols the gateway speaks, both ways.
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A certificate read and checked at load.
#[derive(Debug)]
pub struct LoadedCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// Client CA roots (§4.5), when `ca` is set.
    client_roots: Option<Arc<RootCertStore>>,
    /// DNS names of the leaf's subjectAltName.
    names: Vec<String>,
    /// The certificate file, for messages.
    file: String,
    /// Configurations built from it, by (minimum version, client auth):
    /// domains with equal settings share one, so the 421 rule
    /// (`SniTable::misdirected`) sees them as one.
    built: RefCell<HashMap<(MinTls, bool), Arc<ServerConfig>>>,
}

impl LoadedCert {
    /// The configuration for `min` and `client_auth` (needs a CA), built
    /// once.
    fn config(&self, min: MinTls, client_auth: bool) -> Result<Arc<ServerConfig>, String> {
        if let Some(c) = self.built.borrow().get(&(min, client_auth)) {
            return Ok(c.clone());
        }
        let roots = match (client_auth, &self.client_roots) {
            (false, _) => None,
            (true, Some(roots)) => Some(roots.clone()),
            (true, None) => return Err("client authentication needs a CA".into()),
        };
        let config = build_server(self, min, roots)?;
        self.built
            .borrow_mut()
            .insert((min, client_auth), config.clone());
        Ok(config)
    }
}

/// Resolves `path` against the configuration file's directory.
pub fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Reads every `[[certificate]]`; failures go to `errs`, naming the
/// domains (`bound`: certificate name → domains and listeners using it).
pub fn load_all(
    specs: &[CertificateSpec],
    base: &Path,
    bound: &BTreeMap<String, Vec<String>>,
    errs: &mut Vec<ConfigError>,
) -> BTreeMap<String, LoadedCert> {
    let mut out = BTreeMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("certificate[{i}]");
        if out.contains_key(&spec.name) {
            errs.push(ConfigError::new(
                format!("{at}.name"),
                format!("certificate \"{}\" is defined twice", spec.name),
                "give every [[certificate]] its own name",
            ));
            continue;
        }
        match load_one(spec, base, &at) {
            Ok(cert) => {
                out.insert(spec.name.clone(), cert);
            }
            Err(mut e) => {
                let users = bound.get(&spec.name).map_or_else(
                    || "not bound to any domain".to_string(),
                    |d| format!("bound to {}", d.join(", ")),
                );
                e.message = format!("{} (certificate \"{}\", {users})", e.message, spec.name);
                errs.push(e);
            }
        }
    }
    out
}

fn load_one(spec: &CertificateSpec, base: &Path, at: &str) -> Result<LoadedCert, ConfigError> {
    let cert_path = resolve(base, &spec.cert);
    let file = cert_path.display().to_string();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ConfigError::new(
                format!("{at}.cert"),
                format!("cannot read certificate file {file}: {e}"),
                "point cert at a readable PEM file holding the certificate chain, leaf first",
            )
        })?;
    let Some(leaf) = chain.first() else {
        return Err(ConfigError::new(
            format!("{at}.cert"),
            format!("{file} holds no PEM certificate"),
            "only PEM is accepted (behaviour.md §4.3): convert DER with `openssl x509 -inform der -outform pem`",
        ));
    };
    let key_path = resolve(base, &spec.key);
    let key_file = key_path.display().to_string();
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
        ConfigError::new(
            format!("{at}.key"),
            format!("cannot read private key file {key_file}: {e}"),
            "point key at a readable PEM private key (PKCS#8, PKCS#1 or SEC1)",
        )
    })?;
    let names = leaf_names(leaf).map_err(|why| {
        ConfigError::new(
            format!("{at}.cert"),
            format!("{file}: {why}"),
            "use an X.509 certificate in PEM",
        )
    })?;
    check_validity(leaf, &file, at)?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider);
    if let Err(e) = certified {
        return Err(ConfigError::new(
            format!("{at}.key"),
            format!("{key_file} does not match the certificate in {file}: {e}"),
            "pair each certificate with the private key it was issued for",
        ));
    }
    let client_roots = match &spec.ca {
        None => None,
        Some(ca) => Some(Arc::new(read_roots(base, ca, &format!("{at}.ca"))?)),
    };
    Ok(LoadedCert {
        chain,
        key,
        client_roots,
        names,
        file,
        built: RefCell::default(),
    })
}

/// Reads a PEM CA bundle into a root store.
fn read_roots(base: &Path, path: &str, key: &str) -> Result<RootCertStore, ConfigError> {
    let full = resolve(base, path);
    let file = full.display().to_string();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&full)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ConfigError::new(
                key,
                format!("cannot read CA bundle {file}: {e}"),
                "point it at a readable PEM file of CA certificates",
            )
        })?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(ConfigError::new(
            key,
            format!("{file} holds no usable CA certificate"),
            "give a PEM file with at least one CA certificate",
        ));
    }
    Ok(roots)
}

/// The leaf's subjectAltName DNS names, lower-case.
fn leaf_names(leaf: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| format!("not a parsable X.509 certificate: {e}"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("bad subjectAltName: {e}"))?;
    Ok(san
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => {
                        Some(d.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Expired (or not yet valid) leaves are errors: clients would refuse them.
fn check_validity(leaf: &CertificateDer<'_>, file: &str, at: &str) -> Result<(), ConfigError> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf) else {
        return Ok(()); // reported by leaf_names
    };
    let validity = cert.validity();
    let now = x509_parser::time::ASN1Time::now();
    if now > validity.not_after {
        return Err(ConfigError::new(
            format!("{at}.cert"),
            format!(
                "the certificate in {file} expired on {}",
                validity.not_after
            ),
            "renew the certificate and point cert at the new file",
        ));
    }
    if now < validity.not_before {
        return Err(ConfigError::new(
            format!("{at}.cert"),
            format!(
                "the certificate in {file} is not valid before {}",
                validity.not_before
            ),
            "check the issuing machine's clock, or use a certificate valid now",
        ));
    }
    Ok(())
}

/// Whether `name` (lower-case) is covered by `pattern` (a SAN entry; a
/// leading `*.` matches exactly one label, RFC 6125 §6.4.3).
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == name,
    }
}

/// Minimum TLS version of a domain (§4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinTls {
    /// TLS 1.2 and 1.3 offered.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// Parses `min_tls_version`: "1.2", "TLS1.2", "1.3", "TLS1.3".
pub fn parse_min_tls(text: &str) -> Option<MinTls> {
    let t = text.trim();
    let v = t
        .strip_prefix("TLS")
        .or_else(|| t.strip_prefix("tls"))
        .unwrap_or(t)
        .trim_start_matches(['v', 'V', ' ']);
    match v {
        "1.2" => Some(MinTls::Tls12),
        "1.3" => Some(MinTls::Tls13),
        _ => None,
    }
}

/// The rustls configuration of one domain bound to `cert`; `dp` is the
/// domain's TOML path for errors.
pub fn domain_config(
    domain: &DomainSpec,
    cert_name: &str,
    cert: &LoadedCert,
    dp: &str,
) -> Result<Arc<ServerConfig>, ConfigError> {
    let lower = domain.name.to_ascii_lowercase();
    if !cert.names.iter().any(|p| name_matches(p, &lower)) {
        return Err(ConfigError::new(
            format!("{dp}.certificate"),
            format!(
                "certificate \"{cert_name}\" ({}) is not issued for domain \"{}\" (its names: {})",
                cert.file,
                domain.name,
                if cert.names.is_empty() {
                    "none".to_string()
                } else {
                    cert.names.join(", ")
                }
            ),
            "bind a certificate whose subjectAltName covers the domain (behaviour.md §4.3)",
        ));
    }
    let min = parse_min_tls(&domain.min_tls_version).unwrap_or(MinTls::Tls12);
    if domain.client_auth && cert.client_roots.is_none() {
        return Err(ConfigError::new(
            format!("{dp}.client_auth"),
            format!(
                "client authentication on domain \"{}\" needs a CA, and certificate \"{cert_name}\" has none",
                domain.name
            ),
            "set ca = \"client-ca.pem\" on the [[certificate]], or client_auth = false (behaviour.md §27 C14)",
        ));
    }
    cert.config(min, domain.client_auth).map_err(|why| {
        ConfigError::new(
            format!("{dp}.certificate"),
            format!("domain \"{}\": {why}", domain.name),
            "check the certificate, key and CA files",
        )
    })
}

/// A listener's default configuration: `cert`, TLS 1.2+, no client auth.
pub fn default_config(cert: &LoadedCert) -> Result<Arc<ServerConfig>, String> {
    cert.config(MinTls::Tls12, false)
}

fn build_server(
    cert: &LoadedCert,
    min: MinTls,
    client_roots: Option<Arc<RootCertStore>>,
) -> Result<Arc<ServerConfig>, String> {
    let versions: &[&rustls::SupportedProtocolVersion] = match min {
        MinTls::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinTls::Tls13 => &[&rustls::version::TLS13],
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?;
    let builder = match client_roots {
        Some(roots) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| format!("client CA: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(cert.chain.clone(), cert.key.clone_key())
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// Client configuration for https backends: the system roots, or a CA
/// bundle; `verify = false` accepts any certificate (logged by the caller).
pub fn upstream_config(
    base: &Path,
    ca: Option<&str>,
    verify: bool,
    key: &str,
) -> Result<Arc<ClientConfig>, ConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new(key, e.to_string(), "report this as a bug"))?;
    let mut config = if !verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        let roots = match ca {
            Some(ca) => read_roots(base, ca, &format!("{key}.tls_ca"))?,
            None => system_roots(key)?,
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// The operating system's trusted roots.
fn system_roots(key: &str) -> Result<RootCertStore, ConfigError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(ConfigError::new(
            key,
            "no system CA certificates found for an https backend",
            "install ca-certificates, or set tls_ca = \"ca.pem\" on the backend",
        ));
    }
    Ok(roots)
}

/// `tls_verify = false`: every certificate is accepted; signatures are
/// still checked so the handshake itself stays sound. (Tests use it too,
/// to look at the certificate a server presents.)
#[derive(Debug)]
pub struct NoVerification(pub Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("a.example.test", "a.example.test"));
        assert!(name_matches("*.example.test", "a.example.test"));
        assert!(!name_matches("*.example.test", "example.test"));
        assert!(!name_matches("*.example.test", "x.a.example.test"));
        assert!(!name_matches("b.example.test", "a.example.test"));
    }

    #[test]
    fn versions_parse_in_both_spellings() {
        assert_eq!(parse_min_tls("1.2"), Some(MinTls::Tls12));
        assert_eq!(parse_min_tls("TLS1.3"), Some(MinTls::Tls13));
        assert_eq!(parse_min_tls("TLSv1.3"), Some(MinTls::Tls13));
        assert_eq!(parse_min_tls("1.1"), None);
    }
}
