//! STAGE record: per-core metrics (single-writer counters, no atomics).

pub mod metrics;

pub use metrics::Metrics;
