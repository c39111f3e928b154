//! One throttle check (behaviour.md §13–§14), Tollgate's leased sliding
//! window side by side with the `governor` crate's GCRA, uncontended and
//! with a second thread hammering the same key. Limit 1 000 000 per second,
//! time advancing 1 ms per 1 000 checks (demand at the limit).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench code

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_main};
use governor::{Quota, RateLimiter};
use tollgate::policy::throttle::global::Counter;
use tollgate::policy::throttle::shard::Shard;

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

    // A second thread drives the same key while this one is measured.
    let counter = Arc::new(Counter::default());
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        let (c2, stop2) = (Arc::clone(&counter), Arc::clone(&stop));
        s.spawn(move || {
            let mut shard = Shard::default();
            let mut j = 0u64;
            while !stop2.load(Ordering::Relaxed) {
                j += 1;
                black_box(ours(&mut shard, &c2, 2, j));
            }
        });
        let mut shard = Shard::default();
        let mut i = 0u64;
        group.bench_function("tollgate/two_threads_same_key", |b| {
            b.iter(|| {
                i += 1;
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

/// Private, so the `pub fn` the macro writes needs no doc comment.
mod group {
    criterion::criterion_group!(benches, super::bench_throttle);
}
criterion_main!(group::benches);
