//! One request's throttle check: every limit that applies to it, in the
//! order §13.4 suggests, charged only if all admit.
//!
//! Order: without a bound policy, the default limit of the API across
//! all stages (`X-Apig-RateLimit-Api-Allenv`, §13.2 "APIs with no policy
//! bound", §14.1); with one, the policy's API (or shared) limit, the user limit (or the caller's special-tenant
//! threshold), the app limit (or the app's special threshold), the IP
//! limit, and for a 2.0 policy the first parameter rule whose condition
//! holds (§14.5). The first limit that refuses ends the check; permits
//! already taken for the request are given back, so refused requests do
//! not consume quota (§13.4 Suggestion).

use super::global::{Counter, PaddedCounter};
use super::policy::{self, Binding, Dimension, Facts, Limit, Period};
use super::shard::{Ask, LeaseKey, Shard, Taken};
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

impl RateHeaders {
    /// The header `report` fills; `None` for parameter rules.
    fn slot(&mut self, report: Report) -> Option<&mut Option<RateValue>> {
        Some(match report {
            Report::Api => &mut self.api,
            Report::User => &mut self.user,
            Report::App => &mut self.app,
            Report::Ip => &mut self.ip,
            Report::AllEnv => &mut self.allenv,
            Report::Rule => return None,
        })
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
    /// A parameter rule (no documented header).
    Rule,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether every limit admitted the request.
    pub admitted: bool,
    /// The debug headers, when asked for.
    pub headers: Option<RateHeaders>,
    /// Whether a lease came from a per-key table's overflow counter.
    pub overflowed: bool,
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
    /// Permits taken so far, with the header each one reports in.
    taken: [Option<(Taken, Report)>; MAX_LIMITS],
    n: usize,
    headers: RateHeaders,
    /// The last period seen and `now_ms`'s window in it: limits of one
    /// period (the usual case) cost one division per request.
    window: (std::time::Duration, u64),
    overflowed: bool,
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
            overflowed: false,
        };
        let admitted = run.all(default, binding, facts);
        if !admitted {
            run.give_back();
        }
        Verdict {
            admitted,
            headers: debug.then_some(run.headers),
            overflowed: run.overflowed,
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
        let Some(b) = binding else {
            // No policy bound: the default limit (§13.2, §14.1).
            return match default {
                Some((counter, limit)) => self.one(counter, limit, Report::AllEnv),
                None => true,
            };
        };
        let def = &b.policy.def;
        let counters = &b.counters;
        if !self.one(&counters.api, def.api, Report::Api) {
            return false;
        }
        let id = facts.identity;
        // A special tenant's threshold replaces the user limit, a special
        // app's the app limit; the other limits still apply (§13.3).
        let tenant = special(
            &def.special_tenants,
            &counters.special_tenants,
            &id.tenant_id,
        );
        let user_ok = match (tenant, def.user, facts.user_key()) {
            (Some((counter, max)), ..) => self.one(counter, Limit { max, ..def.api }, Report::User),
            (None, Some(limit), Some(user)) => {
                self.keyed(b, Dimension::User, &[user.as_bytes()], limit, Report::User)
            }
            _ => true,
        };
        if !user_ok {
            return false;
        }
        let app = special(&def.special_apps, &counters.special_apps, &id.app_id);
        let app_ok = match (app, def.app, id.app_id.as_deref()) {
            (Some((counter, max)), ..) => self.one(counter, Limit { max, ..def.api }, Report::App),
            (None, Some(limit), Some(app)) => {
                self.keyed(b, Dimension::App, &[app.as_bytes()], limit, Report::App)
            }
            _ => true,
        };
        if !app_ok {
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
            return self.one(counter, rule.limit, Report::Rule);
        }
        // A value the request lacks counts as its own (absent) value.
        let mut parts: [&[u8]; 8] = [&[]; 8];
        for (part, var) in parts.iter_mut().zip(rule.key_by.iter()) {
            *part = facts.value(var, &b.captures).unwrap_or(b"\0absent");
        }
        let n = rule.key_by.len().min(parts.len());
        let dim = Dimension::Rule(u16::try_from(i).unwrap_or(u16::MAX));
        self.keyed(b, dim, &parts[..n], rule.limit, Report::Rule)
    }

