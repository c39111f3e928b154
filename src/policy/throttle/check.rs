//! One request's throttle check: every limit that applies to it, in the
//! order §13.4 suggests, charged only if all admit.
//!
//! Order: the default limit of the API across all stages
//! (`X-Apig-RateLimit-Api-Allenv`, §13.2), then the bound policy's API (or
//! shared) limit, the user limit (or the caller's special-tenant
//! threshold), the app limit (or the app's special threshold), the IP
//! limit, and for a 2.0 policy the first parameter rule whose condition
//! holds (§14.5). The first limit that refuses ends the check; permits
//! already taken for the request are given back, so refused requests do
//! not consume quota (§13.4 Suggestion).

use super::global::Counter;
use super::policy::{self, Binding, Dimension, Facts, Limit, Period};
use super::shard::{LeaseKey, Shard, Taken};
use super::window::Position;

/// One debug header's numbers (§13.5): `remain:N,limit:N,time:N unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateValue {
    /// Requests left in the sliding window after this one.
    pub remain: u64,
    /// The limit.
    pub limit: u64,
    /// Its period.
    pub period: Period,
}

/// The `X-Apig-RateLimit-*` values of one request (debug mode only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-Apig-RateLimit-Api`: the policy's API (or shared) limit.
    pub api: Option<RateValue>,
    /// `X-Apig-RateLimit-User`: the user limit or special tenant.
    pub user: Option<RateValue>,
    /// `X-Apig-RateLimit-App`: the app limit or special app.
    pub app: Option<RateValue>,
    /// `X-Apig-RateLimit-Ip`: the IP limit.
    pub ip: Option<RateValue>,
    /// `X-Apig-RateLimit-Api-Allenv`: the default limit.
    pub allenv: Option<RateValue>,
}

impl RateHeaders {
    /// The headers present, with their names as the CORS expose list
    /// spells them (§13.5 Suggestion, §27 C21).
    pub fn each(&self) -> impl Iterator<Item = (&'static [u8], RateValue)> + '_ {
        [
            (&b"X-Apig-RateLimit-Api"[..], self.api),
            (b"X-Apig-RateLimit-User", self.user),
            (b"X-Apig-RateLimit-App", self.app),
            (b"X-Apig-RateLimit-Ip", self.ip),
            (b"X-Apig-RateLimit-Api-Allenv", self.allenv),
        ]
        .into_iter()
        .filter_map(|(name, v)| Some((name, v?)))
    }
}

/// Which header a limit reports in.
#[derive(Debug, Clone, Copy)]
enum Report {
    Api,
    User,
    App,
    Ip,
    AllEnv,
    /// Parameter rules have no documented header.
    None,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether every limit admitted the request.
    pub admitted: bool,
    /// The debug headers, when asked for.
    pub headers: Option<RateHeaders>,
}

/// Limits checked per request at most: default, API, user, app, IP, rule.
const MAX_LIMITS: usize = 6;

/// The time and this core's leases, for one request.
pub struct Throttle<'s> {
    /// This core's leases.
    pub shard: &'s mut Shard,
    /// Workers sharing the counters (sizes leases).
    pub workers: u64,
    /// Milliseconds since the Unix epoch, on the gateway's shared timebase.
    pub now_ms: u64,
    /// Whether to compute debug headers.
    pub debug: bool,
}

struct Run<'s, 't> {
    t: &'t mut Throttle<'s>,
    taken: [Option<Taken>; MAX_LIMITS],
    n: usize,
    headers: RateHeaders,
    /// The last period seen and `now_ms`'s window in it: limits of one
    /// period (the usual case) cost one division per request.
    window: (std::time::Duration, u64),
}

impl Throttle<'_> {
    /// Checks the default limit (`default`: the API's all-stage counter and
    /// the limit) and `binding`'s limits for the request `facts` describes.
    pub fn check(
        &mut self,
        default: Option<(&Counter, Limit)>,
        binding: Option<&Binding>,
        facts: &Facts<'_>,
    ) -> Verdict {
        let debug = self.debug;
        let mut run = Run {
            t: self,
            taken: [None; MAX_LIMITS],
            n: 0,
            headers: RateHeaders::default(),
            window: (std::time::Duration::ZERO, 0),
        };
        let admitted = run.all(default, binding, facts);
        if !admitted {
            run.give_back();
        }
        Verdict {
            admitted,
            headers: debug.then_some(run.headers),
        }
    }
}

