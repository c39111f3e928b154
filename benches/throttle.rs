//! One throttle check (behaviour.md §13–§14), Tollgate's leased sliding
//! window side by side with the `governor` crate's GCRA, uncontended and
//! with a second thread hammering the same key. Limit 1 000 000 per second,
//! time advancing 1 ms per 1 000 checks (demand at the limit).
//!
//! `policy_check`: a whole request's check as the pipeline runs it (a
//! classic policy's API limit and its per-IP limit in a bounded table;
//! the default limit does not apply beside a policy) over 256 client
//! addresses, next to governor's direct limiter (API) plus its keyed one
//! (per IP), the same two limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench code

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_main};
use governor::{Quota, RateLimiter};
use tollgate::http::{HeadLimits, parse_request};
use tollgate::policy::Identity;
use tollgate::policy::throttle::check::Throttle;
use tollgate::policy::throttle::global::Counter;
use tollgate::policy::throttle::policy::{
    Binding, Definition, Facts, Limit, Period, Policy, ScopeCounters, Tables,
};
use tollgate::policy::throttle::shard::Shard;
use tollgate::route::RouteMatch;

const LIMIT: u64 = 1_000_000;
const PERIOD: Duration = Duration::from_secs(1);
const BASE_MS: u64 = 1_790_000_000_000;

/// A check by `shard` at step `i` (1 000 steps per millisecond).
fn ours(shard: &mut Shard, counter: &Counter, workers: u64, i: u64) -> bool {
    shard
        .take((0, 1), counter, LIMIT, PERIOD, workers, BASE_MS + i / 1000)
        .is_some()
}

fn bench_throttle(c: &mut Criterion) {
    let mut group = c.benchmark_group("throttle");
    group.throughput(Throughput::Elements(1));

    let counter = Counter::default();
    let mut shard = Shard::default();
    let mut i = 0u64;
    group.bench_function("tollgate/uncontended", |b| {
        b.iter(|| {
            i += 1;
            black_box(ours(&mut shard, &counter, 1, i))
        })
    });

    let quota = Quota::per_second(NonZeroU32::new(LIMIT as u32).unwrap());
    let limiter = RateLimiter::direct(quota);
    group.bench_function("governor/uncontended", |b| {
        b.iter(|| black_box(limiter.check().is_ok()))
    });

    // A second thread drives the same key while this one is measured, on
    // the measured thread's clock (published every 1 000 checks, one
    // simulated ms), so both are in the same window.
    let counter = Arc::new(Counter::default());
    let clock = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        let (c2, clock2, stop2) = (Arc::clone(&counter), Arc::clone(&clock), Arc::clone(&stop));
        s.spawn(move || {
            let mut shard = Shard::default();
            while !stop2.load(Ordering::Relaxed) {
                let i = clock2.load(Ordering::Relaxed);
                black_box(ours(&mut shard, &c2, 2, i));
            }
        });
        let mut shard = Shard::default();
        let mut i = 0u64;
        group.bench_function("tollgate/two_threads_same_key", |b| {
            b.iter(|| {
                i += 1;
                if i % 1000 == 0 {
                    clock.store(i, Ordering::Relaxed);
                }
                black_box(ours(&mut shard, &counter, 2, i))
            })
        });
        stop.store(true, Ordering::Relaxed);
    });

    let limiter = Arc::new(RateLimiter::direct(quota));
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        let (l2, stop2) = (Arc::clone(&limiter), Arc::clone(&stop));
        s.spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                black_box(l2.check().is_ok());
            }
        });
        group.bench_function("governor/two_threads_same_key", |b| {
            b.iter(|| black_box(limiter.check().is_ok()))
        });
        stop.store(true, Ordering::Relaxed);
    });
    group.finish();
}

/// A classic policy with an API limit and a per-IP limit, bound to one
/// API in RELEASE.
fn binding() -> Binding {
    let limit = Limit {
        max: LIMIT,
        period: Period::SECOND,
    };
    let def = Definition {
        shared: false,
        api: limit,
        user: None,
        app: None,
        ip: Some(limit),
        special_apps: Box::new([]),
        special_tenants: Box::new([]),
        rules: Box::new([]),
        key_slots: 65_536,
    };
    let policy = Arc::new(Policy {
        name: "bench".into(),
        v2: false,
        tables: Arc::new(Tables::new(&def)),
        def,
    });
    let counters = Arc::new(ScopeCounters::new(&policy.def));
    Binding::new(policy, counters, "api-1\nRELEASE", Box::new([]))
}

fn bench_policy_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_check");
    group.throughput(Throughput::Elements(1));
    let raw = "GET /v1/orders HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: wrk\r\n\r\n";
    let limits = HeadLimits {
        max_uri_bytes: 32 * 1024,
        max_header_bytes: 32 * 1024,
        max_headers_total_bytes: 128 * 1024,
        max_body_bytes: 12 * 1024 * 1024,
    };
    let head = parse_request(&mut BytesMut::from(raw), &limits)
        .unwrap()
        .unwrap();
    let route = RouteMatch {
        group: 0,
        stage: 0,
        api: 0,
        params: Default::default(),
        remainder: None,
    };
    let ips: Vec<(std::net::IpAddr, Vec<u8>)> = (0..256u32)
        .map(|i| {
            let ip = std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            (ip, ip.to_string().into_bytes())
        })
        .collect();
    let b = binding();
    let all_stages = Counter::default();
    let default = Limit {
        max: LIMIT,
        period: Period::SECOND,
    };
    let mut shard = Shard::default();
    let mut i = 0u64;
    group.bench_function("tollgate/api_ip", |bench| {
        bench.iter(|| {
            i += 1;
            let (ip, text) = &ips[(i % 256) as usize];
            let facts = Facts {
                head: &head,
                route: &route,
                identity: &Identity::ANONYMOUS,
                source: *ip,
                source_text: text,
            };
            let mut t = Throttle {
                shard: &mut shard,
                workers: 1,
                now_ms: BASE_MS + i / 1000,
                debug: false,
            };
            black_box(
                t.check(Some((&all_stages, default)), Some(&b), &facts)
                    .admitted,
            )
        })
    });

    let quota = Quota::per_second(NonZeroU32::new(LIMIT as u32).unwrap());
    let api_limiter = RateLimiter::direct(quota);
    let ip_limiter = RateLimiter::keyed(quota);
    let mut i = 0u64;
    group.bench_function("governor/api_ip", |bench| {
        bench.iter(|| {
            i += 1;
            let (ip, _) = &ips[(i % 256) as usize];
            black_box(api_limiter.check().is_ok() && ip_limiter.check_key(ip).is_ok())
        })
    });
    group.finish();
}

/// Private, so the `pub fn` the macro writes needs no doc comment.
mod group {
    criterion::criterion_group!(benches, super::bench_throttle, super::bench_policy_check);
}
criterion_main!(group::benches);
