//! Per-worker counters. Each worker owns one `Metrics`; only it writes, so
//! plain `Cell`s suffice (sozu: no shared state in the event loop). The
//! control plane reads a worker's totals when the worker stops.

use std::cell::Cell;

/// Counters of one worker.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests whose head parsed.
    pub requests: Cell<u64>,
    /// Error responses written by the gateway.
    pub errors: Cell<u64>,
    /// New upstream connections opened.
    pub upstream_connects: Cell<u64>,
    /// Requests sent on a pooled (reused) upstream connection.
    pub upstream_reuses: Cell<u64>,
    /// Requests retried on a fresh connection after a reused one failed.
    pub upstream_retries: Cell<u64>,
    /// Client TLS handshakes that failed (bad version, certificate, name).
    pub tls_handshake_failures: Cell<u64>,
    /// Handshakes with https backends that failed (certificate, timeout).
    pub upstream_tls_failures: Cell<u64>,
    /// Custom-authorizer endpoint calls (§11.9).
    pub authorizer_calls: Cell<u64>,
    /// Authorizer decisions served from this worker's cache (§11.9.4).
    pub authorizer_cache_hits: Cell<u64>,
    /// Authorizer calls without a decision: unreachable, timed out, 5xx
    /// or a broken result contract (relaxed mode included).
    pub authorizer_failures: Cell<u64>,
    /// Requests refused by throttling (429 APIG.0308, §13–§14).
    pub throttled: Cell<u64>,
    /// Requests whose key found its policy's per-key table full of busy
    /// keys (`key_slots`) and was counted in its scope's overflow count.
    pub throttle_overflows: Cell<u64>,
    /// Connections closed at accept: the worker's connection cap was
    /// reached (issue 13).
    pub connections_refused: Cell<u64>,
    /// Connections closed because their head could not grow within the
    /// worker's head budget (issue 13).
    pub head_budget_refusals: Cell<u64>,
    /// Request bodies cut for arriving slower than `body_min_rate`
    /// allows (issue 13).
    pub slow_bodies: Cell<u64>,
}

/// A plain copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsTotals {
    /// See [`Metrics::requests`].
    pub requests: u64,
    /// See [`Metrics::errors`].
    pub errors: u64,
    /// See [`Metrics::upstream_connects`].
    pub upstream_connects: u64,
    /// See [`Metrics::upstream_reuses`].
    pub upstream_reuses: u64,
    /// See [`Metrics::upstream_retries`].
    pub upstream_retries: u64,
    /// See [`Metrics::tls_handshake_failures`].
    pub tls_handshake_failures: u64,
    /// See [`Metrics::upstream_tls_failures`].
    pub upstream_tls_failures: u64,
    /// See [`Metrics::authorizer_calls`].
    pub authorizer_calls: u64,
    /// See [`Metrics::authorizer_cache_hits`].
    pub authorizer_cache_hits: u64,
    /// See [`Metrics::authorizer_failures`].
    pub authorizer_failures: u64,
    /// See [`Metrics::throttled`].
    pub throttled: u64,
    /// See [`Metrics::throttle_overflows`].
    pub throttle_overflows: u64,
    /// See [`Metrics::connections_refused`].
    pub connections_refused: u64,
    /// See [`Metrics::head_budget_refusals`].
    pub head_budget_refusals: u64,
    /// See [`Metrics::slow_bodies`].
    pub slow_bodies: u64,
}

impl Metrics {
    /// Adds one to a counter.
    #[inline]
    pub fn bump(counter: &Cell<u64>) {
        counter.set(counter.get() + 1);
    }

    /// A copy of the current values.
    pub fn totals(&self) -> MetricsTotals {
        MetricsTotals {
            requests: self.requests.get(),
            errors: self.errors.get(),
            upstream_connects: self.upstream_connects.get(),
            upstream_reuses: self.upstream_reuses.get(),
            upstream_retries: self.upstream_retries.get(),
            tls_handshake_failures: self.tls_handshake_failures.get(),
            upstream_tls_failures: self.upstream_tls_failures.get(),
            authorizer_calls: self.authorizer_calls.get(),
            authorizer_cache_hits: self.authorizer_cache_hits.get(),
            authorizer_failures: self.authorizer_failures.get(),
            throttled: self.throttled.get(),
            throttle_overflows: self.throttle_overflows.get(),
            connections_refused: self.connections_refused.get(),
            head_budget_refusals: self.head_budget_refusals.get(),
            slow_bodies: self.slow_bodies.get(),
        }
    }
}

impl std::ops::AddAssign for MetricsTotals {
    fn add_assign(&mut self, o: Self) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.upstream_connects += o.upstream_connects;
        self.upstream_reuses += o.upstream_reuses;
        self.upstream_retries += o.upstream_retries;
        self.tls_handshake_failures += o.tls_handshake_failures;
        self.upstream_tls_failures += o.upstream_tls_failures;
        self.authorizer_calls += o.authorizer_calls;
        self.authorizer_cache_hits += o.authorizer_cache_hits;
        self.authorizer_failures += o.authorizer_failures;
        self.throttled += o.throttled;
        self.throttle_overflows += o.throttle_overflows;
        self.connections_refused += o.connections_refused;
        self.head_budget_refusals += o.head_budget_refusals;
        self.slow_bodies += o.slow_bodies;
    }
}