impl Run<'_, '_> {
    fn all(
        &mut self,
        default: Option<(&Counter, Limit)>,
        binding: Option<&Binding>,
        facts: &Facts<'_>,
    ) -> bool {
        if let Some((counter, limit)) = default
            && !self.one(counter, 0, limit, Report::AllEnv)
        {
            return false;
        }
        let Some(b) = binding else {
            return true;
        };
        let def = &b.policy.def;
        let counters = &b.counters;
        if !self.one(&counters.api, 0, def.api, Report::Api) {
            return false;
        }
        let id = facts.identity;
        // The user dimension: a special tenant's threshold replaces the
        // user limit (§13.3); the API and app limits still apply.
        let special_tenant = id.tenant_id.as_deref().and_then(|t| {
            let i = def.special_tenants.iter().position(|(s, _)| &**s == t)?;
            Some((
                counters.special_tenants.get(i)?,
                def.special_tenants.get(i)?.1,
            ))
        });
        if let Some((counter, max)) = special_tenant {
            let limit = Limit {
                max,
                period: def.api.period,
            };
            if !self.one(counter, 0, limit, Report::User) {
                return false;
            }
        } else if let (Some(limit), Some(user)) = (def.user, facts.user_key())
            && !self.keyed(b, Dimension::User, &[user.as_bytes()], limit, Report::User)
        {
            return false;
        }
        // The app dimension: a special app's threshold replaces the app
        // limit; the API and user limits still apply.
        let special_app = id.app_id.as_deref().and_then(|a| {
            let i = def.special_apps.iter().position(|(s, _)| &**s == a)?;
            Some((counters.special_apps.get(i)?, def.special_apps.get(i)?.1))
        });
        if let Some((counter, max)) = special_app {
            let limit = Limit {
                max,
                period: def.api.period,
            };
            if !self.one(counter, 0, limit, Report::App) {
                return false;
            }
        } else if let (Some(limit), Some(app)) = (def.app, id.app_id.as_deref())
            && !self.keyed(b, Dimension::App, &[app.as_bytes()], limit, Report::App)
        {
            return false;
        }
        if let Some(limit) = def.ip {
            let ip = match facts.source {
                std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                std::net::IpAddr::V6(v6) => v6.octets(),
            };
            if !self.keyed(b, Dimension::Ip, &[&ip], limit, Report::Ip) {
                return false;
            }
        }
        self.rule(b, facts)
    }

    /// A 2.0 policy's first matching parameter rule.
    fn rule(&mut self, b: &Binding, facts: &Facts<'_>) -> bool {
        let Some((i, rule)) = (b.policy.def.rules.iter().enumerate())
            .find(|(_, r)| facts.matches(&r.condition, &b.captures))
        else {
            return true;
        };
        if rule.key_by.is_empty() {
            let Some(counter) = b.counters.rules.get(i) else {
                return true;
            };
            return self.one(counter, 0, rule.limit, Report::None);
        }
        // A value the request lacks counts as its own (absent) value.
        let mut parts: [&[u8]; 8] = [&[]; 8];
        for (part, var) in parts.iter_mut().zip(rule.key_by.iter()) {
            *part = facts.value(var, &b.captures).unwrap_or(b"\0absent");
        }
        let n = rule.key_by.len().min(parts.len());
        let dim = Dimension::Rule(u16::try_from(i).unwrap_or(u16::MAX));
        self.keyed(b, dim, &parts[..n], rule.limit, Report::None)
    }

    /// Takes a permit for `parts` from the binding's per-key table of `dim`.
    fn keyed(
        &mut self,
        b: &Binding,
        dim: Dimension,
        parts: &[&[u8]],
        limit: Limit,
        report: Report,
    ) -> bool {
        let Some(table) = policy::table(&b.policy.tables, dim) else {
            return true;
        };
        let hash = policy::key_hash(b, dim, parts);
        let window = self.window_of(limit.period.duration());
        let place = table.place(hash, window);
        // Keys in the overflow counter share one lease.
        let key = if place.overflow { 0 } else { hash };
        self.one(place.counter, key, limit, report)
    }

    /// The window number of now in `period`, remembered for the next
    /// limit of the same period.
    fn window_of(&mut self, period: std::time::Duration) -> u64 {
        if self.window.0 != period {
            self.window = (period, Position::window_of(self.t.now_ms, period));
        }
        self.window.1
    }

    /// Takes one permit from `counter` for `key` under `limit`.
    fn one(&mut self, counter: &Counter, key: u64, limit: Limit, report: Report) -> bool {
        let period = limit.period.duration();
        let window = self.window_of(period);
        let t = &mut *self.t;
        let lease: LeaseKey = (std::ptr::from_ref(counter) as usize, key);
        let taken = (t.shard).take_in(
            lease, counter, limit.max, period, window, t.workers, t.now_ms,
        );
        if let Some(taken) = taken
            && let Some(slot) = self.taken.get_mut(self.n)
        {
            *slot = Some(taken);
            self.n += 1;
        }
        if t.debug {
            let remain = match taken {
                Some(_) => t.shard.remain(lease, counter, limit.max, period, t.now_ms),
                None => 0,
            };
            let value = Some(RateValue {
                remain,
                limit: limit.max,
                period: limit.period,
            });
            match report {
                Report::Api => self.headers.api = value,
                Report::User => self.headers.user = value,
                Report::App => self.headers.app = value,
                Report::Ip => self.headers.ip = value,
                Report::AllEnv => self.headers.allenv = value,
                Report::None => {}
            }
        }
        taken.is_some()
    }

    fn give_back(&mut self) {
        for taken in self.taken.iter_mut().take(self.n) {
            if let Some(t) = taken.take() {
                self.t.shard.give_back(t);
            }
        }
    }
}
