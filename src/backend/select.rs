//! Backend policies (behaviour.md §8): conditions on the source IP, on
//! input parameters and on the frontend authorizer's context, combined by
//! "any" or "all", evaluated in declared order; the first policy that
//! holds picks its backend (§27 C35).
//!
//! Regular expressions are compiled once, at load, and match the whole
//! value (§8.2 Suggestion). A condition on an absent parameter is false.

use std::net::IpAddr;

use ipnet::IpNet;
use regex::bytes::Regex;

use super::{Api, Backend, Deployment};
use crate::http::RequestHead;
use crate::policy::Identity;
use crate::policy::params::Inputs;

/// How a policy's conditions combine (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effective {
    /// One condition suffices.
    Any,
    /// Every condition must hold.
    All,
}

/// A value test (§8.2 condition types).
#[derive(Debug, Clone)]
pub enum Test {
    /// Equal to this value.
    Equal(Box<[u8]>),
    /// Equal to one of these values.
    Enum(Vec<Box<[u8]>>),
    /// Matches this expression (anchored at both ends at load).
    Match(Regex),
}

impl Test {
    /// Whether `value` passes.
    pub fn holds(&self, value: &[u8]) -> bool {
        match self {
            Test::Equal(v) => **v == *value,
            Test::Enum(vs) => vs.iter().any(|v| **v == *value),
            Test::Match(re) => re.is_match(value),
        }
    }
}

/// One policy condition (§8.2).
#[derive(Debug, Clone)]
pub enum Condition {
    /// The caller's IP is one of these addresses or networks.
    SourceIp(Vec<IpNet>),
    /// The input parameter at this index (after defaults, decoded) passes.
    Param {
        /// Index into [`Api::params`].
        index: u16,
        /// The test.
        test: Test,
    },
    /// A key of the frontend custom authorizer's context passes (§8.2,
    /// §8.3). Numbers compare by their decimal text; Booleans as `true` /
    /// `false` (the compiled test also holds the value as written).
    Authorizer {
        /// Context key (case-sensitive).
        key: Box<str>,
        /// The test.
        test: Test,
    },
}

/// A backend policy's conditions (its backend is in each [`Deployment`]).
#[derive(Debug, Clone)]
pub struct PolicyRule {
    /// Policy name.
    pub name: Box<str>,
    /// How the conditions combine.
    pub effective: Effective,
    /// At least one condition.
    pub conditions: Vec<Condition>,
}

/// What conditions are evaluated against.
pub struct Facts<'a> {
    /// The request head.
    pub head: &'a RequestHead,
    /// Its validated input parameters.
    pub inputs: &'a Inputs,
    /// The caller's IP address.
    pub source_ip: IpAddr,
    /// Who is calling (the frontend authorizer's context).
    pub identity: &'a Identity,
}

impl PolicyRule {
    /// Whether the policy applies.
    pub fn holds(&self, api: &Api, facts: &Facts<'_>) -> bool {
        debug_assert!(
            !self.conditions.is_empty(),
            "policy {} has no condition",
            self.name
        );
        let mut each = self.conditions.iter().map(|c| c.holds(api, facts));
        match self.effective {
            Effective::Any => each.any(|b| b),
            Effective::All => each.all(|b| b),
        }
    }
}

impl Condition {
    fn holds(&self, api: &Api, facts: &Facts<'_>) -> bool {
        match self {
            Condition::SourceIp(nets) => nets.iter().any(|n| n.contains(&facts.source_ip)),
            Condition::Param { index, test } => facts
                .inputs
                .get(*index as usize, &api.params, facts.head)
                .is_some_and(|v| test.holds(&v.decoded())),
            Condition::Authorizer { key, test } => facts
                .identity
                .context(false, key)
                .is_some_and(|v| test.holds(v.as_bytes())),
        }
    }
}

/// The backend for a request: the first policy that holds, else the
/// default backend (§7.1, §8).
#[inline]
pub fn select<'a>(api: &'a Api, dep: &'a Deployment, facts: &Facts<'_>) -> &'a Backend {
    debug_assert_eq!(api.policies.len(), dep.policies.len());
    api.policies
        .iter()
        .zip(&dep.policies)
        .find(|(rule, _)| rule.holds(api, facts))
        .map_or(&dep.default, |(_, backend)| backend)
}
