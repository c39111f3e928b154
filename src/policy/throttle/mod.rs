//! Request throttling (behaviour.md §13–§14): limits that hold for the
//! whole gateway while the request path takes no lock.
//!
//! # What is limited
//!
//! - An API with no policy bound in the stage has the **default limit**
//!   across all its stages (`settings.default_api_rate_limit`, 200 per
//!   second, §13.2 "APIs with no policy bound", §14.1, §2 step 12),
//!   reported as `X-Apig-RateLimit-Api-Allenv`. A bound policy replaces
//!   it, so a policy above 200/s is not silently capped.
//! - A **classic policy** (`[[throttle]]`, §13) bound to an API in a stage
//!   adds its API limit (per API, or one budget for all bound APIs of the
//!   stage when `type = "shared"`), and optional user, app and IP limits.
//!   The user dimension is the caller's tenant (§27 C16): a token's
//!   tenant claim (else its account, else its user), an app's `tenant` (apps without one
//!   share the gateway owner's tenant). An excluded tenant's
//!   threshold replaces the user limit for that tenant; an excluded app's
//!   replaces the app limit for that app; the other limits still apply
//!   (§13.3).
//! - A **2.0 policy** (`[[throttle2]]`, §14) bound in the same stage
//!   replaces the classic one. It has the same basic limits and special
//!   apps and tenants, plus parameter rules: AND/OR condition trees over
//!   headers, path and query parameters, the method and system
//!   variables. The first rule whose condition holds limits the request,
//!   counted per rule or per distinct `key_by` value (§14.5).
//!
//! A request passes every limit that applies, checked in that order
//! ([`check`]); the first refusal answers 429 APIG.0308 through the
//! group's THROTTLED response, and permits taken for the request are
//! given back, so refused requests do not consume quota.
//!
//! # The algorithm
//!
//! A sliding-window counter ([`window`]): fixed windows aligned to the
//! Unix epoch, the previous window's count weighted by how much of it the
//! sliding window still covers. The module doc of [`window`] lists the
//! behaviour at window edges; `tests/throttling.rs` drives them over a
//! [`crate::clock::ManualClock`]. Time is [`crate::clock::Clock::unix_ms`]:
//! one wall-clock origin read once and advanced by the monotonic clock, so
//! all workers agree on window numbers and a wall-clock step cannot reset
//! a window.
//!
//! # Across cores
//!
//! Each limited key has one [`global::Counter`]: two `AtomicU64`s, shared
//! by all workers (on its own cache line where it is a fixed key). Workers
//! do not write it per request. Each worker keeps a [`shard::Shard`] of
//! **leases**: it takes up to `max(1, limit / (100 · W))` permits at once
//! with one compare-exchange and spends them from its own memory; a
//! per-key table is probed only when a lease runs out. When the counter
//! refuses, the worker remembers until when a whole lease can open and
//! refuses locally until then. So a key's counter is written about once
//! per lease (at most twice while the budget trickles open under
//! overload, see `shard`), and refused requests never write it; the
//! common path is a hash lookup in the core's own map. No `Mutex` or
//! `RwLock` anywhere.
//!
//! **The bound.** With W workers driving one key at limit L with demand
//! above L, each window admits between `0.99 · L` and `L + W`:
//! - at most W leases of at most `L / (100 · W)` permits are stranded
//!   unspent when a window ends, so at least `L − L/100` are spent;
//! - grants never exceed the budget, so at most L are granted per window;
//!   a request whose worker read the time just before a boundary is still
//!   judged in the old window, one per worker, hence `+ W`.
//!
//! The unit test `shard::two_cores_at_the_limit_admit_within_the_bound`
//! simulates it and `tests/throttling.rs` checks it on two real workers.
//!
//! **Trade-offs.** Leasing makes small limits exact (a lease of 1 is a
//! grant per request) and large limits cheap. Permits leased but unspent
//! are counted as used: a worker that stops receiving a key's requests
//! strands at most one lease (≤ 1 % of L over all workers). `remain` in
//! the debug headers reads the shared budget plus this worker's own lease,
//! so it reads low by at most the other workers' leases.
//!
//! # Memory
//!
//! Keys fixed by configuration (an API in a stage, a special app or
//! tenant, a rule without `key_by`) get their own counters at load.
//! Keys of unbounded cardinality (tenants, apps, client IPs, `key_by`
//! values) live in one fixed-size [`table::KeyTable`] per dimension per
//! policy (`key_slots`, default 65 536 slots of 24 bytes). A slot is
//! reused only when its key was idle for two windows; a busy key — one
//! under attack — keeps its count however many new keys arrive, and
//! newcomers that find no free slot share an overflow counter
//! (see [`table`] for the eviction policy). A table serves every API a
//! policy is bound to, but the overflow count is each scope's own (an
//! API in a stage; a stage for an API-shared policy): a flood on one API
//! fills the slots, yet newcomers on another API of an API-based policy
//! are not limited together with the flood. Requests that found a table
//! full are counted as `throttle_overflows` and warned about at shutdown:
//! size
//! `key_slots` for the keys active in two periods. All tables
//! together are capped at 1 GiB by `tollgate check`. Each worker's lease
//! map is bounded too ([`shard`]): leases of finished windows go first,
//! then per-key leases; fixed keys' leases are kept.
//!
//! # Reload
//!
//! Counters live in `Arc`s beside the snapshot, not in it: a
//! [`policy::Policy`]'s tables and each binding's scope counters.
//! `control::compile::compile_with` takes a `ThrottleCarry` from the old
//! snapshot and keeps the counters of every policy whose definition is
//! unchanged (and of every API's default limit), so a reload that does
//! not touch a policy does not reset it. Leases are keyed by counter
//! address, so a worker must clear its shard when it swaps snapshots.

pub mod check;
pub mod global;
pub mod policy;
pub mod shard;
pub mod table;
pub mod window;
