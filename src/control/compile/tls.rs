//! Domains, certificates and listeners → the SNI table and the redirect
//! table (behaviour.md §4.2–§4.6).

use std::collections::BTreeMap;
use std::path::Path;

use super::super::certs;
use super::super::error::ConfigError;
use super::super::spec::GatewaySpec;
use crate::policy::protocol::{DomainRule, DomainRules};
use crate::tls::SniTable;

/// What TLS compiles to.
pub(super) struct TlsPlan {
    pub sni: SniTable,
    pub domain_rules: DomainRules,
}

pub(super) fn compile(spec: &GatewaySpec, base: &Path, errs: &mut Vec<ConfigError>) -> TlsPlan {
    let mut bound: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for group in &spec.group {
        for d in &group.domain {
            if let Some(c) = &d.certificate {
                bound
                    .entry(c.clone())
                    .or_default()
                    .push(format!("domain {}", d.name));
            }
        }
    }
    for l in &spec.listener {
        if let Some(c) = &l.default_certificate {
            bound
                .entry(c.clone())
                .or_default()
                .push(format!("listener {} (default)", l.address));
        }
    }
    let loaded = certs::load_all(&spec.certificate, base, &bound, errs);
    let known = |name: &str| spec.certificate.iter().any(|c| c.name == name);
    let mut sni = SniTable::new(spec.listener.len());
    let mut domain_rules = DomainRules::default();
    let mut served = 0;
    for (g, group) in spec.group.iter().enumerate() {
        for (d, domain) in group.domain.iter().enumerate() {
            let dp = format!("group[{g}].domain[{d}]");
            let rule = DomainRule {
                redirect_port: domain.https_redirect.then_some(domain.https_port),
                https_only: domain.client_auth,
            };
            domain_rules.insert(&domain.name, rule);
            let Some(name) = &domain.certificate else {
                continue;
            };
            match loaded.get(name) {
                Some(cert) => match certs::domain_config(domain, name, cert, &dp) {
                    Ok(config) => {
                        sni.insert_domain(&domain.name, config);
                        served += 1;
                    }
                    Err(e) => errs.push(e),
                },
                // A certificate that failed to load was reported already.
                None if known(name) => {}
                None => errs.push(ConfigError::new(
                    format!("{dp}.certificate"),
                    format!("no [[certificate]] is named \"{name}\""),
                    "add a [[certificate]] with that name, or fix the spelling",
                )),
            }
        }
    }
    if served > 0 && !spec.listener.iter().any(|l| l.tls) {
        errs.push(ConfigError::new(
            "listener",
            "domains have certificates, but no listener terminates TLS: they would never be served",
            "add a [[listener]] with tls = true (e.g. address = \"0.0.0.0:443\")",
        ));
    }
    for (i, l) in spec.listener.iter().enumerate() {
        let lp = format!("listener[{i}]");
        if !l.tls {
            if l.default_certificate.is_some() {
                errs.push(ConfigError::new(
                    format!("{lp}.default_certificate"),
                    "a default certificate on a plain listener is never used",
                    "set tls = true on this listener, or remove default_certificate",
                ));
            }
            continue;
        }
        let default = match &l.default_certificate {
            None => None,
            Some(name) => match loaded.get(name) {
                Some(cert) => match certs::default_config(cert) {
                    Ok(c) => Some(c),
                    Err(why) => {
                        errs.push(ConfigError::new(
                            format!("{lp}.default_certificate"),
                            format!("certificate \"{name}\": {why}"),
                            "check the certificate and key files",
                        ));
                        None
                    }
                },
                None if known(name) => None,
                None => {
                    errs.push(ConfigError::new(
                        format!("{lp}.default_certificate"),
                        format!("no [[certificate]] is named \"{name}\""),
                        "add a [[certificate]] with that name, or fix the spelling",
                    ));
                    None
                }
            },
        };
        if default.is_none() && served == 0 && l.default_certificate.is_none() {
            errs.push(ConfigError::new(
                format!("{lp}.tls"),
                "a TLS listener needs a certificate, and no domain has one",
                "set certificate = \"name\" on a [[group.domain]], or default_certificate on the listener",
            ));
        }
        sni.set_listener(i, default);
    }
    TlsPlan { sni, domain_rules }
}
