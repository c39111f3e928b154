//! Request throttling (behaviour.md §13–§14): limits that hold for the
//! whole gateway while the request path takes no lock.
//!
//! - [`window`]: the sliding-window algorithm, alone.
//! - [`global`]: the cross-core counters, atomics only.
//! - [`shard`]: each core's leases on those counters.
//! - [`table`]: bounded tables of counters for keys of unbounded
//!   cardinality (IP, user, parameter value), with the eviction policy.

pub mod global;
pub mod shard;
pub mod table;
pub mod window;