    /// Takes a permit for `parts` from the binding's per-key table of
    /// `dim`. The lease is keyed by the table and the key's hash, so the
    /// shared table is probed only when the lease runs out.
    fn keyed(
        &mut self,
        b: &Binding,
        dim: Dimension,
        parts: &[&[u8]],
        limit: Limit,
        report: Report,
    ) -> bool {
        let table = policy::table(&b.policy.tables, dim);
        let spill = b.counters.overflow.get(dim.index());
        // Every per-key dimension with a limit has a table and an
        // overflow count (both sized from the same definition).
        debug_assert!(table.is_some() && spill.is_some(), "{dim:?}");
        let (Some(table), Some(spill)) = (table, spill) else {
            return true;
        };
        let hash = policy::key_hash(b, dim, parts);
        let ask = self.ask(limit);
        let lease: LeaseKey = (std::ptr::from_ref(table) as usize, hash.max(1));
        let mut placed = None;
        let mut overflowed = false;
        let taken = self.t.shard.take_from(
            lease,
            || {
                // A full table: this scope's overflow count, in leases of
                // one permit (shared by many keys).
                let place = table.place(hash, ask.window);
                overflowed = place.is_none();
                (*placed.insert(place.unwrap_or(spill)), overflowed)
            },
            &ask,
        );
        self.overflowed |= overflowed;
        // Debug only: what `remain` reads (found without claiming a slot).
        let counter = || placed.unwrap_or_else(|| table.peek(hash).unwrap_or(spill));
        self.record(taken, lease, counter, (&ask, limit), report)
    }

    /// Takes one permit from the fixed `counter` under `limit`.
    fn one(&mut self, counter: &Counter, limit: Limit, report: Report) -> bool {
        let ask = self.ask(limit);
        let lease: LeaseKey = (std::ptr::from_ref(counter) as usize, 0);
        let taken = self.t.shard.take_from(lease, || (counter, false), &ask);
        self.record(taken, lease, || counter, (&ask, limit), report)
    }

    /// The shard's view of `limit` now; limits of one period share one
    /// division per request.
    fn ask(&mut self, limit: Limit) -> Ask {
        let period = limit.period.duration();
        if self.window.0 != period {
            self.window = (period, Position::window_of(self.t.now_ms, period));
        }
        Ask {
            limit: limit.max,
            period,
            window: self.window.1,
            now_ms: self.t.now_ms,
            workers: self.t.workers,
        }
    }

    /// Remembers a permit taken (to give it back) and, in debug mode, the
    /// header value.
    fn record<'c>(
        &mut self,
        taken: Option<Taken>,
        lease: LeaseKey,
        counter: impl FnOnce() -> &'c Counter,
        (ask, limit): (&Ask, Limit),
        report: Report,
    ) -> bool {
        if let Some(taken) = taken
            && let Some(slot) = self.taken.get_mut(self.n)
        {
            *slot = Some((taken, report));
            self.n += 1;
        }
        if self.t.debug {
            let remain = match taken {
                Some(_) => self.t.shard.remain(lease, counter(), ask),
                None => 0,
            };
            let value = Some(RateValue {
                remain,
                limit: limit.max,
                period: limit.period,
            });
            if let Some(header) = self.headers.slot(report) {
                *header = value;
            }
        }
        taken.is_some()
    }

    /// Returns every permit taken; the debug headers of those limits then
    /// read one more.
    fn give_back(&mut self) {
        for taken in self.taken.iter_mut().take(self.n) {
            if let Some((t, report)) = taken.take() {
                if self.t.shard.give_back(t)
                    && let Some(Some(v)) = self.headers.slot(report)
                {
                    v.remain += 1;
                }
            }
        }
    }
}

/// The counter and threshold of `id` among a policy's special apps or
/// tenants (config-bounded: their own counters, never evicted).
fn special<'a>(
    list: &[(Box<str>, u64)],
    counters: &'a [PaddedCounter],
    id: &Option<Box<str>>,
) -> Option<(&'a Counter, u64)> {
    let id = id.as_deref()?;
    let i = list.iter().position(|(s, _)| &**s == id)?;
    Some((counters.get(i)?, list.get(i)?.1))
}
