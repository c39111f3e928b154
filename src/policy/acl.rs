//! Access control (behaviour.md §15) by IP address or by account, and the
//! real client IP that IP policies, and everything else that looks at the
//! caller's address, use (§16).
//!
//! An allow policy admits only its entries; a deny policy refuses its
//! entries (§15, inferred). IP entries are single addresses, CIDRs and dash
//! ranges (`10.0.0.1-10.0.0.50`), IPv4 and IPv6. An IPv4 client of a
//! dual-stack listener is compared as IPv4 (the connection canonicalises
//! it). Account entries are account names, compared exactly with the
//! account a token names (§11.6); an API has one policy per stage, of
//! either kind ([`AccessPolicy`]).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::GatewayError;

/// One entry of an IP policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpEntry {
    /// An address or CIDR (an address is a /32 or /128).
    Net(IpNet),
    /// An inclusive range of one family.
    Range(IpAddr, IpAddr),
}

impl IpEntry {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::/n` or `first-last`.
    pub fn parse(text: &str) -> Option<IpEntry> {
        let text = text.trim();
        if let Some((first, last)) = text.split_once('-') {
            let (a, b): (IpAddr, IpAddr) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
            let same_family = a.is_ipv4() == b.is_ipv4();
            return (same_family && a <= b).then_some(IpEntry::Range(a, b));
        }
        if let Ok(net) = text.parse::<IpNet>() {
            return Some(IpEntry::Net(net.trunc()));
        }
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| IpEntry::Net(IpNet::from(ip)))
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match *self {
            IpEntry::Net(net) => net.contains(&ip),
            IpEntry::Range(a, b) => a.is_ipv4() == ip.is_ipv4() && a <= ip && ip <= b,
        }
    }
}

/// Allow or deny (§15 Effect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Only the listed addresses may call.
    Allow,
    /// The listed addresses may not call.
    Deny,
}

/// A compiled IP access-control policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPolicy {
    /// Allow or deny.
    pub effect: Effect,
    /// The addresses.
    pub entries: Vec<IpEntry>,
}

impl IpPolicy {
    /// 403 APIG.0402 when `ip` may not call.
    pub fn check(&self, ip: IpAddr) -> Result<(), GatewayError> {
        let listed = self.entries.iter().any(|e| e.contains(ip));
        match (self.effect, listed) {
            (Effect::Allow, true) | (Effect::Deny, false) => Ok(()),
            _ => Err(GatewayError::IpDenied),
        }
    }
}

/// A compiled account access-control policy (§15: "Only applies to
/// IAM-authenticated APIs"; here token-authenticated ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPolicy {
    effect: Effect,
    /// Account names, sorted and unique.
    names: Vec<Box<str>>,
}

impl AccountPolicy {
    /// A policy over `names` (any order, duplicates allowed).
    pub fn new<'a>(effect: Effect, names: impl IntoIterator<Item = &'a str>) -> AccountPolicy {
        let mut names: Vec<Box<str>> = names.into_iter().map(Into::into).collect();
        names.sort_unstable();
        names.dedup();
        AccountPolicy { effect, names }
    }

    /// 403 APIG.0302 when `account` may not call. A caller whose token
    /// names no account is refused by either effect: a deny list cannot
    /// tell whether it would have listed them.
    pub fn check(&self, account: Option<&str>) -> Result<(), GatewayError> {
        let Some(account) = account else {
            return Err(GatewayError::AccountDenied);
        };
        let listed = self.names.binary_search_by(|n| (**n).cmp(account)).is_ok();
        match (self.effect, listed) {
            (Effect::Allow, true) | (Effect::Deny, false) => Ok(()),
            _ => Err(GatewayError::AccountDenied),
        }
    }
}

/// The access-control policy bound to an API in one stage (§15: one per
/// API per stage). The IP kind is checked before authentication, the
/// account kind right after token authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessPolicy {
    /// By the real client IP.
    Ip(IpPolicy),
    /// By the token's account name.
    Account(AccountPolicy),
}

/// How the client IP is found (§16).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealIp {
    /// Read `X-Forwarded-For` (`real_ip_from_xff`).
    pub from_xff: bool,
    /// Which entry: 1-based from the left, or -1 the right-most, -2 the
    /// one before… (`real_ip_index`).
    pub index: i32,
    /// Peers whose `X-Forwarded-For` is believed; empty = every peer.
    pub trusted: Vec<IpNet>,
    /// No usable entry → 403 APIG.0401 instead of the peer address.
    pub strict: bool,
}

impl RealIp {
    /// The client IP of a request from `peer` with these
    /// `X-Forwarded-For` values (all lines, in order).
    pub fn resolve<'a>(
        &self,
        peer: IpAddr,
        xff: impl Iterator<Item = &'a [u8]>,
    ) -> Result<IpAddr, GatewayError> {
        if !self.from_xff {
            return Ok(peer);
        }
        if !self.trusted.is_empty() && !self.trusted.iter().any(|n| n.contains(&peer)) {
            return Ok(peer);
        }
        match self.pick(xff) {
            Some(ip) => Ok(ip.to_canonical()),
            None if self.strict => Err(GatewayError::UnknownClientIp),
            None => Ok(peer),
        }
    }

    fn pick<'a>(&self, xff: impl Iterator<Item = &'a [u8]>) -> Option<IpAddr> {
        let entries: Vec<&[u8]> = xff
            .flat_map(|v| v.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .collect();
        let at = match self.index {
            0 => return None,
            n if n > 0 => usize::try_from(n - 1).ok()?,
            n => entries
                .len()
                .checked_sub(usize::try_from(n.unsigned_abs()).ok()?)?,
        };
        let entry = entries.get(at)?;
        std::str::from_utf8(entry).ok()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_cover_addresses_cidrs_and_ranges_of_both_families() {
        let allow = IpPolicy {
            effect: Effect::Allow,
            entries: [
                "10.0.0.0/8",
                "192.168.1.5",
                "172.16.0.1-172.16.0.50",
                "2001:db8::/32",
            ]
            .iter()
            .map(|e| IpEntry::parse(e).unwrap())
            .collect(),
        };
        for ok in ["10.9.8.7", "192.168.1.5", "172.16.0.50", "2001:db8::1"] {
            assert_eq!(allow.check(ip(ok)), Ok(()), "{ok}");
        }
        for no in [
            "11.0.0.1",
            "192.168.1.6",
            "172.16.0.51",
            "2001:db9::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(allow.check(ip(no)), Err(GatewayError::IpDenied), "{no}");
        }
        let deny = IpPolicy {
            effect: Effect::Deny,
            ..allow
        };
        assert_eq!(deny.check(ip("10.1.1.1")), Err(GatewayError::IpDenied));
        assert_eq!(deny.check(ip("8.8.8.8")), Ok(()));
        assert_eq!(IpEntry::parse("10.0.0.9-10.0.0.1"), None, "reversed range");
        assert_eq!(IpEntry::parse("10.0.0.1-::1"), None, "mixed families");
        assert_eq!(IpEntry::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn account_lists_match_exact_names_and_refuse_callers_without_one() {
        let allow = AccountPolicy::new(Effect::Allow, ["bbb", "aaa", "aaa"]);
        assert_eq!(allow.check(Some("aaa")), Ok(()));
        assert_eq!(allow.check(Some("bbb")), Ok(()));
        for no in [Some("AAA"), Some("aa"), Some("ccc"), None] {
            assert_eq!(allow.check(no), Err(GatewayError::AccountDenied), "{no:?}");
        }
        let deny = AccountPolicy::new(Effect::Deny, ["aaa"]);
        assert_eq!(deny.check(Some("aaa")), Err(GatewayError::AccountDenied));
        assert_eq!(deny.check(Some("bbb")), Ok(()));
        assert_eq!(deny.check(None), Err(GatewayError::AccountDenied));
    }

    #[test]
    fn real_ip_follows_the_index_from_either_end() {
        let peer = ip("10.0.0.9");
        let xff = [&b"1.1.1.1, 2.2.2.2"[..], b"3.3.3.3"];
        let real = |index, strict| RealIp {
            from_xff: true,
            index,
            trusted: Vec::new(),
            strict,
        };
        assert_eq!(
            real(1, false).resolve(peer, xff.into_iter()),
            Ok(ip("1.1.1.1"))
        );
        assert_eq!(
            real(3, false).resolve(peer, xff.into_iter()),
            Ok(ip("3.3.3.3"))
        );
        assert_eq!(
            real(-1, false).resolve(peer, xff.into_iter()),
            Ok(ip("3.3.3.3"))
        );
        assert_eq!(
            real(-3, false).resolve(peer, xff.into_iter()),
            Ok(ip("1.1.1.1"))
        );
        // Out of range: the peer, or APIG.0401 when strict.
        assert_eq!(real(4, false).resolve(peer, xff.into_iter()), Ok(peer));
        assert_eq!(
            real(-4, true).resolve(peer, xff.into_iter()),
            Err(GatewayError::UnknownClientIp)
        );
        assert_eq!(
            real(1, true).resolve(peer, [&b"garbage"[..]].into_iter()),
            Err(GatewayError::UnknownClientIp)
        );
        // Off, or an untrusted peer: the peer.
        assert_eq!(RealIp::default().resolve(peer, xff.into_iter()), Ok(peer));
        let trusting = RealIp {
            trusted: vec!["192.168.0.0/16".parse().unwrap()],
            ..real(1, true)
        };
        assert_eq!(trusting.resolve(peer, xff.into_iter()), Ok(peer));
        assert_eq!(
            trusting.resolve(ip("192.168.3.4"), xff.into_iter()),
            Ok(ip("1.1.1.1"))
        );
    }
}
